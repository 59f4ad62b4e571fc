/**
 * nginx (Debian's package) run in the foreground from a folder of its own, not the system service:
 * a minimal main config whose pid file, logs and temp folders all live in `dir`, including one
 * site config. Used by `npm run cluster` (scripts/cluster.ts) and the tests (tests/helpers/nginx.ts).
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, readFileSync, watch } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export type RunningNginx = {
  readonly process: ChildProcess;
  /** nginx's error log so far. */
  errors(): string;
  /** SIGQUIT (graceful), then waits for the exit; safe to call twice. */
  stop(): Promise<void>;
};

/** Checks the config with `nginx -t`, starts nginx in the foreground, resolves once it listens. */
export async function startNginx(dir: string, site: string): Promise<RunningNginx> {
  const siteFile = join(dir, "site.conf");
  await writeFile(siteFile, site);
  const pidFile = join(dir, "nginx.pid");
  const errorLog = join(dir, "error.log");
  const temp = (name: string) => `${name}_temp_path ${join(dir, name)};`;
  const main = [
    "daemon off;",
    // Run as root (the tests), the workers may read and write this folder as the master does.
    ...(process.getuid?.() === 0 ? ["user root;"] : []),
    "worker_processes 1;",
    `pid ${pidFile};`,
    `error_log ${errorLog} info;`,
    "events { worker_connections 512; }",
    "http {",
    `  access_log ${join(dir, "access.log")};`,
    `  ${["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map(temp).join("\n  ")}`,
    `  include ${siteFile};`,
    "}",
  ].join("\n");
  const mainFile = join(dir, "nginx.conf");
  await writeFile(mainFile, `${main}\n`);
  const args = ["-p", dir, "-c", mainFile, "-e", errorLog];
  await run("nginx", ["-t", "-q", ...args]);
  const pidWritten = new Promise<void>((resolve) => {
    // nginx writes its pid file once its listening sockets are open.
    const watcher = watch(dir, () => {
      if (existsSync(pidFile)) {
        watcher.close();
        resolve();
      }
    });
  });
  const child = spawn("nginx", args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  let listening = false;
  await Promise.race([
    pidWritten.then(() => {
      listening = true;
    }),
    exited.then(() => {
      if (!listening) throw new Error(`nginx exited at start: ${stderr}`);
    }),
  ]);
  let stopped: Promise<void> | undefined;
  return {
    process: child,
    errors: () => (existsSync(errorLog) ? readFileSync(errorLog, "utf8") : ""),
    stop() {
      stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGQUIT");
        await exited;
      })();
      return stopped;
    },
  };
}
