/**
 * `npm run bench:gateway`: the gateway under many idle agents and a PIN flood.
 * Starts the real gateway as a child process (its own memory), then:
 *  - joins N idle agents (one session each) and reads the child's RSS and open file descriptors,
 *  - times agent joins (hello -> welcome) quietly, then again while another address floods wrong PINs,
 *  - counts how the flood (800 wrong PINs from 50 addresses) was answered (PIN_RATE_LIMITED vs SESSION_NOT_FOUND).
 *  - times 200 session creations (REST, one transaction each) with the store's synchronous = FULL on
 *    this disk, against the same on tmpfs where a sync costs nothing: the price of durability.
 * Prints a table and writes bench-results/gateway.json. Options: --agents N (default 2000).
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { WebSocket } from "ws";
import { ApiClient, field } from "../tests/helpers/clients.ts";

const agentsArg = process.argv.indexOf("--agents");
const AGENTS = agentsArg > 0 ? Number(process.argv[agentsArg + 1]) : 2000;
const ADMIN = { email: "bench@example.test", password: "bench-password-1" };

/** Starts the real gateway as a child process on `dataDir`; resolves once it listens. */
async function startChild(dataDir: string) {
  const child = spawn(
    process.execPath,
    [
      "signaling/cli.ts",
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
    ],
    {
      env: { ...process.env, SOS_ADMIN_EMAIL: ADMIN.email, SOS_ADMIN_PASSWORD: ADMIN.password },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.on("line", (line) => {
      const match = /listening on (http:\/\/[^)]+)\)/.exec(line);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    child.once("exit", (code) => reject(new Error(`gateway exited ${code}`)));
  });
  process.on("exit", () => child.kill("SIGKILL"));
  const admin = new ApiClient(url);
  await admin.signIn(ADMIN.email, ADMIN.password);
  const stop = async () => {
    child.kill("SIGTERM");
    await new Promise((resolve) => child.once("exit", resolve));
    rmSync(dataDir, { recursive: true, force: true });
  };
  return { child, url, admin, stop };
}

/** Milliseconds of each of `count` session creations (one transaction: session, PIN, audit row). */
async function timeCreates(client: ApiClient, count: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const started = performance.now();
    const response = await client.post("/api/sessions", { channelId: "home" });
    if (response.status !== 200) throw new Error(`create failed: ${response.status}`);
    times.push(performance.now() - started);
  }
  return times;
}

// Durability's cost: an acknowledged write is synced (synchronous = FULL). The same creates on a
// gateway whose data directory is on tmpfs, where a sync costs nothing, give the price of the sync.
const WRITES = 200;
const onMemory = await startChild(mkdtempSync(join("/dev/shm", "sos-bench-")));
const createsNoSync = await timeCreates(onMemory.admin, WRITES);
await onMemory.stop();

const { child, url, admin, stop } = await startChild(mkdtempSync(join(tmpdir(), "sos-bench-")));
const createsSynced = await timeCreates(admin, WRITES);

function memory(): { rssMiB: number; fds: number } {
  const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
  const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { rssMiB: rssKiB / 1024, fds: readdirSync(`/proc/${child.pid}/fd`).length };
}

type Joined = { socket: WebSocket; ms: number };
function join1(
  pinOrToken: { kind: "pin"; pin: string } | { kind: "link"; token: string },
  address: string,
): Promise<Joined> {
  const started = performance.now();
  const socket = new WebSocket(`${url.replace("http", "ws")}/ws/agent`, {
    headers: { "x-forwarded-for": address },
  });
  return new Promise((resolve, reject) => {
    socket.once("open", () =>
      socket.send(
        JSON.stringify({
          type: "hello",
          v: 1,
          join: pinOrToken,
          device: { hostname: "bench", os: "linux", user: "u", agentVersion: "bench" },
        }),
      ),
    );
    socket.once("message", (data) => {
      const message = JSON.parse(data.toString()) as { type: string; error?: { code: string } };
      if (message.type === "welcome") resolve({ socket, ms: performance.now() - started });
      else reject(new Error(message.error?.code ?? message.type));
    });
    socket.once("error", reject);
  });
}

async function newSession(): Promise<{ pin: string; token: string }> {
  const response = await admin.post("/api/sessions", { channelId: "home" });
  const link = field(response.body, "invitation", "link");
  return { pin: field(response.body, "invitation", "pin"), token: link.split("/s/")[1] ?? "" };
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
};

