/**
 * `npm run bench:relay` (root: network namespaces): the same workload over the direct path and
 * relayed through coturn, in one run on this one machine. Not a timed test: it prints a table and
 * writes bench-results/relay.json.
 *
 * The network is the relay tests' (tests/helpers/netns.ts, tests/relay/relay-session.test.ts): four
 * namespaces on a bridge that forwards nothing, `gw` (the real gateway, with `--turn-url` and
 * `--turn-secret`), `relay` (coturn with the product's config, scripts/coturn-process.ts), `agent`
 * (the real `sos` agent on a 1920x1080 Xvfb started outside the namespaces) and `tech` (the werift
 * technician, scripts/bench-relay-technician.ts, with the ICE servers the gateway mints for it).
 * Every packet stays in these namespaces.
 *
 * Four rounds, alternating direct, relayed, direct, relayed, so the machine's noise hits both. A
 * relayed round blocks the direct path between `agent` and `tech` (netns blockBetween), so ICE can
 * only use the relay; each round checks the ICE pair the technician ended up on. Each round is a new
 * session and agent process, and measures:
 * - key-to-picture: a key typed on the control channel into an xterm that flips between white and
 *   black on each key, until the technician's decoder puts out a frame showing the flip (quiet
 *   screen otherwise: the path's latency, not the encoder's queue);
 * - delivered fps and bitrate: whole frames and RTP bytes reaching the technician while an xterm
 *   scrolls text over most of the screen (bench-agent's workload), decoding off;
 * - the agent's and coturn's CPU over that window.
 */
import { type ChildProcess, execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { decodeMessage } from "../shared/decode.ts";
import { createTestNetwork, type TestNetwork } from "../tests/helpers/netns.ts";
import { startXvfb, type Xvfb } from "../tests/helpers/xvfb.ts";
import {
  BENCH_ADMIN,
  type BenchCommand,
  type BenchReport,
  benchReportSchema,
} from "./bench-relay-protocol.ts";
import { turnUrls } from "./coturn-config.ts";
import { makeTurnCertificate, type RunningCoturn, startCoturn } from "./coturn-process.ts";

type Hosts = "gw" | "relay" | "agent" | "tech";
type Mode = "direct" | "relayed";
const WIDTH = 1920;
const HEIGHT = 1080;
const SECRET = "bench-relay-secret-0123456789";
const TURN_PORT = 3478;
const TLS_PORT = 5349;
const GATEWAY_PORT = 8080;
const ROUNDS: readonly Mode[] = ["direct", "relayed", "direct", "relayed"];
/** The toggling xterm: 40x10 cells of 6x13 at (1600, 900), clear of the scrolling one. */
const TOGGLE = { x: 1600, y: 900, centre: { x: 1722, y: 967 } };

const { values: options } = parseArgs({
  options: {
    "max-fps": { type: "string", default: "60" },
    "latency-samples": { type: "string", default: "30" },
    "window-ms": { type: "string", default: "10000" },
  },
});
const MAX_FPS = Number(options["max-fps"]);
const LATENCY_SAMPLES = Number(options["latency-samples"]);
const WINDOW_MS = Number(options["window-ms"]);
for (const [name, value] of [
  ["--max-fps", MAX_FPS],
  ["--latency-samples", LATENCY_SAMPLES],
  ["--window-ms", WINDOW_MS],
] as const) {
  if (!Number.isInteger(value) || value < 1) {
    console.error(`bench:relay: ${name} must be a positive whole number`);
    process.exit(2);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Everything to undo, newest first; runs once, also on Ctrl+C. */
const cleanups: Array<() => unknown> = [];
let cleaning: Promise<void> | undefined;
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (error) {
        console.error("bench:relay: cleanup failed:", error);
      }
    }
  })();
  return cleaning;
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    console.error(`\nbench:relay: ${signal}, cleaning up`);
    void cleanUp().then(() => process.exit(130));
  });
}

