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
