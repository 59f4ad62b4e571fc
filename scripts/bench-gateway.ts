/**
 * `npm run bench:gateway`: the gateway under many idle agents and a PIN flood, beside the PeerJS
 * server (npm `peer`) measured in the same run. Each server runs as a child process of its own
 * (bench-child.ts: its memory read after full collections), then:
 *  - memory per idle agent: N gateway instances (`--instances`, on one PostgreSQL database with
 *    `--store postgres`) with K idle agents spread over them (`--agents K`, one session each) minus
 *    the same with none (and with the sessions created but no agent), divided by K; the same for
 *    the PeerJS server with K idle sockets: RSS and heap;
 *  - relay latency: a technician's console sends an SDP to its agent through the gateway (same
 *    instance; across instances when N >= 2) against one PeerJS client's OFFER to another, in
 *    alternating blocks while the idle agents and sockets stay connected: p50/p99;
 *  - agent joins (hello -> welcome) quietly, then while 50 addresses flood 800 wrong PINs, and how
 *    the flood was answered (PIN_RATE_LIMITED vs SESSION_NOT_FOUND);
 *  - 200 session creations (REST, one transaction each); with SQLite against the same on tmpfs,
 *    where a sync costs nothing: the price of durability.
 * The agents join (and the PeerJS sockets connect) in two halves, the heap read after each: the second
 * half's growth per agent is what an agent costs without what each process pays once (compiled
 * code: N gateways pay it N times, the PeerJS server once).
 * Prints tables (ratios SOS/PeerJS against the goals of issue 15) and writes bench-results/gateway.json.
 * `--heap-diff` also writes heap snapshots of every instance before and after the agents joined (and
 * of the PeerJS server before and after its sockets) and prints what grew per agent on all
 * instances together beside what grew per PeerJS socket (this skews the RSS figures: measure memory
 * without it); with SOS_BENCH_KEEP_SNAPSHOTS=1 the snapshots are kept and their folder printed.
 * Progress lines (phases, and the heap per agent and per socket as soon as they are known) go to
 * stderr.
 * Exit codes: 0 done, 1 failed (the reason on stderr), 2 bad options.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import { ApiClient } from "../tests/helpers/clients.ts";
import {
  joinAgent,
  newSession,
  peerjsRelayPair,
  type RelayPair,
  sosRelayPair,
} from "./bench-gateway-clients.ts";
import {
  type Gateway,
  type Server,
  startGateway,
  startIdleClients,
  startPeerjs,
} from "./bench-gateway-procs.ts";
import { heapGrowth } from "./bench-heap.ts";
import { startPostgres, stopPostgres } from "./postgres-process.ts";

// Many sockets need many descriptors (the bench holds both ends' clients): raise the limit once,
// as far as the hard limit allows (root: up to fs.nr_open), by running again under `ulimit -n`.
if (process.env.SOS_BENCH_NOFILE === undefined) {
  const again = spawnSync(
    "bash",
    [
      "-c",
      'ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"',
      "bash",
      process.execPath,
      ...process.execArgv,
      ...process.argv.slice(1),
    ],
    { stdio: "inherit", env: { ...process.env, SOS_BENCH_NOFILE: "1" } },
  );
  process.exit(again.status ?? 1);
}

function whole(min: number, max: number, name: string) {
  return (value: string): number => {
    const parsed = Number(value);
    if (Number.isInteger(parsed) && parsed >= min && parsed <= max) return parsed;
    throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}, not ${value}`);
  };
}

const program = new Command("bench:gateway")
  .description("The gateway under idle agents, relayed signals and a PIN flood, beside the PeerJS server.")
  .option("--agents <n>", "idle agents (and PeerJS sockets)", whole(1, 1_000_000, "--agents"), 2000)
  .addOption(
    new Option("--store <store>", "the gateways' store").choices(["sqlite", "postgres"]).default("sqlite"),
  )
  .option(
    "--instances <n>",
    "gateway instances on one database (2+: postgres)",
    whole(1, 9, "--instances"),
    1,
  )
  .addOption(
    new Option(
      "--database-url <url>",
      "postgres: use this (throwaway!) database instead of starting a local one",
    ).env("SOS_BENCH_DATABASE_URL"),
  )
  .option("--relays <n>", "relayed signals timed per path", whole(10, 100_000, "--relays"), 600)
  .option("--heap-diff", "heap snapshots of every instance: what each agent costs, by kind", false)
  .exitOverride((error) => {
    process.exit(error.exitCode === 0 ? 0 : 2);
  });
program.parse();
const options = program.opts<{
  agents: number;
  store: "sqlite" | "postgres";
  instances: number;
  databaseUrl?: string;
  relays: number;
  heapDiff: boolean;
}>();
if (options.instances > 1 && options.store !== "postgres") {
  console.error("bench:gateway: --instances 2 or more needs --store postgres (instances share one database)");
  process.exit(2);
}
const AGENTS = options.agents;

// Every process (a gateway, the PeerJS server, a holder of idle clients) may hold this many
// descriptors: the idle clients are spread over holders (bench-idle-clients.ts), the agents over the
// instances; the PeerJS server is one process, so it gets at most what one process may hold.
const limits = readFileSync("/proc/self/limits", "utf8");
const openFiles = Number(/Max open files\s+(\d+)/.exec(limits)?.[1] ?? 0);
const PER_HOLDER = Math.max(1_000, openFiles - 500);
const PEERJS_SOCKETS = Math.min(AGENTS, openFiles - 1_000);
if (Math.ceil(AGENTS / options.instances) > openFiles - 1_000) {
  console.error(
    `bench:gateway: ${AGENTS} agents on ${options.instances} instance(s) need more descriptors per gateway than one process may hold here (${openFiles}; raising it needs CAP_SYS_RESOURCE): give more --instances or fewer --agents`,
  );
  process.exit(1);
}

const percentile = (values: readonly number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
};
const round = (value: number, digits = 1) => Number(value.toFixed(digits));
const MiB = 1024 * 1024;

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

// --- the store ----------------------------------------------------------------------------------

let databaseUrl = options.databaseUrl;
let stopDatabase: () => void = () => undefined;
if (options.store === "postgres" && databaseUrl === undefined) {
  // A throwaway cluster as `npm test` makes one (the postgres user must reach its folder as root).
  const pgDir = mkdtempSync(join(tmpdir(), "sos-bench-postgres-"));
  chmodSync(pgDir, 0o755);
  const cluster = join(pgDir, "pg");
  stopDatabase = () => {
    try {
      stopPostgres(cluster);
    } finally {
      rmSync(pgDir, { recursive: true, force: true });
    }
  };
  process.once("exit", () => stopDatabase());
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(1));
  databaseUrl = (await startPostgres(cluster, { fast: true })).url;
}

const WRITES = 200;
// Durability's cost (SQLite): an acknowledged write is synced (synchronous = FULL). The same
// creates on a gateway whose data directory is on tmpfs, where a sync costs nothing.
let createsNoSync: number[] = [];
if (options.store === "sqlite") {
  const onMemory = await startGateway(mkdtempSync(join("/dev/shm", "sos-bench-")));
  createsNoSync = await timeCreates(onMemory.admin, WRITES);
  await onMemory.stop();
}

const gateways: Gateway[] = [];
for (let n = 0; n < options.instances; n += 1) {
  gateways.push(await startGateway(mkdtempSync(join(tmpdir(), "sos-bench-")), databaseUrl));
}
const first = gateways[0] as Gateway;
const createsStored = await timeCreates(first.admin, WRITES);
const peerjs = await startPeerjs();
const peerjsPort = Number(new URL(peerjs.url).port);

type Reading = { rss: number; heapUsed: number; fds: number };
async function reading(servers: readonly Server[]): Promise<Reading> {
  const all = await Promise.all(servers.map((server) => server.memory()));
  return {
    rss: all.reduce((sum, m) => sum + m.rss, 0),
    heapUsed: all.reduce((sum, m) => sum + m.heapUsed, 0),
    fds: all.reduce((sum, m) => sum + m.fds, 0),
  };
}

// --- idle agents and idle PeerJS sockets ----------------------------------------------------------

const benchStarted = performance.now();
/** A line on stderr while the bench runs (a long run shows where it is, and its memory early). */
const progress = (line: string) =>
  process.stderr.write(
    `bench:gateway [${Math.round((performance.now() - benchStarted) / 1000)} s] ${line}\n`,
  );
