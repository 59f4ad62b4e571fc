/**
 * `npm run bench:metrics`: what /metrics costs the gateway.
 *  - The timed store: 50,000 reads (`getSetting`) straight from the SQLite store against the same
 *    through `timedStore` into a real histogram, in the same run (ratio).
 *  - A scrape: the real gateway in this process on tmpfs, `GET /metrics` timed against `GET /healthz`
 *    (the baseline: the same HTTP path with one store call) with 100 live sessions, then with
 *    --sessions N (default 10,000) closed ones besides, then with N more live ones (all over REST).
 *    A scrape reads the live sessions (sessions by status), and node:sqlite is synchronous, so this
 *    is also how long a scrape holds the event loop.
 * Prints a table and writes bench-results/metrics.json.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { startGateway } from "../signaling/main.ts";
import { GatewayMetrics } from "../signaling/metrics/gateway-metrics.ts";
import { timedStore } from "../signaling/metrics/timed-store.ts";
import { openSqliteStore } from "../signaling/store/sqlite-store.ts";
import { ApiClient } from "../tests/helpers/clients.ts";

const sessionsArg = process.argv.indexOf("--sessions");
const SESSIONS = sessionsArg > 0 ? Number(process.argv[sessionsArg + 1]) : 10_000;
const TOKEN = "bench-metrics-token-0123456789";
const ADMIN = { email: "bench@example.test", password: "bench-password-1", name: "Bench" };
/** tmpfs where there is one: a commit's fsync costs nothing there, so creating sessions is quick. */
const base = existsSync("/dev/shm") ? "/dev/shm" : tmpdir();

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};

// --- the timed store ---------------------------------------------------------------------------
const storeDir = mkdtempSync(join(base, "sos-bench-store-"));
const raw = openSqliteStore(storeDir);
raw.setSetting("bench", "x");
const metrics = new GatewayMetrics();
const timedReal = timedStore(raw, (operation, seconds) => metrics.storeOperation(operation, seconds));
const READS = 50_000;
const readLoop = (store: typeof raw): number => {
  const started = performance.now();
  for (let i = 0; i < READS; i += 1) store.getSetting("bench");
  return ((performance.now() - started) * 1000) / READS;
};
const rounds: Array<{ raw: number; timed: number }> = [];
for (let round = 0; round < 3; round += 1) rounds.push({ raw: readLoop(raw), timed: readLoop(timedReal) });
raw.close();
rmSync(storeDir, { recursive: true, force: true });
const rawUs = percentile(
  rounds.map((r) => r.raw),
  50,
);
const timedUs = percentile(
  rounds.map((r) => r.timed),
  50,
);

// --- scrapes ---------------------------------------------------------------------------------
const dataDir = mkdtempSync(join(base, "sos-bench-metrics-"));
const gateway = await startGateway({
  port: 0,
  host: "127.0.0.1",
  dataDir,
  logLevel: "silent",
  admin: ADMIN,
  metricsToken: TOKEN,
  apiRateLimit: 10_000_000,
});
const admin = new ApiClient(gateway.url);
await admin.signIn(ADMIN.email, ADMIN.password);

async function timeGet(path: string, headers: Record<string, string>, count: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const started = performance.now();
    const response = await fetch(`${gateway.url}${path}`, { headers });
    await response.text();
    if (response.status !== 200) throw new Error(`${path} answered ${response.status}`);
    times.push(performance.now() - started);
  }
  return times;
}

async function create(count: number, close: boolean): Promise<void> {
  for (let i = 0; i < count; i += 1) {
    const response = await admin.post("/api/sessions", { channelId: "home", name: "Bench" });
    if (response.status !== 200) throw new Error(`create answered ${response.status}`);
    if (close) {
      const id = (response.body as { session: { id: string } }).session.id;
      const closed = await admin.post(`/api/sessions/${id}/close`);
      if (closed.status !== 200) throw new Error(`close answered ${closed.status}`);
    }
  }
}

const scrapes: Array<Record<string, number>> = [];
const phases = [
  { live: 100, closed: 0 },
  { live: 0, closed: SESSIONS },
  { live: SESSIONS, closed: 0 },
];
let live = 0;
let closed = 0;
for (const phase of phases) {
  await create(phase.live, false);
  await create(phase.closed, true);
  live += phase.live;
  closed += phase.closed;
  const healthz = await timeGet("/healthz", {}, 50);
  const scrape = await timeGet("/metrics", { authorization: `Bearer ${TOKEN}` }, 50);
  scrapes.push({
    liveSessions: live,
    closedSessions: closed,
    healthzP50Ms: Number(percentile(healthz, 50).toFixed(2)),
    scrapeP50Ms: Number(percentile(scrape, 50).toFixed(2)),
    scrapeP99Ms: Number(percentile(scrape, 99).toFixed(2)),
    scrapeToHealthzRatio: Number((percentile(scrape, 50) / percentile(healthz, 50)).toFixed(1)),
  });
}
await gateway.close();
rmSync(dataDir, { recursive: true, force: true });

const result = {
  storeReadRawUs: Number(rawUs.toFixed(2)),
  storeReadTimedUs: Number(timedUs.toFixed(2)),
  timedToRawRatio: Number((timedUs / rawUs).toFixed(2)),
  timedStoreAddsUs: Number((timedUs - rawUs).toFixed(2)),
  scrapes,
  disk: base,
};
console.table([
  { measure: "store read, raw (µs)", value: result.storeReadRawUs },
  { measure: "store read, timed (µs)", value: result.storeReadTimedUs },
  { measure: "timed / raw", value: result.timedToRawRatio },
]);
console.table(scrapes);
mkdirSync("bench-results", { recursive: true });
writeFileSync("bench-results/metrics.json", `${JSON.stringify(result, null, 2)}\n`);
console.log("wrote bench-results/metrics.json");
