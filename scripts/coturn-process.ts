/**
 * Runs coturn (`turnserver`) with a config from coturn-config.ts: writes the files into a folder,
 * makes a TLS certificate, starts the process (optionally inside a network namespace), resolves once
 * every listener is open, and stops it. Shared by `npm run turn` and the relay tests.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { createCa, issueCertificate } from "./certificates.ts";
import { type CoturnOptions, coturnConfig } from "./coturn-config.ts";

export type TurnCertificate = {
  /** The throwaway CA that signed the server certificate: trust it in clients (NODE_EXTRA_CA_CERTS, certutil). */
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
};

/**
 * A throwaway CA and a server certificate it signs, for the given DNS names and IP addresses.
 * (Chromium refuses a bare self-signed certificate on a `turns:` server; a CA it is told to trust works.)
 */
export async function makeTurnCertificate(
  dir: string,
  names: { readonly dns: readonly string[]; readonly ips: readonly string[] },
): Promise<TurnCertificate> {
  const ca = await createCa(dir, "SOS test TURN CA");
  const { certFile, keyFile } = await issueCertificate(ca, dir, "turn", names);
  return { caFile: ca.certFile, certFile, keyFile };
}

export type RunningCoturn = {
  readonly process: ChildProcess;
  readonly configFile: string;
  /** Everything coturn printed so far (it logs to stdout). */
  log(): string;
  /** SIGTERM, then waits for the exit; safe to call twice. */
  stop(): Promise<void>;
};

export type StartCoturnOptions = {
  readonly dir: string;
  readonly config: CoturnOptions;
  /** Run inside this network namespace (`ip netns exec`). */
  readonly netns?: string;
  /** Copy coturn's output here as it comes (e.g. process.stderr). */
  readonly echo?: NodeJS.WritableStream;
  readonly readyTimeoutMs?: number;
  /** coturn's `--verbose`: a log line per allocation, permission and refusal. */
  readonly verbose?: boolean;
};

/**
 * Starts coturn and resolves when it is ready: coturn prints "Total General servers: N" once every
 * general server has opened its UDP, TCP and TLS listeners (4.x; checked with Debian's 4.6.1).
 */
export async function startCoturn(options: StartCoturnOptions): Promise<RunningCoturn> {
  const configFile = join(options.dir, "turnserver.conf");
  await writeFile(configFile, coturnConfig({ ...options.config, logFile: "stdout" }), { mode: 0o600 });
  const command = ["turnserver", "-c", configFile, ...(options.verbose === true ? ["--verbose"] : [])];
  const argv = options.netns ? ["ip", "netns", "exec", options.netns, ...command] : command;
  const [file, ...args] = argv as [string, ...string[]];
  const child = spawn(file, args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  let exited = false;
  // "close" comes after "exit", and also after a spawn that failed ("error" without "exit").
  const exit = new Promise<void>((resolve) => {
    child.once("close", () => {
      exited = true;
      resolve();
    });
  });
  const timeoutMs = options.readyTimeoutMs ?? 10_000;
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`coturn was not ready within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const onLine = (line: string) => {
      output += `${line}\n`;
      options.echo?.write(`${line}\n`);
      if (/Total General servers: \d+/.test(line)) {
        clearTimeout(timer);
        resolve();
      }
    };
    for (const stream of [child.stdout, child.stderr]) createInterface({ input: stream }).on("line", onLine);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`coturn exited (${code ?? signal}) before it was ready:\n${output}`));
    });
  });
  const stop = async () => {
    if (!exited) child.kill("SIGTERM");
    await exit;
  };
  try {
    await ready;
  } catch (error) {
    await stop();
    throw error;
  }
  return { process: child, configFile, log: () => output, stop };
}