function hasCommand(name: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** CPU seconds (user + system) a process has used so far, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Resolves with the first stdout line of `child` matching `pattern`; rejects if it exits first. */
function lineOf(child: ChildProcess, pattern: RegExp, what: string, timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(
      () => reject(new Error(`${what}: no ${pattern} in ${timeoutMs} ms:\n${output}`)),
      timeoutMs,
    );
    child.stderr?.on("data", (data: Buffer) => {
      output += data.toString();
    });
    if (child.stdout === null) return reject(new Error(`${what}: no stdout`));
    createInterface({ input: child.stdout }).on("line", (line) => {
      output += `${line}\n`;
      if (!pattern.test(line)) return;
      clearTimeout(timer);
      resolve(line);
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}) first:\n${output}`));
    });
  });
}

/** The technician process: commands on its stdin, reports (one JSON per line) from its stdout. */
function technicianIn(net: TestNetwork<Hosts>, gatewayUrl: string) {
  const child = net.spawn("tech", process.execPath, ["scripts/bench-relay-technician.ts", gatewayUrl], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const reports: BenchReport[] = [];
  const waiters = new Set<() => void>();
  let exited = false;
  child.once("exit", () => {
    exited = true;
    for (const wake of waiters) wake();
  });
  if (child.stdout !== null) {
    createInterface({ input: child.stdout }).on("line", (line) => {
      const decoded = decodeMessage(benchReportSchema, line);
      if (!decoded.ok) {
        process.stderr.write(`technician: ${line}\n`);
        return;
      }
      reports.push(decoded.value);
      for (const wake of waiters) wake();
    });
  }
  return {
    child,
    send(command: BenchCommand) {
      child.stdin?.write(`${JSON.stringify(command)}\n`);
    },
    /** The next report of that kind (or a failure, thrown). */
    next<E extends BenchReport["event"]>(
      event: E,
      timeoutMs = 60_000,
    ): Promise<Extract<BenchReport, { event: E }>> {
      return new Promise((resolve, reject) => {
        const check = () => {
          const index = reports.findIndex((r) => r.event === event || r.event === "failed");
          if (index < 0) {
            if (exited) done(new Error(`the technician exited before '${event}'`));
            return;
          }
          const [found] = reports.splice(index, 1);
          if (found?.event === "failed") done(new Error(`technician failed: ${found.message}`));
          else done(undefined, found as Extract<BenchReport, { event: E }>);
        };
        const done = (error: Error | undefined, value?: Extract<BenchReport, { event: E }>) => {
          clearTimeout(timer);
          waiters.delete(check);
          if (error !== undefined || value === undefined) reject(error ?? new Error("no report"));
          else resolve(value);
        };
        const timer = setTimeout(
          () => done(new Error(`no '${event}' from the technician in ${timeoutMs} ms`)),
          timeoutMs,
        );
        waiters.add(check);
        check();
      });
    },
  };
}

type RoundResult = {
  mode: Mode;
  path: string;
  firstFrameMs: number;
  latencyMs: number[];
  missed: number;
  fps: number;
  bitsPerSecond: number;
  agentCpu: number;
  coturnCpu: number;
};

async function round(
  mode: Mode,
  net: TestNetwork<Hosts>,
  gatewayUrl: string,
  xvfb: Xvfb,
  caFile: string,
  coturn: RunningCoturn,
): Promise<RoundResult> {
  await net.resetFirewall("agent");
  await net.resetFirewall("tech");
  if (mode === "relayed") await net.blockBetween("agent", "tech");

  const technician = technicianIn(net, gatewayUrl);
  const agent = net.spawn(
    "agent",
    process.execPath,
    [
      "agent/cli.ts",
      (await technician.next("pin")).pin,
      "--gateway",
      gatewayUrl,
      "--max-fps",
      String(MAX_FPS),
    ],
    {
      env: {
        ...xvfb.env,
        NODE_EXTRA_CA_CERTS: caFile,
        LANG: "C.UTF-8",
        LC_ALL: "",
        LC_MESSAGES: "",
        SOS_GATEWAY: "",
      },
      stdio: ["pipe", "pipe", "pipe"],
    },
  );
  const agentExit = new Promise<void>((resolve) => agent.once("exit", () => resolve()));
  try {
    await lineOf(agent, /asks to SEE and CONTROL your screen/, "the agent");
    agent.stdin?.write("y\n");
    const connected = await technician.next("connected");

    technician.send({
      cmd: "latency",
      samples: LATENCY_SAMPLES,
      x: TOGGLE.centre.x / (WIDTH - 1),
      y: TOGGLE.centre.y / (HEIGHT - 1),
    });
    const latency = await technician.next("latency", LATENCY_SAMPLES * 4_000 + 10_000);

    const scroller = xvfb.client("xterm", [
      "-geometry",
      "236x64+0+0",
      "-e",
      "sh",
      "-c",
      "while :; do date +%T.%N; ls -la /usr/lib | head -n 30; sleep 0.01; done",
    ]);
    try {
      await sleep(1_500);
      const pid = agent.pid;
      const coturnPid = coturn.process.pid;
      if (pid === undefined || coturnPid === undefined) throw new Error("no agent or coturn process");
      const cpu = { agent: cpuSeconds(pid), coturn: cpuSeconds(coturnPid), at: performance.now() };
      technician.send({ cmd: "measure", ms: WINDOW_MS });
      const measured = await technician.next("measured", WINDOW_MS + 30_000);
      const seconds = (performance.now() - cpu.at) / 1000;
      return {
        mode,
        path: `${connected.local} → ${connected.remote}`,
        firstFrameMs: connected.firstFrameMs,
        latencyMs: latency.samplesMs,
        missed: latency.missed,
        fps: measured.frames / measured.seconds,
        bitsPerSecond: (measured.bytes * 8) / measured.seconds,
        agentCpu: ((cpuSeconds(pid) - cpu.agent) / seconds) * 100,
        coturnCpu: ((cpuSeconds(coturnPid) - cpu.coturn) / seconds) * 100,
      };
    } finally {
      scroller.kill("SIGKILL");
    }
  } finally {
    technician.send({ cmd: "close" });
    agent.stdin?.write("q\n");
    const ended = Promise.all([
      agentExit,
      new Promise<void>((resolve) =>
        technician.child.exitCode === null ? technician.child.once("exit", () => resolve()) : resolve(),
      ),
    ]);
    const timer = setTimeout(() => {
      agent.kill("SIGKILL");
      technician.child.kill("SIGKILL");
    }, 5_000);
    await ended;
    clearTimeout(timer);
  }
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

const r1 = (value: number) => Math.round(value * 10) / 10;
const r2 = (value: number) => Math.round(value * 100) / 100;

function summary(rounds: readonly RoundResult[], mode: Mode) {
  const mine = rounds.filter((r) => r.mode === mode);
  const latency = mine.flatMap((r) => r.latencyMs);
  const mean = (pick: (r: RoundResult) => number) => mine.reduce((sum, r) => sum + pick(r), 0) / mine.length;
  return {
    paths: [...new Set(mine.map((r) => r.path))],
    fps: mean((r) => r.fps),
    fpsPerRound: mine.map((r) => r1(r.fps)),
    latencyP50: percentile(latency, 50),
    latencyP95: percentile(latency, 95),
    latencySamples: latency.length,
    missed: mine.reduce((sum, r) => sum + r.missed, 0),
    bitsPerSecond: mean((r) => r.bitsPerSecond),
    agentCpu: mean((r) => r.agentCpu),
    coturnCpu: mean((r) => r.coturnCpu),
    firstFrameMs: mean((r) => r.firstFrameMs),
  };
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("bench:relay needs root (ip netns, iptables)");
  for (const command of ["xterm", "turnserver", "iptables", "Xvfb"]) {
    if (!hasCommand(command))
      throw new Error(`bench:relay needs ${command} (scripts/setup-system.sh; xterm: apt-get install xterm)`);
  }
  const dir = await mkdtemp(join(tmpdir(), "sos-bench-relay-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const net = await createTestNetwork<Hosts>(["gw", "relay", "agent", "tech"]);
  cleanups.push(() => net.teardown());
  const relay = net.hosts.relay;
  const certificate = await makeTurnCertificate(dir, { dns: ["relay.sos.test"], ips: [relay.ipv4] });
  const coturn = await startCoturn({
    dir,
    netns: relay.ns,
    config: {
      secret: SECRET,
      realm: "sos.test",
      port: TURN_PORT,
      tlsPort: TLS_PORT,
      certFile: certificate.certFile,
      keyFile: certificate.keyFile,
      pidFile: join(dir, "turnserver.pid"),
      listeningIps: [relay.ipv4],
      relayIps: [relay.ipv4],
    },
  });
  cleanups.push(() => coturn.stop());

  const gatewayUrl = `http://${net.hosts.gw.ipv4}:${GATEWAY_PORT}`;
  const gateway = net.spawn(
    "gw",
    process.execPath,
    [
      "signaling/cli.ts",
      "--host",
      net.hosts.gw.ipv4,
      "--port",
      String(GATEWAY_PORT),
      "--data-dir",
      join(dir, "gateway"),
      "--public-url",
      gatewayUrl,
      "--log-level",
      "warn",
      ...turnUrls(relay.ipv4, TURN_PORT, TLS_PORT).flatMap((url) => ["--turn-url", url]),
      "--turn-secret",
      SECRET,
    ],
    {
      env: {
        ...process.env,
        SOS_ADMIN_EMAIL: BENCH_ADMIN.email,
        SOS_ADMIN_PASSWORD: BENCH_ADMIN.password,
        SOS_ADMIN_NAME: BENCH_ADMIN.name,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  await lineOf(gateway, /^SOS gateway ready/, "the gateway");

  const xvfb = await startXvfb({ width: WIDTH, height: HEIGHT });
  cleanups.push(() => xvfb.stop());
  // The key-to-picture target: white, black after each key, white after the next.
  xvfb.client("xterm", [
    "-geometry",
    `40x10+${TOGGLE.x}+${TOGGLE.y}`,
    "-bg",
    "white",
    "-fg",
    "black",
    "-e",
    "sh",
    "-c",
    'stty raw -echo; r=0; while :; do dd bs=1 count=1 >/dev/null 2>&1; if [ $r = 0 ]; then printf "\\033[?5h"; r=1; else printf "\\033[?5l"; r=0; fi; done',
  ]);
  await sleep(1_000);

  const rounds: RoundResult[] = [];
  for (const [index, mode] of ROUNDS.entries()) {
    console.error(`bench:relay: round ${index + 1}/${ROUNDS.length}, ${mode}`);
    const result = await round(mode, net, gatewayUrl, xvfb, certificate.caFile, coturn);
    console.error(
      `  ${result.path}: ${r1(result.fps)} fps, key-to-picture p50 ${r1(percentile(result.latencyMs, 50))} ms`,
    );
    rounds.push(result);
  }
  for (const r of rounds) {
    const relayedPath = r.path.includes("relay");
    if (relayedPath !== (r.mode === "relayed"))
      console.error(`bench:relay: WARNING: a ${r.mode} round ran on ${r.path}`);
  }

  const direct = summary(rounds, "direct");
  const relayed = summary(rounds, "relayed");
  const table = Object.fromEntries(
    (
      [
        ["ICE pair (technician → agent)", (s) => s.paths.join(", "), ""],
        ["delivered fps (mean of 2 rounds)", (s) => r1(s.fps), r2(relayed.fps / direct.fps)],
        ["fps per round", (s) => s.fpsPerRound.join(" / "), ""],
        ["key-to-picture p50 ms", (s) => r1(s.latencyP50), r2(relayed.latencyP50 / direct.latencyP50)],
        ["key-to-picture p95 ms", (s) => r1(s.latencyP95), r2(relayed.latencyP95 / direct.latencyP95)],
        [
          "bitrate Mbit/s",
          (s) => r2(s.bitsPerSecond / 1e6),
          r2(relayed.bitsPerSecond / direct.bitsPerSecond),
        ],
        ["agent CPU % of a core", (s) => r1(s.agentCpu), r2(relayed.agentCpu / direct.agentCpu)],
        ["coturn CPU % of a core", (s) => r1(s.coturnCpu), ""],
        ["connect to first frame ms", (s) => Math.round(s.firstFrameMs), ""],
      ] as const satisfies ReadonlyArray<readonly [string, (s: typeof direct) => unknown, unknown]>
    ).map(([name, pick, ratio]) => [
      name,
      { direct: pick(direct), relayed: pick(relayed), "relayed/direct": ratio },
    ]),
  );
  const addedLatency = relayed.latencyP50 - direct.latencyP50;
  const results = {
    machine: {
      note: "direct and relayed both run on this one machine (namespaces on one bridge, coturn on the same cores)",
      cores: availableParallelism(),
      display: `${WIDTH}x${HEIGHT}`,
      workload: "xterm scrolling text (236x64 cells); key-to-picture on an otherwise quiet screen",
      agentMaxFps: MAX_FPS,
      rounds: ROUNDS.join(", "),
      windowMs: WINDOW_MS,
      latencySamplesPerRound: LATENCY_SAMPLES,
    },
    direct: roundedSummary(direct),
    relayed: roundedSummary(relayed),
    ratio: {
      fps: r2(relayed.fps / direct.fps),
      latencyP50: r2(relayed.latencyP50 / direct.latencyP50),
      bitrate: r2(relayed.bitsPerSecond / direct.bitsPerSecond),
    },
    addedLatencyP50Ms: r1(addedLatency),
    goals: {
      relayedFpsRatio: { target: ">= 0.95", met: relayed.fps / direct.fps >= 0.95 },
      addedLatencyMs: { target: "<= 5", met: addedLatency <= 5 },
    },
    rounds: rounds.map((r) => ({
      mode: r.mode,
      path: r.path,
      fps: r1(r.fps),
      bitsPerSecond: Math.round(r.bitsPerSecond),
      latencyP50Ms: r1(percentile(r.latencyMs, 50)),
      latencyMissed: r.missed,
      agentCpu: r1(r.agentCpu),
      coturnCpu: r1(r.coturnCpu),
    })),
  };
  console.log(
    `\nDirect and relayed (coturn) paths, both on this one machine (${results.machine.cores} cores):`,
  );
  console.table(table);
  console.log(
    `relayed/direct fps ${results.ratio.fps} (goal >= 0.95: ${results.goals.relayedFpsRatio.met ? "met" : "NOT met"}); ` +
      `added key-to-picture latency p50 ${results.addedLatencyP50Ms} ms (goal <= 5: ${results.goals.addedLatencyMs.met ? "met" : "NOT met"})`,
  );
  mkdirSync("bench-results", { recursive: true });
  writeFileSync("bench-results/relay.json", `${JSON.stringify(results, null, 2)}\n`);
  console.log("written to bench-results/relay.json");
}

function roundedSummary(s: ReturnType<typeof summary>) {
  return {
    paths: s.paths,
    fps: r1(s.fps),
    fpsPerRound: s.fpsPerRound,
    keyToPictureMs: {
      p50: r1(s.latencyP50),
      p95: r1(s.latencyP95),
      samples: s.latencySamples,
      missed: s.missed,
    },
    bitsPerSecond: Math.round(s.bitsPerSecond),
    agentCpuPercentOfCore: r1(s.agentCpu),
    coturnCpuPercentOfCore: r1(s.coturnCpu),
    connectToFirstFrameMs: Math.round(s.firstFrameMs),
  };
}

let failed = false;
try {
  await main();
} catch (error) {
  failed = true;
  console.error("bench:relay failed:", error);
} finally {
  await cleanUp();
}
process.exit(failed ? 1 : 0);
