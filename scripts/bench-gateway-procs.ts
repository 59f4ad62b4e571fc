/**
 * bench:gateway's server processes: gateways (SQLite or PostgreSQL) and the PeerJS server, each a
 * child of its own run through bench-child.ts, whose memory and heap the bench reads over IPC.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, rmSync } from "node:fs";
import { createInterface } from "node:readline";
import { ApiClient } from "../tests/helpers/clients.ts";
import type { ChildMemory, ChildRequest } from "./bench-child.ts";
import type { IdleAnswer, IdleRequest } from "./bench-idle-clients.ts";

export const ADMIN = { email: "bench@example.test", password: "bench-password-1" };

export type Server = {
  readonly child: ChildProcess;
  /** http://127.0.0.1:<port> */
  readonly url: string;
  memory(): Promise<ChildMemory & { fds: number }>;
  heapSnapshot(path: string): Promise<string>;
  stop(): Promise<void>;
};

export type Gateway = Server & { readonly admin: ApiClient };

const running = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/** One request at a time per child: answers come back in order. */
function ask<T>(child: ChildProcess, request: ChildRequest | IdleRequest): Promise<T> {
  return new Promise((resolve, reject) => {
    child.once("message", (answer) => resolve(answer as T));
    // send() answers false for a large message still queued: only a closed channel is a failure.
    if (!child.connected) reject(new Error("the child has no IPC channel"));
    else child.send(request, (error) => error !== null && reject(error));
  });
}

/** Starts `module` with `args` under bench-child.ts; resolves with its URL once `listening` matches. */
async function startServer(
  module: string,
  args: readonly string[],
  listening: RegExp,
  env: NodeJS.ProcessEnv,
  cleanup: () => void,
): Promise<Server> {
  const child = spawn(process.execPath, ["--expose-gc", "scripts/bench-child.ts", module, ...args], {
    env,
    stdio: ["ignore", "pipe", "inherit", "ipc"],
  });
  running.add(child);
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout ?? process.stdin });
    lines.on("line", (line) => {
      const match = listening.exec(line);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    child.once("exit", (code) => reject(new Error(`${module} exited ${code}`)));
  });
  let queue: Promise<unknown> = Promise.resolve();
  const inTurn = <T>(request: ChildRequest): Promise<T> => {
    const answer = queue.then(() => ask<T>(child, request));
    queue = answer.catch(() => undefined);
    return answer;
  };
  return {
    child,
    url,
    async memory() {
      const memory = await inTurn<ChildMemory>({ type: "memory" });
      return { ...memory, fds: readdirSync(`/proc/${child.pid}/fd`).length };
    },
    async heapSnapshot(path) {
      const answer = await inTurn<{ path: string }>({ type: "heap-snapshot", path });
      return answer.path;
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await new Promise((resolve) => child.once("exit", resolve));
      }
      running.delete(child);
      cleanup();
    },
  };
}

/** A gateway on `dataDir` (SQLite there, or the database at `databaseUrl`), signed in as the admin. */
export async function startGateway(dataDir: string, databaseUrl?: string): Promise<Gateway> {
  const args = [
    "--port",
    "0",
    "--host",
    "127.0.0.1",
    "--data-dir",
    dataDir,
    "--trust-proxy",
    "loopback",
    "--api-rate-limit",
    "1000000",
    "--log-level",
    "warn",
    ...(databaseUrl === undefined ? [] : ["--database-url", databaseUrl]),
  ];
  const server = await startServer(
    "signaling/cli.ts",
    args,
    /listening on (http:\/\/[^)]+)\)/,
    { ...process.env, SOS_ADMIN_EMAIL: ADMIN.email, SOS_ADMIN_PASSWORD: ADMIN.password },
    () => rmSync(dataDir, { recursive: true, force: true }),
  );
  const admin = new ApiClient(server.url);
  const signedIn = await admin.signIn(ADMIN.email, ADMIN.password);
  if (signedIn.status !== 200) throw new Error(`bench admin sign-in failed: ${signedIn.status}`);
  return { ...server, admin };
}

/** The PeerJS server (bench-peerjs-server.ts) on a free loopback port. */
export async function startPeerjs(): Promise<Server> {
  const server = await startServer(
    "scripts/bench-peerjs-server.ts",
    [],
    /peerjs listening on (\d+)/,
    process.env,
    () => undefined,
  );
  return { ...server, url: `http://127.0.0.1:${server.url}` };
}

/** A process holding idle client sockets (bench-idle-clients.ts); requests answered in order. */
export type IdleClients = { request(request: IdleRequest): Promise<IdleAnswer>; stop(): void };

export function startIdleClients(): IdleClients {
  const child = spawn(process.execPath, ["scripts/bench-idle-clients.ts"], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  running.add(child);
  let queue: Promise<unknown> = Promise.resolve();
  return {
    request(request) {
      const answer = queue.then(async () => {
        const reply = await ask<IdleAnswer>(child, request);
        if (reply.error !== undefined) throw new Error(`idle clients: ${reply.error}`);
        return reply;
      });
      queue = answer.catch(() => undefined);
      return answer;
    },
    stop() {
      child.kill("SIGKILL");
      running.delete(child);
    },
  };
}
