import { spawn } from "node:child_process";

/**
 * Runs `sos-gateway` as the README starts it (`node signaling/cli.ts`), stops it with SIGTERM once
 * it says it is ready, and resolves with its exit code and output.
 */
export function runGateway(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, ["signaling/cli.ts", ...args], {
    env: { ...process.env, SOS_LOG_LEVEL: "silent", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  let stopping = false;
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
    // Once: a second SIGTERM (more output while it shuts down) would kill it before it exits.
    if (!stopping && stdout.includes("SOS gateway ready")) {
      stopping = true;
      child.kill("SIGTERM");
    }
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.once("exit", (code) => resolve({ code, stdout, stderr })),
  );
}

/** Runs `sos-gateway <args>` (a command that ends by itself, e.g. backup) and resolves with its exit code and output. */
export function runGatewayCommand(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ["signaling/cli.ts", ...args], {
    env: { ...process.env, SOS_LOG_LEVEL: "silent", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.once("close", (code) => resolve({ code, stdout, stderr })),
  );
}

/**
 * Starts `sos-gateway <args>` and keeps it running: `waitFor(pattern)` resolves with the first
 * match in its stdout; `stop()` sends SIGTERM and resolves with the exit code.
 */
export function startGatewayProcess(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ["signaling/cli.ts", ...args], {
    env: { ...process.env, SOS_LOG_LEVEL: "silent", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  const waiters: Array<{ pattern: RegExp; resolve: (match: RegExpExecArray) => void }> = [];
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const waiter of [...waiters]) {
      const match = waiter.pattern.exec(stdout);
      if (match !== null) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(match);
      }
    }
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return {
    waitFor(pattern: RegExp): Promise<RegExpExecArray> {
      const match = pattern.exec(stdout);
      if (match !== null) return Promise.resolve(match);
      return new Promise((resolve, reject) => {
        waiters.push({ pattern, resolve });
        void exited.then((code) => reject(new Error(`sos-gateway exited ${code}: ${stderr}`)));
      });
    },
    async stop(): Promise<number | null> {
      child.kill("SIGTERM");
      return exited;
    },
    /** Kills it at once (SIGKILL: no shutdown of any kind) and resolves once it is gone. */
    async kill(): Promise<void> {
      child.kill("SIGKILL");
      await exited;
    },
  };
}
