/**
 * The parts of a support session in network namespaces that no-third-party.test.ts and
 * path-lost.test.ts share (needs root): the real gateway in one host's namespace, and the real
 * `sos` agent in another, on an Xvfb display started outside the namespaces (X clients reach it
 * through its socket file, which is not tied to a network namespace), as relay-session.test.ts
 * runs them.
 */
import type { ChildProcess } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { Test } from "tap";
import type { TestNetwork } from "../helpers/netns.ts";
import type { Xvfb } from "../helpers/xvfb.ts";

/** Resolves with the first line of `child`'s stdout matching `pattern`; rejects if it exits first. */
export function lineOf(child: ChildProcess, pattern: RegExp, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let stderr = "";
    child.stderr?.on("data", (data: Buffer) => {
      stderr += data.toString();
    });
    if (child.stdout === null) return reject(new Error(`${what}: no stdout`));
    createInterface({ input: child.stdout }).on("line", (line) => {
      if (pattern.test(line)) resolve(line);
    });
    child.once("exit", (code) => reject(new Error(`${what} exited (${code}) first: ${stderr}`)));
  });
}

export type Admin = { readonly email: string; readonly password: string; readonly name: string };

/**
 * The real gateway as an admin starts it, inside `host`'s namespace, with `admin` as its first
 * admin and no ICE servers unless `extra` names some; resolves with its URL once it is ready.
 */
export async function startGatewayIn<H extends string>(
  net: TestNetwork<H>,
  host: H,
  options: { dir: string; port: number; admin: Admin; extra?: readonly string[] },
): Promise<{ url: string; child: ChildProcess }> {
  const address = net.hosts[host].ipv4;
  const url = `http://${address}:${options.port}`;
  const child = net.spawn(
    host,
    process.execPath,
    [
      "signaling/cli.ts",
      "--host",
      address,
      "--port",
      String(options.port),
      "--data-dir",
      join(options.dir, `gateway-${options.port}`),
      "--public-url",
      url,
      "--log-level",
      "warn",
      ...(options.extra ?? []),
    ],
    {
      env: {
        ...process.env,
        SOS_ADMIN_EMAIL: options.admin.email,
        SOS_ADMIN_PASSWORD: options.admin.password,
        SOS_ADMIN_NAME: options.admin.name,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  await lineOf(child, /^SOS gateway ready/, `gateway on ${options.port}`);
  return { url, child };
}

/** One line of the agent's log (pino JSON on its stderr). */
export type LogEntry = { readonly msg?: unknown; readonly [key: string]: unknown };

export type AgentRun = {
  readonly child: ChildProcess;
  /** Its stdout lines so far (what the end user reads). */
  readonly lines: readonly string[];
  /** What it printed so far (stdout lines, then stderr), for a failing test's comment. */
  output(): string;
  /** The first stdout line matching `pattern` (now or later). */
  line(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** The first log entry (stderr, JSON) for which `matches` holds (now or later). */
  log(matches: (entry: LogEntry) => boolean, what: string, timeoutMs?: number): Promise<LogEntry>;
  readonly exited: Promise<number | null>;
};

/**
 * The real `sos` agent in `host`'s namespace joining by PIN, logging at debug level; stdin answers
 * the consent question. Killed at the end of `t` if still running.
 */
export function runAgentIn<H extends string>(
  t: Test,
  net: TestNetwork<H>,
  host: H,
  options: { xvfb: Xvfb; gatewayUrl: string; pin: string },
): AgentRun {
  const child = net.spawn(
    host,
    process.execPath,
    ["agent/cli.ts", options.pin, "--gateway", options.gatewayUrl, "--log-level", "debug"],
    {
      env: { ...options.xvfb.env, LANG: "C.UTF-8", LC_ALL: "", LC_MESSAGES: "", SOS_GATEWAY: "" },
      stdio: ["pipe", "pipe", "pipe"],
    },
  );
  const lines: string[] = [];
  const logs: LogEntry[] = [];
  let stderr = "";
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const waiter of waiters) waiter();
  };
  if (child.stdout !== null) {
    createInterface({ input: child.stdout }).on("line", (line) => {
      lines.push(line);
      wake();
    });
  }
  if (child.stderr !== null) {
    createInterface({ input: child.stderr }).on("line", (line) => {
      stderr += `${line}\n`;
      try {
        const entry: unknown = JSON.parse(line);
        if (typeof entry === "object" && entry !== null) logs.push(entry as LogEntry);
      } catch {
        // not a log entry (a warning from Node): kept in `stderr` only
      }
      wake();
    });
  }
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await exited;
    }
  });
  const output = () => `${lines.join("\n")}\n${stderr}`;
  function waitFor<T>(find: () => T | undefined, what: string, timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = find();
        if (found === undefined) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve(found);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`agent: no ${what} in ${timeoutMs} ms; output:\n${output()}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  }
  return {
    child,
    lines,
    output,
    exited,
    line: (pattern, timeoutMs = 30_000) =>
      waitFor(() => lines.find((line) => pattern.test(line)), `line ${pattern}`, timeoutMs),
    log: (matches, what, timeoutMs = 30_000) =>
      waitFor(() => logs.find(matches), `log entry: ${what}`, timeoutMs),
  };
}