const before = memory();
const sockets: WebSocket[] = [];
const createStarted = performance.now();
const sessions: Array<{ pin: string; token: string }> = [];
for (let i = 0; i < AGENTS; i += 1) sessions.push(await newSession());
const createSeconds = (performance.now() - createStarted) / 1000;
for (let i = 0; i < AGENTS; i += 50) {
  const batch = await Promise.all(
    sessions.slice(i, i + 50).map((s) => join1({ kind: "link", token: s.token }, "10.0.0.1")),
  );
  for (const joined of batch) sockets.push(joined.socket);
}
const idle = memory();

// Joins by PIN from clean addresses: quiet, then during a flood of wrong PINs from other addresses.
const probes = await Promise.all(Array.from({ length: 40 }, () => newSession()));
const quiet: number[] = [];
for (const [i, s] of probes.slice(0, 20).entries()) {
  const joined = await join1({ kind: "pin", pin: s.pin }, `10.1.0.${i + 1}`);
  quiet.push(joined.ms);
  joined.socket.close();
}
const flood = { limited: 0, notFound: 0, other: 0 };
const FLOOD = 800;
let floodSent = 0;
const floodLoop = (async () => {
  for (let n = 1; n <= FLOOD; n += 1) {
    floodSent = n;
    const wrong = String(100_000_000 + n).padStart(9, "0");
    await join1({ kind: "pin", pin: wrong }, `10.2.0.${n % 50}`).then(
      (j) => j.socket.close(),
      (error: Error) => {
        if (error.message === "PIN_RATE_LIMITED") flood.limited += 1;
        else if (error.message === "SESSION_NOT_FOUND") flood.notFound += 1;
        else flood.other += 1;
      },
    );
  }
})();
const underFlood: number[] = [];
let legitimateRefused = 0;
for (const [i, s] of probes.slice(20).entries()) {
  // Spread the legitimate joins over the flood: one after every FLOOD/25 wrong PINs.
  while (floodSent < ((i + 1) * FLOOD) / 25) await new Promise((resolve) => setImmediate(resolve));
  try {
    const joined = await join1({ kind: "pin", pin: s.pin }, `10.3.0.${i + 1}`);
    underFlood.push(joined.ms);
    joined.socket.close();
  } catch {
    legitimateRefused += 1;
  }
}
await floodLoop;

for (const socket of sockets) socket.terminate();
await stop();

const result = {
  agents: AGENTS,
  sessionsCreatedPerSecond: Math.round(AGENTS / createSeconds),
  rssBeforeMiB: Number(before.rssMiB.toFixed(1)),
  rssWithIdleAgentsMiB: Number(idle.rssMiB.toFixed(1)),
  kibPerIdleAgent: Number((((idle.rssMiB - before.rssMiB) * 1024) / AGENTS).toFixed(1)),
  fdsBefore: before.fds,
  fdsWithIdleAgents: idle.fds,
  joinQuietP50Ms: Number(percentile(quiet, 50).toFixed(1)),
  joinQuietP99Ms: Number(percentile(quiet, 99).toFixed(1)),
  joinUnderFloodP50Ms: Number(percentile(underFlood, 50).toFixed(1)),
  joinUnderFloodP99Ms: Number(percentile(underFlood, 99).toFixed(1)),
  floodToQuietP50Ratio: Number(
    (percentile(underFlood, 50) / Math.max(0.001, percentile(quiet, 50))).toFixed(2),
  ),
  legitimateJoinsRefusedDuringFlood: legitimateRefused,
  floodAnswers: flood,
  createSyncedP50Ms: Number(percentile(createsSynced, 50).toFixed(2)),
  createSyncedP99Ms: Number(percentile(createsSynced, 99).toFixed(2)),
  createOnTmpfsP50Ms: Number(percentile(createsNoSync, 50).toFixed(2)),
  createOnTmpfsP99Ms: Number(percentile(createsNoSync, 99).toFixed(2)),
  syncCostP50Ratio: Number(
    (percentile(createsSynced, 50) / Math.max(0.001, percentile(createsNoSync, 50))).toFixed(2),
  ),
};
console.table(Object.entries(result).map(([metric, value]) => ({ metric, value: JSON.stringify(value) })));
mkdirSync("bench-results", { recursive: true });
writeFileSync("bench-results/gateway.json", `${JSON.stringify(result, null, 2)}\n`);
console.log("wrote bench-results/gateway.json");
