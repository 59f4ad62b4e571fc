/**
 * `npm run cluster` as tests start it: N gateway instances on a fresh PostgreSQL database behind
 * nginx, each instance's port and pid read from what the script prints, stopped at teardown.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Teardown } from "../agent/e2e-support.ts";
import { freePort } from "./nginx.ts";
import { freshDatabase } from "./postgres.ts";

/** One gateway instance: its number in the script's output ("[n] …"), port and pid. */
export type ClusterInstance = { n: number; port: number; pid: number };

export type TestCluster = {
  /** nginx, as a client on this machine reaches it. */
  lb: string;
  /** The origin the instances were told they are served at (`--public-url`). */
  publicOrigin: string;
  instances: ClusterInstance[];
  /** The first admin's setup token (the last one the script printed). */
  setupToken: string;
  /** Asks the script to stop (SIGTERM, as Ctrl-C) and resolves with its exit code. */
  stop(): Promise<number | null>;
  /** What the script printed so far. */
  output(): string;
};

export async function startCluster(t: Teardown, instanceCount = 2): Promise<TestCluster> {
  const database = await freshDatabase();
  const dir = mkdtempSync(join(tmpdir(), "sos-cluster-"));
  const port = await freePort();
  const script = spawn(
    process.execPath,
    [
      "scripts/cluster.ts",
      "--instances",
      String(instanceCount),
      "--port",
      String(port),
      "--dir",
      dir,
      "--database-url",
      database.url,
    ],
    { env: { ...process.env, SOS_LOG_LEVEL: "warn" }, stdio: ["ignore", "pipe", "pipe"] },
  );
  const exited = new Promise<number | null>((resolve) => script.once("exit", (code) => resolve(code)));
  let output = "";
  script.stderr.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  t.teardown(async () => {
    if (script.exitCode === null) script.kill("SIGTERM");
    await exited;
    rmSync(dir, { recursive: true, force: true });
    await database.drop();
  });
  await new Promise<void>((resolve, reject) => {
    script.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("SOS cluster ready")) resolve();
    });
    void exited.then((code) => reject(new Error(`npm run cluster exited ${code}: ${output}`)));
  });
  const instances = [...output.matchAll(/instance (\d): 127\.0\.0\.1:(\d+), pid (\d+)/g)].map((m) => ({
    n: Number(m[1]),
    port: Number(m[2]),
    pid: Number(m[3]),
  }));
  const setupToken = /no admin yet: create the first one at \S+\/setup\?token=(\S+)/.exec(output)?.[1] ?? "";
  return {
    lb: `http://127.0.0.1:${port}`,
    publicOrigin: `http://localhost:${port}`,
    instances,
    setupToken,
    stop() {
      if (script.exitCode === null) script.kill("SIGTERM");
      return exited;
    },
    output: () => output,
  };
}

/** What an instance's /healthz counts: agents and console sockets it holds. */
export async function instanceLoad(instance: ClusterInstance): Promise<{ agents: number; consoles: number }> {
  const response = await fetch(`http://127.0.0.1:${instance.port}/healthz`);
  return (await response.json()) as { agents: number; consoles: number };
}
