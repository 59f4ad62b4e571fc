/**
 * A real nginx (Debian's package) for tests, not the system service: the repository's site config
 * (deploy/nginx/sos-gateway.conf) rendered with the test's ports and paths, inside a minimal main
 * config whose pid file, logs and temp folders all live in the test's own folder.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, readFileSync, watch } from "node:fs";
import { writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const SITE_TEMPLATE = new URL("../../deploy/nginx/sos-gateway.conf", import.meta.url);

export type NginxSite = {
  readonly serverName: string;
  readonly httpListen: string;
  readonly httpsListen: string;
  readonly cert: string;
  readonly key: string;
  /** The gateway's plain-http address, host:port. */
  readonly gateway: string;
};

/** The site config as an admin fills it in: every {{PLACEHOLDER}} replaced, none left. */
export function renderSite(site: NginxSite): string {
  const values: Record<string, string> = {
    SERVER_NAME: site.serverName,
    HTTP_LISTEN: site.httpListen,
    HTTPS_LISTEN: site.httpsListen,
    CERT: site.cert,
    KEY: site.key,
    GATEWAY: site.gateway,
  };
  const text = readFileSync(SITE_TEMPLATE, "utf8").replace(/\{\{([A-Z_]+)\}\}/g, (whole, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`no value for ${whole}`);
    return value;
  });
  return text;
}

/**
 * A port nobody listens on right now (the OS picks it; released at once). nginx must be told its
 * port in its config, and the gateway's public URL must name it before either starts.
 */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export type RunningNginx = {
  readonly process: ChildProcess;
  /** nginx's error log so far. */
  errors(): string;
  /** SIGQUIT (graceful), then waits for the exit; safe to call twice. */
  stop(): Promise<void>;
};

/** Checks the config with `nginx -t`, starts nginx in the foreground, resolves once it listens. */
export async function startNginx(dir: string, site: NginxSite): Promise<RunningNginx> {
  const siteFile = join(dir, "sos-gateway.conf");
  await writeFile(siteFile, renderSite(site));
  const pidFile = join(dir, "nginx.pid");
  const errorLog = join(dir, "error.log");
  const temp = (name: string) => `${name}_temp_path ${join(dir, name)};`;
  const main = [
    "daemon off;",
    // The tests run as root; the workers may read the test's folder as the master does.
    "user root;",
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