const snapshots = mkdtempSync(join(tmpdir(), "sos-bench-heap-"));
/** Heap snapshots of every instance (`name`-1, -2, ...), in instance order. */
const snapshotAll = (name: string) =>
  Promise.all(
    gateways.map((gateway, n) => gateway.heapSnapshot(join(snapshots, `${name}-${n + 1}.heapsnapshot`))),
  );
const base = await reading(gateways);
const peerjsBase = await reading([peerjs]);
const createStarted = performance.now();
const sessions: Array<{ pin: string; token: string }> = [];
// 10 at a time: tens of thousands of sessions, one transaction each, would take many minutes in turn.
for (let i = 0; i < AGENTS; i += 10) {
  const batch = Array.from({ length: Math.min(10, AGENTS - i) }, () => newSession(first.admin));
  sessions.push(...(await Promise.all(batch)));
  if (sessions.length % 5_000 === 0 && sessions.length < AGENTS) {
    progress(`${sessions.length} of ${AGENTS} sessions created`);
  }
}
const createSeconds = (performance.now() - createStarted) / 1000;
progress(`${AGENTS} sessions created in ${Math.round(createSeconds)} s; agents joining`);
const withSessions = await reading(gateways);
const beforeSnapshots = options.heapDiff ? await snapshotAll("before") : [];

