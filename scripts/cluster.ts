/**
 * `npm run cluster -- [--instances 2] [--port 8080]`: several gateway instances on one local
 * PostgreSQL behind nginx, in the foreground, to try what docs/deploy-scale.md describes.
 *   - PostgreSQL: `npm run postgres`'s cluster (data/postgres; started if it is not running), or
 *     the database of --database-url / SOS_DATABASE_URL;
 *   - N gateways on free loopback ports, each with its own data folder under --dir, the same
 *     database, --public-url http://localhost:<port> and --trust-proxy 127.0.0.1, started one
 *     after the other (on an empty database each start issues a new setup link: the last is valid,
 *     and is printed again at the end);
 *   - nginx (deploy/nginx/sos-cluster.conf) balancing over them on 127.0.0.1:<port>.
 * Their output is shown with the instance's number in front. It prints each instance's pid: kill
 * one (`kill -9 <pid>`) and its agents and consoles come back through nginx on another one.
 * Ctrl-C stops the gateways and nginx; PostgreSQL keeps running (`npm run postgres -- stop`).
 * Exit codes: 0 stopped by Ctrl-C or SIGTERM, 1 could not start (the reason is printed), 2 bad options.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import { type RunningNginx, startNginx } from "./nginx-process.ts";
import { startPostgres } from "./postgres-process.ts";

const SITE_TEMPLATE = new URL("../deploy/nginx/sos-cluster.conf", import.meta.url);
const CLI = new URL("../signaling/cli.ts", import.meta.url).pathname;

function whole(min: number, max: number, name: string) {
  return (value: string): number => {
    const parsed = Number(value);
    if (Number.isInteger(parsed) && parsed >= min && parsed <= max) return parsed;
    throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}, not ${value}`);
  };
}

const program = new Command("cluster")
  .description("Several gateway instances on one local PostgreSQL behind nginx.")
  .option("--instances <n>", "how many gateway instances", whole(1, 9, "--instances"), 2)
  .option("--port <port>", "where nginx listens on 127.0.0.1", whole(1, 65_535, "--port"), 8080)
  .option("--dir <dir>", "the instances' data folders and nginx's", "data/cluster")
  .option("--postgres-dir <dir>", "the PostgreSQL cluster's folder (npm run postgres --dir)", "data/postgres")
  .addOption(
    new Option("--database-url <url>", "use this database instead of starting npm run postgres's").env(
      "SOS_DATABASE_URL",
    ),
  )
  .exitOverride((error) => {
    process.exit(error.exitCode === 0 ? 0 : 2);
  });
program.parse();
const options = program.opts<{
  instances: number;
  port: number;
  dir: string;
  postgresDir: string;
  databaseUrl?: string;
}>();

/** A port nobody listens on right now (the OS picks it; released at once). */
function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

type Instance = { n: number; port: number; child: ChildProcess; ready: Promise<void> };

const instances: Instance[] = [];
let nginx: RunningNginx | undefined;
let stopping = false;
/** The setup link the last instance printed (an empty database): the one that is valid. */
let setupLink: string | undefined;

/** Starts gateway n, its output prefixed; `ready` resolves once it listens. */
function startInstance(n: number, port: number, databaseUrl: string): Instance {
  const dataDir = resolve(options.dir, `instance-${n}`);
  mkdirSync(dataDir, { recursive: true });
  const child = spawn(
    process.execPath,
    [CLI, "--host", "127.0.0.1", "--port", String(port), "--data-dir", dataDir, "--trust-proxy", "127.0.0.1"],
    {
      env: {
        ...process.env,
        SOS_DATABASE_URL: databaseUrl,
        SOS_PUBLIC_URL: `http://localhost:${options.port}`,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const ready = new Promise<void>((done, fail) => {
    let seen = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      seen += chunk.toString();
      setupLink = /\S+\/setup\?token=\S+/.exec(seen)?.[0] ?? setupLink;
      if (seen.includes("SOS gateway ready")) done();
    });
    child.once("exit", (code, signal) =>
      fail(new Error(`instance ${n} exited (${signal ?? code}) at start`)),
    );
  });
  // Unhandled when it started fine and is killed later (the exit is reported below).
  ready.catch(() => undefined);
  const prefix = (stream: NodeJS.WritableStream) => (chunk: Buffer) => {
    for (const line of chunk.toString().split("\n")) if (line !== "") stream.write(`[${n}] ${line}\n`);
  };
  child.stdout?.on("data", prefix(process.stdout));
  child.stderr?.on("data", prefix(process.stderr));
  child.once("exit", (code, signal) => {
    if (!stopping) process.stdout.write(`[${n}] exited (${signal ?? `code ${code}`}); the others carry on\n`);
  });
  return { n, port, child, ready };
}

async function stop(code: number): Promise<never> {
  stopping = true;
  const exits = instances
    .filter((instance) => instance.child.exitCode === null && instance.child.signalCode === null)
    .map((instance) => {
      const exited = new Promise<void>((done) => instance.child.once("exit", () => done()));
      instance.child.kill("SIGTERM");
      return exited;
    });
  await Promise.all([...exits, nginx?.stop()]);
  process.exit(code);
}

try {
  const postgres =
    options.databaseUrl === undefined
      ? await startPostgres(options.postgresDir)
      : { url: options.databaseUrl, dir: undefined };
  const ports: number[] = [];
  for (let n = 1; n <= options.instances; n += 1) ports.push(await freePort());
  for (const [i, port] of ports.entries()) {
    const instance = startInstance(i + 1, port, postgres.url);
    instances.push(instance);
    await instance.ready;
  }

  const nginxDir = resolve(options.dir, "nginx");
  mkdirSync(nginxDir, { recursive: true });
  const servers = ports.map((port) => `    server 127.0.0.1:${port} max_fails=1 fail_timeout=5s;`).join("\n");
  const site = readFileSync(SITE_TEMPLATE, "utf8")
    .replaceAll("{{LISTEN}}", `127.0.0.1:${options.port}`)
    .replaceAll("{{SERVERS}}", servers);
  nginx = await startNginx(nginxDir, site);
  process.stdout.write(
    [
      `SOS cluster ready: http://localhost:${options.port}/ through nginx (${join(options.dir, "nginx")})`,
      ...instances.map((i) => `  instance ${i.n}: 127.0.0.1:${i.port}, pid ${i.child.pid}`),
      ...(setupLink === undefined ? [] : [`  no admin yet: create the first one at ${setupLink}`]),
      postgres.dir === undefined
        ? "  PostgreSQL: the database of --database-url"
        : `  PostgreSQL: ${postgres.dir} (keeps running after Ctrl-C: npm run postgres -- stop)`,
      "",
    ].join("\n"),
  );
} catch (error) {
  process.stderr.write(`cluster: ${error instanceof Error ? error.message : String(error)}\n`);
  await stop(1);
}
process.once("SIGINT", () => void stop(0));
process.once("SIGTERM", () => void stop(0));
