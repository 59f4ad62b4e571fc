/**
 * A local PostgreSQL of the gateway's own, from Debian's `postgresql` package: a cluster in a
 * directory of its own (never the system cluster), listening on 127.0.0.1 only, with a password.
 * Used by `npm run postgres` and by the test command. Layout of `dir`:
 *   cluster/     the data directory (initdb), owned by the user the server runs as
 *   run/         its Unix socket and lock file
 *   server.log   the server's log
 *   state.json   port and password, so a second start finds the running server (mode 0600)
 */
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";

export type LocalPostgres = { dir: string; port: number; url: string };

/** The superuser the gateway connects as. */
const USER = "sos";

/** The newest installed server's bin directory (Debian: /usr/lib/postgresql/<major>/bin). */
function binDir(): string {
  const root = "/usr/lib/postgresql";
  const majors = existsSync(root)
    ? readdirSync(root)
        .filter((name) => existsSync(join(root, name, "bin", "pg_ctl")))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const major = majors[0];
  if (major === undefined) {
    throw new Error(
      "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/pg_ctl): run scripts/setup-system.sh",
    );
  }
  return join(root, major, "bin");
}

/** initdb and pg_ctl refuse to run as root: as root the server runs as Debian's `postgres` user. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }).trim());
  try {
    return { uid: id("-u"), gid: id("-g") };
  } catch {
    throw new Error("running as root needs the postgres user of Debian's postgresql package");
  }
}

/** Runs a server tool, as the server's user when we are root; throws with its output on failure. */
function tool(name: string, args: readonly string[]): string {
  const user = serverUser();
  const path = join(binDir(), name);
  const result =
    user === undefined
      ? spawnSync(path, args, { encoding: "utf8" })
      : spawnSync("runuser", ["-u", "postgres", "--", path, ...args], { encoding: "utf8" });
  if (result.error !== undefined) throw new Error(`${name}: ${result.error.message}`);
  if (result.status !== 0) {
    throw new Error(`${name} failed (exit ${result.status}): ${(result.stderr || result.stdout).trim()}`);
  }
  return result.stdout;
}

/** As root the server runs as `postgres`: every folder above its directory must let it pass. */
function reachable(root: string): void {
  for (let dir = dirname(root); ; dir = dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) {
      throw new Error(
        `the postgres user cannot reach ${root}: ${dir} is not searchable by others (chmod o+x)`,
      );
    }
    if (dir === dirname(dir)) return;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

type State = { port: number; password: string };

function readState(dir: string): State | undefined {
  const path = join(dir, "state.json");
  if (!existsSync(path)) return undefined;
  const value: unknown = JSON.parse(readFileSync(path, "utf8"));
  if (
    typeof value === "object" &&
    value !== null &&
    "port" in value &&
    typeof value.port === "number" &&
    "password" in value &&
    typeof value.password === "string"
  ) {
    return { port: value.port, password: value.password };
  }
  throw new Error(`${path} is not a state file of scripts/postgres.ts`);
}

function urlOf(state: State): string {
  return `postgres://${USER}:${state.password}@127.0.0.1:${state.port}/postgres`;
}

/** Whether the cluster in `dir` is running (pg_ctl status). */
export function isRunning(dir: string): boolean {
  const cluster = join(resolve(dir), "cluster");
  if (!existsSync(join(cluster, "PG_VERSION"))) return false;
  try {
    tool("pg_ctl", ["status", "-D", cluster]);
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts the cluster in `dir` (made with initdb on first use) and returns its URL; when it is
 * already running, returns the URL it runs on. `port` 0 picks a free one (on first start; a
 * later start reuses the port of the state file unless given another). `fast` turns off fsync:
 * for throwaway test clusters only, never for data that matters.
 */
export async function startPostgres(
  dir: string,
  options: { port?: number; fast?: boolean } = {},
): Promise<LocalPostgres> {
  const root = resolve(dir);
  const cluster = join(root, "cluster");
  const run = join(root, "run");
  const user = serverUser();
  mkdirSync(root, { recursive: true, mode: 0o700 });
  if (user !== undefined) reachable(root);
  let state = readState(root);
  if (state !== undefined && isRunning(root)) return { dir: root, port: state.port, url: urlOf(state) };

  if (!existsSync(join(cluster, "PG_VERSION"))) {
    const password = randomBytes(18).toString("base64url");
    mkdirSync(cluster, { recursive: true, mode: 0o700 });
    mkdirSync(run, { recursive: true, mode: 0o700 });
    const pwfile = join(root, "initdb-password");
    writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
    if (user !== undefined) {
      for (const path of [root, cluster, run, pwfile]) chownSync(path, user.uid, user.gid);
    }
    try {
      tool("initdb", [
        "-D",
        cluster,
        "-U",
        USER,
        `--pwfile=${pwfile}`,
        "--auth=scram-sha-256",
        "--encoding=UTF8",
        "--locale=C.UTF-8",
      ]);
    } finally {
      writeFileSync(pwfile, "");
    }
    state = { port: 0, password };
  }
  if (state === undefined) throw new Error(`${root}/state.json is missing: remove ${root} to start afresh`);
  const port = options.port ?? (state.port === 0 ? await freePort() : state.port);
  state = { ...state, port };
  writeFileSync(join(root, "state.json"), JSON.stringify(state), { mode: 0o600 });
  chmodSync(join(root, "state.json"), 0o600);

  const settings = [
    `-p ${port}`,
    "-c listen_addresses=127.0.0.1",
    `-c unix_socket_directories=${run}`,
    "-c max_connections=300",
    ...(options.fast === true
      ? ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
      : []),
  ];
  const log = join(root, "server.log");
  if (user !== undefined && !existsSync(log)) {
    writeFileSync(log, "");
    chownSync(log, user.uid, user.gid);
  }
  try {
    tool("pg_ctl", ["start", "-D", cluster, "-w", "-t", "60", "-l", log, "-o", settings.join(" ")]);
  } catch (error) {
    const tail = existsSync(log) ? readFileSync(log, "utf8").trim().split("\n").slice(-5).join("\n") : "";
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${tail}`);
  }
  return { dir: root, port, url: urlOf(state) };
}

/** Stops the cluster in `dir` (fast shutdown: open connections are closed). Safe when stopped. */
export function stopPostgres(dir: string): void {
  const root = resolve(dir);
  if (!isRunning(root)) return;
  tool("pg_ctl", ["stop", "-D", join(root, "cluster"), "-m", "fast", "-w", "-t", "60"]);
}

/** The URL of the cluster in `dir`, running or not (undefined before its first start). */
export function urlOfCluster(dir: string): string | undefined {
  const state = readState(resolve(dir));
  return state === undefined || state.port === 0 ? undefined : urlOf(state);
}