const perInstance = gateways.map(() => 0);
const holders = (count: number) => Array.from({ length: Math.ceil(count / PER_HOLDER) }, startIdleClients);
const agentHolders = holders(AGENTS);
const agentJoins = agentHolders.map((_, h) =>
  sessions.slice(h * PER_HOLDER, (h + 1) * PER_HOLDER).map((s, j) => {
    const n = (h * PER_HOLDER + j) % gateways.length;
    perInstance[n] = (perInstance[n] ?? 0) + 1;
    return { url: (gateways[n] as Gateway).url, token: s.token };
  }),
);
/** Each holder's first half (`half` 0) or second half (1) of its items. */
const halfOf = <T>(items: readonly T[], half: 0 | 1) =>
  half === 0 ? items.slice(0, Math.ceil(items.length / 2)) : items.slice(Math.ceil(items.length / 2));
// Idle means idle: each agent is welcomed before the gateway has fanned its join out (its outbox,
// behind the other joins' store reads), and the queued fan-out is no part of what an idle agent
// costs. It is done when every agent got its first technicians list (at most 5 minutes).
async function allTold(count: number): Promise<void> {
  const toldBy = Date.now() + 300_000;
  for (;;) {
    let told = 0;
    for (const holder of agentHolders) told += (await holder.request({ type: "told" })).agents ?? 0;
    if (told >= count) return;
    if (Date.now() > toldBy)
      throw new Error(`only ${told} of ${count} agents were told who is on their session`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
// In two halves: the heap at half the agents too, so the second half's cost per agent is known
// without what any process pays once (compiled code, tables sized up once), for both servers.
const joinStarted = performance.now();
const joinHalf = (half: 0 | 1) =>
  Promise.all(
    agentHolders.map((holder, h) =>
      holder.request({ type: "agents", joins: halfOf(agentJoins[h] ?? [], half), address: "10.0.0.1" }),
    ),
  );
await joinHalf(0);
const firstHalf = agentJoins.reduce((sum, joins) => sum + halfOf(joins, 0).length, 0);
await allTold(firstHalf);
const halfIdle = await reading(gateways);
await joinHalf(1);
const joinSeconds = (performance.now() - joinStarted) / 1000;
progress(`${AGENTS} agents welcomed in ${Math.round(joinSeconds)} s; waiting for their joins' fan-out`);
await allTold(AGENTS);
const idle = await reading(gateways);
const afterSnapshots = options.heapDiff ? await snapshotAll("after") : [];
progress(
  `${AGENTS} idle agents: heap ${((idle.heapUsed - withSessions.heapUsed) / 1024 / AGENTS).toFixed(
    2,
  )} KiB per idle agent (all instances); PeerJS sockets connecting`,
);

const peerjsBeforeSnapshot = options.heapDiff
  ? await peerjs.heapSnapshot(join(snapshots, "peerjs-before.heapsnapshot"))
  : "";
const peerjsHolders = holders(PEERJS_SOCKETS);
const peerjsIds = peerjsHolders.map((_, h) => {
  const from = h * PER_HOLDER;
  return Array.from({ length: Math.min(PER_HOLDER, PEERJS_SOCKETS - from) }, (_, j) => `idle-${from + j}`);
});
const connectHalf = (half: 0 | 1) =>
  Promise.all(
    peerjsHolders.map((holder, h) =>
      holder.request({ type: "peerjs", port: peerjsPort, ids: halfOf(peerjsIds[h] ?? [], half) }),
    ),
  );
await connectHalf(0);
const peerjsFirstHalf = peerjsIds.reduce((sum, ids) => sum + halfOf(ids, 0).length, 0);
const peerjsHalfIdle = await reading([peerjs]);
await connectHalf(1);
const peerjsIdle = await reading([peerjs]);
const peerjsAfterSnapshot = options.heapDiff
  ? await peerjs.heapSnapshot(join(snapshots, "peerjs-after.heapsnapshot"))
  : "";
progress(
  `${PEERJS_SOCKETS} PeerJS sockets: heap ${(
    (peerjsIdle.heapUsed - peerjsBase.heapUsed) / 1024 / PEERJS_SOCKETS
  ).toFixed(2)} KiB per idle socket; relays timed next`,
);

// --- relay latency ----------------------------------------------------------------------------

// A technician of their own: their console lists only the relay sessions, not the K idle ones.
const created = await first.admin.post("/api/technicians", {
  email: "relay@example.test",
  name: "Relay",
  password: "bench-password-2",
  permissions: { attendedAccess: true, shareSessions: false },
});
if (created.status !== 200) throw new Error(`creating the relay technician failed: ${created.status}`);
const technicianOn = async (gateway: Gateway) => {
  const client = new ApiClient(gateway.url);
  const signedIn = await client.signIn("relay@example.test", "bench-password-2");
  if (signedIn.status !== 200) throw new Error(`relay technician sign-in failed: ${signedIn.status}`);
  return client;
};
const relayTechnician = await technicianOn(first);
const pairs: Array<{ name: string; pair: RelayPair; times: number[] }> = [
  { name: "sosSame", pair: await sosRelayPair(relayTechnician, first.url, first.url), times: [] },
  { name: "peerjs", pair: await peerjsRelayPair(peerjsPort), times: [] },
];
const second = gateways[1];
if (second !== undefined) {
  // The agent on instance 1, the technician's console on instance 2.
  const technicianOnSecond = await technicianOn(second);
  pairs.push({
    name: "sosCross",
    pair: await sosRelayPair(technicianOnSecond, second.url, first.url),
    times: [],
  });
}
for (const { pair } of pairs) for (let i = 0; i < 20; i += 1) await pair.once(); // warm-up
for (let done = 0; done < options.relays; done += 50) {
  for (const { pair, times } of pairs) {
    for (let i = 0; i < Math.min(50, options.relays - done); i += 1) times.push(await pair.once());
  }
}
for (const { pair } of pairs) pair.close();
const relay = (name: string) => pairs.find((p) => p.name === name)?.times ?? [];

// --- joins quietly and under a PIN flood (instance 1) ---------------------------------------------

const probes = await Promise.all(Array.from({ length: 40 }, () => newSession(first.admin)));
const quiet: number[] = [];
for (const [i, s] of probes.slice(0, 20).entries()) {
  const joined = await joinAgent(first.url, { kind: "pin", pin: s.pin }, `10.1.0.${i + 1}`);
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
    await joinAgent(first.url, { kind: "pin", pin: wrong }, `10.2.0.${n % 50}`).then(
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
    const joined = await joinAgent(first.url, { kind: "pin", pin: s.pin }, `10.3.0.${i + 1}`);
    underFlood.push(joined.ms);
    joined.socket.close();
  } catch {
    legitimateRefused += 1;
  }
}
await floodLoop;

const openAtEnd = async (all: ReturnType<typeof startIdleClients>[], kind: "agents" | "peerjs") => {
  let open = 0;
  for (const holder of all) open += (await holder.request({ type: "open" }))[kind] ?? 0;
  return open;
};
const stillOpen = await openAtEnd(agentHolders, "agents");
const peerjsStillOpen = await openAtEnd(peerjsHolders, "peerjs");
for (const holder of [...agentHolders, ...peerjsHolders]) {
  await holder.request({ type: "close" });
  holder.stop();
}
for (const gateway of gateways) await gateway.stop();
await peerjs.stop();
stopDatabase();
stopDatabase = () => undefined;

// --- results ------------------------------------------------------------------------------------

const kib = (bytes: number, count = AGENTS) => round(bytes / 1024 / count, 2);
const sos = {
  rssBaselineMiBPerInstance: round(base.rss / MiB / gateways.length),
  rssKiBPerIdleAgent: kib(idle.rss - withSessions.rss),
  heapKiBPerIdleAgent: kib(idle.heapUsed - withSessions.heapUsed),
  heapKiBPerIdleAgentSecondHalf: kib(idle.heapUsed - halfIdle.heapUsed, AGENTS - firstHalf),
  rssKiBPerIdleAgentWithSession: kib(idle.rss - base.rss),
  heapKiBPerIdleAgentWithSession: kib(idle.heapUsed - base.heapUsed),
  relaySameP50Ms: round(percentile(relay("sosSame"), 50), 3),
  relaySameP99Ms: round(percentile(relay("sosSame"), 99), 3),
};
const peer = {
  rssBaselineMiB: round(peerjsBase.rss / MiB),
  idleSockets: PEERJS_SOCKETS,
  rssKiBPerIdleSocket: kib(peerjsIdle.rss - peerjsBase.rss, PEERJS_SOCKETS),
  heapKiBPerIdleSocket: kib(peerjsIdle.heapUsed - peerjsBase.heapUsed, PEERJS_SOCKETS),
  heapKiBPerIdleSocketSecondHalf: kib(
    peerjsIdle.heapUsed - peerjsHalfIdle.heapUsed,
    PEERJS_SOCKETS - peerjsFirstHalf,
  ),
  relayP50Ms: round(percentile(relay("peerjs"), 50), 3),
  relayP99Ms: round(percentile(relay("peerjs"), 99), 3),
};
const cross =
  second === undefined
    ? undefined
    : {
        p50Ms: round(percentile(relay("sosCross"), 50), 3),
        p99Ms: round(percentile(relay("sosCross"), 99), 3),
      };
const ratio = (a: number, b: number) => round(a / Math.max(0.001, b), 2);

const result = {
  store: options.store,
  instances: gateways.length,
  agents: AGENTS,
  agentsPerInstance: perInstance,
  agentsStillConnectedAtEnd: stillOpen,
  peerjsSocketsStillConnectedAtEnd: peerjsStillOpen,
  sessionsCreatedPerSecond: Math.round(AGENTS / createSeconds),
  agentsJoinedPerSecond: Math.round(AGENTS / joinSeconds),
  sos,
  peerjs: peer,
  relayCrossInstance: cross,
  relaysTimedPerPath: options.relays,
  ratios: {
    rssPerIdleAgent: ratio(sos.rssKiBPerIdleAgent, peer.rssKiBPerIdleSocket),
    heapPerIdleAgent: ratio(sos.heapKiBPerIdleAgent, peer.heapKiBPerIdleSocket),
    heapPerIdleAgentSecondHalf: ratio(sos.heapKiBPerIdleAgentSecondHalf, peer.heapKiBPerIdleSocketSecondHalf),
    baselineRss: ratio(sos.rssBaselineMiBPerInstance, peer.rssBaselineMiB),
    relaySameP50: ratio(sos.relaySameP50Ms, peer.relayP50Ms),
    relaySameP99: ratio(sos.relaySameP99Ms, peer.relayP99Ms),
  },
  fdsBefore: base.fds,
  fdsWithIdleAgents: idle.fds,
  joinQuietP50Ms: round(percentile(quiet, 50)),
  joinQuietP99Ms: round(percentile(quiet, 99)),
  joinUnderFloodP50Ms: round(percentile(underFlood, 50)),
  joinUnderFloodP99Ms: round(percentile(underFlood, 99)),
  floodToQuietP50Ratio: ratio(percentile(underFlood, 50), percentile(quiet, 50)),
  legitimateJoinsRefusedDuringFlood: legitimateRefused,
  floodAnswers: flood,
  createP50Ms: round(percentile(createsStored, 50), 2),
  createP99Ms: round(percentile(createsStored, 99), 2),
  ...(options.store === "sqlite"
    ? {
        createOnTmpfsP50Ms: round(percentile(createsNoSync, 50), 2),
        createOnTmpfsP99Ms: round(percentile(createsNoSync, 99), 2),
        syncCostP50Ratio: ratio(percentile(createsStored, 50), percentile(createsNoSync, 50)),
      }
    : {}),
};

const goal = (met: boolean) => (met ? "met" : "NOT met");
console.log(
  `\n${options.store}, ${gateways.length} instance(s), ${AGENTS} idle agents (${perInstance.join(" + ")}), ${PEERJS_SOCKETS} idle PeerJS sockets${PEERJS_SOCKETS < AGENTS ? ` (its one process may hold at most ${openFiles} descriptors here)` : ""}`,
);
console.table([
  {
    metric: "RSS per idle agent / socket (KiB)",
    SOS: sos.rssKiBPerIdleAgent,
    PeerJS: peer.rssKiBPerIdleSocket,
    ratio: result.ratios.rssPerIdleAgent,
    goal: `<= 1.0x: ${goal(result.ratios.rssPerIdleAgent <= 1)}`,
  },
  {
    // The sessions' creation (REST) leaves freed memory in the allocator that joining agents reuse,
    // more so the more sessions: read this row with the one above, and the heap row below.
    metric: "RSS per idle agent incl. its session (KiB)",
    SOS: sos.rssKiBPerIdleAgentWithSession,
    PeerJS: peer.rssKiBPerIdleSocket,
    ratio: ratio(sos.rssKiBPerIdleAgentWithSession, peer.rssKiBPerIdleSocket),
    goal: "",
  },
  {
    metric: "heap per idle agent / socket (KiB)",
    SOS: sos.heapKiBPerIdleAgent,
    PeerJS: peer.heapKiBPerIdleSocket,
    ratio: result.ratios.heapPerIdleAgent,
    goal: "",
  },
  {
    // Without what each process pays once (compiled code, ...): N gateways pay it N times.
    metric: "heap per idle agent / socket, 2nd half of them (KiB)",
    SOS: sos.heapKiBPerIdleAgentSecondHalf,
    PeerJS: peer.heapKiBPerIdleSocketSecondHalf,
    ratio: result.ratios.heapPerIdleAgentSecondHalf,
    goal: "",
  },
  {
    metric: "baseline RSS per process (MiB)",
    SOS: sos.rssBaselineMiBPerInstance,
    PeerJS: peer.rssBaselineMiB,
    ratio: result.ratios.baselineRss,
    goal: "",
  },
  {
    metric: "relay p50, same instance (ms)",
    SOS: sos.relaySameP50Ms,
    PeerJS: peer.relayP50Ms,
    ratio: result.ratios.relaySameP50,
    goal: "",
  },
  {
    metric: "relay p99, same instance (ms)",
    SOS: sos.relaySameP99Ms,
    PeerJS: peer.relayP99Ms,
    ratio: result.ratios.relaySameP99,
    goal: `<= 1.0x: ${goal(result.ratios.relaySameP99 <= 1)}`,
  },
  ...(cross === undefined
    ? []
    : [
        { metric: "relay p50, across instances (ms)", SOS: cross.p50Ms, PeerJS: "", ratio: "", goal: "" },
        {
          metric: "relay p99, across instances (ms)",
          SOS: cross.p99Ms,
          PeerJS: "",
          ratio: "",
          goal: `<= 10 ms: ${goal(cross.p99Ms <= 10)}`,
        },
      ]),
  {
    metric: "idle agents still connected at the end",
    SOS: stillOpen,
    PeerJS: peerjsStillOpen,
    ratio: "",
    goal: gateways.length >= 2 ? `20,000 on 2 instances: ${goal(stillOpen >= 20_000)}` : "",
  },
]);
console.table(
  Object.entries(result)
    .filter(([key]) => !["sos", "peerjs", "relayCrossInstance", "ratios"].includes(key))
    .map(([metric, value]) => ({ metric, value: JSON.stringify(value) })),
);
if (options.heapDiff) {
  // Every instance's growth over all agents: an agent costs its own instance, and the others what
  // they keep of it (presence elsewhere).
  const growth = heapGrowth(beforeSnapshots, afterSnapshots, AGENTS);
  const peerjsGrowth = heapGrowth([peerjsBeforeSnapshot], [peerjsAfterSnapshot], PEERJS_SOCKETS);
  console.log(
    `heap growth of ${gateways.length > 1 ? `all ${gateways.length} instances` : "the gateway"} per agent joined, beside the PeerJS server's per socket (V8 heap snapshots), largest first:`,
  );
  console.table(
    growth.map((row) => ({
      ...row,
      peerjsBytesPerSocket: peerjsGrowth.find((p) => p.kind === row.kind)?.bytesPerAgent ?? 0,
    })),
  );
  Object.assign(result, { heapGrowthPerAgent: growth, peerjsHeapGrowthPerSocket: peerjsGrowth });
}
if (process.env.SOS_BENCH_KEEP_SNAPSHOTS === "1") console.log(`heap snapshots kept in ${snapshots}`);
else rmSync(snapshots, { recursive: true, force: true });
mkdirSync("bench-results", { recursive: true });
writeFileSync("bench-results/gateway.json", `${JSON.stringify(result, null, 2)}\n`);
console.log("wrote bench-results/gateway.json");
process.exit(0);
