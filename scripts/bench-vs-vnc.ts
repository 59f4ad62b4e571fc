/**
 * `npm run bench:vs-vnc`: SOS against x11vnc on the same scrolling 1080p screen, in one run: the
 * agent at its default settings streaming to the real console in headless Chromium, and x11vnc
 * (Debian) sending RFB with ZRLE to noVNC in the same Chromium (scripts/bench-vnc-rig.ts). Rounds
 * alternate (the other path's process stopped meanwhile); each measures the distinct pictures shown
 * per second in the page: the animation frames in which a capture not shown before appeared (SOS:
 * by a video frame presented or a record of the lossless `screen` path painted on the console's
 * overlay, the two of one capture, same RTP timestamp, counting once; x11vnc: the animation frames
 * in which noVNC completed one or more framebuffer updates; scripts/bench-watcher.ts), beside the figure judged before the screen path (SOS: video frames
 * decoded; x11vnc: updates completed); the bytes that brought them (SOS: the video's RTP payload
 * plus the `screen` channel's message bytes from getStats, printed apart and summed; x11vnc: the
 * WebSocket's); and the CPU of the agent or x11vnc; for each SOS round also what the agent's capture
 * worker did meanwhile, from its trace (captures, changed, handed to and out of the encoder, dropped
 * as busy, mean capture / conversion / encoding ms, and its frame-rate limit: frame-rate-limit.ts;
 * with the screen path, the frames through it and its ms per frame, from the same trace),
 * so a round below x11vnc shows where the frames were lost. Prints a table, the ratios and whether the goal
 * is met (fps at least x11vnc's at no more than 0.3x its bandwidth, both SOS paths' bytes summed);
 * writes bench-results/vs-vnc.json and the picture each page showed at the end of the last round
 * (bench-results/vs-vnc-<workload>-<path>.png; the console's overlay alone beside it); then, with the
 * terminal stopped for a moment, the console's picture against the X server's (bench-compare.ts:
 * overlay pixels must be equal, the video's get a PSNR). Not a timed test.
 *
 * Two workloads, one after the other (see SCROLL_WORKLOADS): `text`, new text scrolling in (the
 * goal is judged on it), and `listing`, the same listing repeated (reported beside it: ZRLE's zlib
 * stream finds the repeats, so x11vnc needs ~0.3 Mbit/s there and 0.3x of that is no target for a
 * video codec).
 *
 * Options: --workloads "text listing" (which, in that order), --agent-args "..." (extra `sos` flags; none: the defaults), --screen-copy default|on|off (the agent's lossless path: its default, or turned on or off; `off` measures the video alone), --x11vnc-args "...", --rounds N (per path, default 4), --seconds S (per round, default 6; the rounds alternate strictly and the agent, stopped during x11vnc's turn, runs for a moment in its middle, so its peer does not restart ICE: see measure).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { Teardown } from "../tests/agent/e2e-support.ts";
import type { Rig } from "./bench-vnc-rig.ts";
import {
  comparisonText,
  cpuSeconds,
  type Path,
  readTrace,
  SCROLL_WORKLOADS,
  type ScreenCounters,
  type ScrollWorkload,
  screenCopyMode,
  startRig,
  VIDEO_COUNTERS,
  type VideoCounters,
} from "./bench-vnc-rig.ts";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "4" },
    seconds: { type: "string", default: "6" },
    "agent-args": { type: "string", default: "" },
    "x11vnc-args": { type: "string", default: "" },
    workloads: { type: "string", default: "text listing" },
    "screen-copy": { type: "string", default: "default" },
  },
});
const SCREEN_COPY = screenCopyMode(values["screen-copy"]);
const WORKLOADS = (values.workloads ?? "").split(" ").filter((name): name is ScrollWorkload => {
  if (name === "") return false;
  if (name in SCROLL_WORKLOADS) return true;
  throw new Error(`unknown workload ${name}: ${Object.keys(SCROLL_WORKLOADS).join(", ")}`);
});
const ROUNDS = Math.max(1, Number(values.rounds));
const AGENT_ARGS = (values["agent-args"] ?? "").split(" ").filter((arg) => arg !== "");
const X11VNC_ARGS = (values["x11vnc-args"] ?? "").split(" ").filter((arg) => arg !== "");
const ROUND_MS = Math.max(2, Number(values.seconds)) * 1000;
/** A round starts after this: the path that was stopped catches up first. */
const WARM_UP_MS = 2_000;
/** How long the stopped agent runs between the pieces of x11vnc's turn (see measure). */
const BREATH_MS = 400;
/** How long the scrolling terminal is stopped before its picture is compared with the console's. */
const SETTLE_MS = 2_500;
const GOAL_FPS_RATIO = 1.0;
const GOAL_BANDWIDTH_RATIO = 0.3;

const cleanups: Array<() => unknown> = [];
const teardown: Teardown = { teardown: (fn) => cleanups.push(fn) };
/** The agent's log, for a failure report. */
let agentLog: (() => string) | undefined;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Round = {
  path: Path;
  /** Distinct pictures shown per second (Counters.pictures): what is judged. */
  fps: number;
  /**
   * The figure judged before the lossless path (sessions 8-11): SOS video frames decoded (the
   * console's inbound-rtp framesDecoded), x11vnc framebuffer updates completed, per second.
   */
  fpsBefore: number;
  /** SOS: video frames presented per second; noVNC: updates completed (= fpsBefore). */
  presented: number;
  /** Both paths' bytes, Mbit/s (SOS: video RTP payload plus the screen channel's messages). */
  mbps: number;
  /** SOS: the video's RTP payload, the screen channel's message bytes, every transport's bytes. */
  videoMbps?: number;
  screenMbps?: number;
  transportMbps?: number;
  /** SOS: screen records painted per second, and the records' bytes as the console reported them. */
  records?: number;
  recordMbps?: number;
  /** SOS: video frames and records per second whose capture the other path had shown already. */
  repeats?: number;
  /** SOS: video frame callbacks per second, and those without an RTP timestamp. */
  callbacks?: number;
  withoutRtp?: number;
  cpu: number;
  video?: Partial<VideoCounters>;
  /** SOS: what the agent's capture worker did meanwhile (its trace; see pipelineOf). */
  pipeline?: Pipeline;
};
type Summary = {
  path: Path;
  fps: number;
  fpsBefore: number;
  mbps: number;
  videoMbps: number;
  screenMbps: number;
  cpu: number;
};

function difference(before: VideoCounters, after: VideoCounters): Partial<VideoCounters> {
  return Object.fromEntries(VIDEO_COUNTERS.map((name) => [name, after[name] - before[name]]));
}

/** Per second, or mean ms, over an SOS round (from the agent's latency trace). */
type Pipeline = {
  captured: number;
  changed: number;
  /** Frames handed to the encoder. */
  handed: number;
  /** Changed frames the screen path carried alone (no video frame: only lossless tiles changed). */
  screenOnly: number;
  /** Chunks out of the encoder (fewer than handed: pictures replaced while waiting for it). */
  encoded: number;
  busy: number;
  captureMs: number;
  convertMs: number;
  /** In the encoder itself (from going in, after the frame before it was out, to its chunk). */
  encodeMs: number;
  /** The frame-rate limit's fps (mean and lowest) and its smoothed work per frame. */
  limitFps: number;
  limitMinFps: number;
  limitWorkMs: number;
  /**
   * The screen path in the capture worker (its trace's pipeline: screenFrames, screenWorkMs or
   * screenMs, s12-plumb's screen-path.ts; absent from agents without the path): frames through it
   * per second (over the frames' span), and its mean ms per frame (part of the conversion's ms).
   */
  screen?: { frames: number; ms: number };
};

type FrameEvent = {
  ts: number;
  at: number;
  topOff?: number;
  screenOnly?: number;
  pipeline: Record<string, number>;
};

/**
 * The screen path from the frames' pipeline counters (s12-plumb): screenFrames counts frames
 * through it; its time is the cumulative screenWorkMs where the agent has it, else each frame's
 * screenMs (top-offs do not go through it).
 */
function screenOf(frames: readonly FrameEvent[], first: FrameEvent, last: FrameEvent) {
  const count = (last.pipeline.screenFrames ?? 0) - (first.pipeline.screenFrames ?? 0);
  const seconds = Math.max(1e-3, (last.at - first.at) / 1000);
  if (last.pipeline.screenWorkMs !== undefined && first.pipeline.screenWorkMs !== undefined)
    return {
      frames: count / seconds,
      ms: (last.pipeline.screenWorkMs - first.pipeline.screenWorkMs) / Math.max(1, count),
    };
  const own = frames.filter((f) => f.topOff !== 1).map((f) => f.pipeline.screenMs ?? 0);
  return { frames: count / seconds, ms: own.reduce((a, b) => a + b, 0) / Math.max(1, own.length) };
}

/** What the agent's capture worker did between `from` and `to` (ms since the epoch). */
function pipelineOf(rig: Rig, from: number, to: number): Pipeline | undefined {
  const events = readTrace(rig.tracePath).filter((e) => Number(e.at) >= from && Number(e.at) <= to);
  const frames = events.filter(
    (e) => e.event === "frame" && typeof e.pipeline === "object",
  ) as unknown as FrameEvent[];
  const first = frames[0];
  const last = frames.at(-1);
  if (first === undefined || last === undefined) return undefined;
  const seconds = (to - from) / 1000;
  const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
  const counter = (name: string) => ((last.pipeline[name] ?? 0) - (first.pipeline[name] ?? 0)) / seconds;
  const handedAt = new Map(frames.map((f) => [f.ts, f.at]));
  const encodeMs: number[] = [];
  let lastOut = Number.NEGATIVE_INFINITY;
  let encoded = 0;
  for (const e of events) {
    if (e.event !== "encoded") continue;
    encoded += 1;
    const handed = handedAt.get(Number(e.ts));
    if (handed !== undefined) encodeMs.push(Number(e.at) - Math.max(handed, lastOut));
    lastOut = Number(e.at);
  }
  const of = (name: string) => frames.map((f) => f.pipeline[name] ?? 0);
  return {
    captured: counter("captured"),
    changed: counter("changed"),
    handed: frames.filter((f) => f.screenOnly !== 1).length / seconds,
    screenOnly: frames.filter((f) => f.screenOnly === 1).length / seconds,
    encoded: encoded / seconds,
    busy: counter("busy"),
    captureMs: mean(of("captureMs")),
    convertMs: mean(of("convertMs")),
    encodeMs: mean(encodeMs),
    limitFps: mean(of("fps")),
    limitMinFps: Math.min(...of("fps")),
    limitWorkMs: mean(of("workMs")),
    ...(last.pipeline.screenFrames === undefined ? {} : { screen: screenOf(frames, first, last) }),
  };
}

function pipelineText(p: Pipeline): string {
  const rate = (n: number) => n.toFixed(1);
  const ms = (n: number) => n.toFixed(0);
  return (
    `captured ${rate(p.captured)}/s, changed ${rate(p.changed)}/s, to encoder ${rate(p.handed)}/s, ` +
    `screen path alone ${rate(p.screenOnly)}/s, ` +
    `out ${rate(p.encoded)}/s, busy ${rate(p.busy)}/s; ms per frame: capture ${ms(p.captureMs)}, ` +
    `convert ${ms(p.convertMs)}, encode ${ms(p.encodeMs)}; limit ${rate(p.limitFps)} fps ` +
    `(lowest ${p.limitMinFps}, work ${ms(p.limitWorkMs)} ms)` +
    (p.screen === undefined
      ? ""
      : `; screen path ${rate(p.screen.frames)} frames/s, ${p.screen.ms.toFixed(1)} ms per frame`)
  );
}

async function measure(rig: Rig, workload: ScrollWorkload): Promise<Round[]> {
  await rig.scrolling(true, workload);
  const rounds: Round[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    // Strictly alternating, so neither path is stopped for two turns in a row: swapping the
    // order every round (sos vnc, vnc sos, ...) stopped the agent for 16 s or more, its peer
    // restarted ICE when it resumed (12 s of silence, path-watch.ts), and those rounds measured
    // the restart (65-306 packets lost, keyframes).
    for (const path of ["sos", "vnc"] as const) {
      rig.turn(path);
      // x11vnc's turn comes in pieces with the stopped agent let run for a moment between them
      // (outside what is measured): stopped through a whole turn, it went without a consent
      // response for over 12 s under load and restarted ICE on resuming (werift asks every ~5 s).
      const pieces = path === "vnc" ? 2 : 1;
      await sleep(WARM_UP_MS);
      if (pieces > 1) await rig.breathe("sos", BREATH_MS);
      const sum = { pictures: 0, frames: 0, decoded: 0, bytes: 0, cpu: 0, seconds: 0 };
      let video: Partial<VideoCounters> | undefined;
      let pipeline: Pipeline | undefined;
      let screen: ScreenCounters | undefined;
      let transportBytes = 0;
      let callbacks = 0;
      let withoutRtp = 0;
      for (let piece = 0; piece < pieces; piece += 1) {
        if (piece > 0) await rig.breathe("sos", BREATH_MS);
        const before = await rig.counters(path);
        const cpuBefore = cpuSeconds(rig.pids[path]);
        await sleep(ROUND_MS / pieces);
        const after = await rig.counters(path);
        sum.seconds += (after.at - before.at) / 1000;
        sum.pictures += after.pictures - before.pictures;
        sum.frames += after.frames - before.frames;
        sum.bytes += after.bytes - before.bytes;
        sum.cpu += cpuSeconds(rig.pids[path]) - cpuBefore;
        // SOS (one piece): frames decoded (the console's inbound-rtp counter), the figure judged
        // before the lossless path (like noVNC's completed updates, whether or not the page was
        // painted before the next one), beside the pictures shown (video and overlay).
        if (after.video !== undefined && before.video !== undefined) {
          video = difference(before.video, after.video);
          sum.decoded += video.framesDecoded ?? 0;
          pipeline = pipelineOf(rig, before.at, after.at);
        }
        if (after.screen !== undefined && before.screen !== undefined) {
          screen = {
            records: after.screen.records - before.screen.records,
            recordBytes: after.screen.recordBytes - before.screen.recordBytes,
            channelBytes: after.screen.channelBytes - before.screen.channelBytes,
            channels: after.screen.channels,
            repeats: after.screen.repeats - before.screen.repeats,
          };
          transportBytes = (after.transportBytes ?? 0) - (before.transportBytes ?? 0);
          callbacks = (after.callbacks ?? 0) - (before.callbacks ?? 0);
          withoutRtp = (after.withoutRtp ?? 0) - (before.withoutRtp ?? 0);
        }
      }
      const perSecond = (n: number) => n / sum.seconds;
      const mbit = (bytes: number) => (bytes * 8) / sum.seconds / 1e6;
      const screenBytes = screen?.channelBytes ?? 0;
      rounds.push({
        path,
        fps: perSecond(sum.pictures),
        fpsBefore: perSecond(video === undefined ? sum.frames : sum.decoded),
        presented: perSecond(sum.frames),
        mbps: mbit(sum.bytes + screenBytes),
        cpu: (sum.cpu / sum.seconds) * 100,
        ...(screen === undefined
          ? {}
          : {
              videoMbps: mbit(sum.bytes),
              screenMbps: mbit(screenBytes),
              transportMbps: mbit(transportBytes),
              records: perSecond(screen.records),
              repeats: perSecond(screen.repeats),
              callbacks: perSecond(callbacks),
              withoutRtp: perSecond(withoutRtp),
              recordMbps: mbit(screen.recordBytes),
            }),
        ...(video === undefined ? {} : { video }),
        ...(pipeline === undefined ? {} : { pipeline }),
      });
      // What the technician saw at the end of the last round (outside what is measured).
      if (round === ROUNDS - 1) {
        const files = await rig.saveSnapshot(path, `vs-vnc-${workload}`);
        console.log(`  ${path}: the picture at the end of the last round: ${files.join(", ")}`);
      }
    }
  }
  return rounds;
}

/** Prints one workload's table and goal line; returns its summary. */
function report(workload: ScrollWorkload, rounds: readonly Round[], judged: boolean) {
  type Key = "fps" | "fpsBefore" | "mbps" | "videoMbps" | "screenMbps" | "cpu";
  const mean = (path: Path, key: Key) => {
    const mine = rounds.filter((r) => r.path === path).map((r) => r[key] ?? r.mbps);
    return mine.reduce((a, b) => a + b, 0) / mine.length;
  };
  const summary: Summary[] = (["sos", "vnc"] as const).map((path) => ({
    path,
    fps: mean(path, "fps"),
    fpsBefore: mean(path, "fpsBefore"),
    mbps: mean(path, "mbps"),
    // x11vnc has one path: its bytes are all "video" here, none "screen".
    videoMbps: mean(path, "videoMbps"),
    screenMbps: path === "sos" ? mean(path, "screenMbps") : 0,
    cpu: mean(path, "cpu"),
  }));
  console.log(
    `\nworkload ${workload} (${judged ? "judged" : "reported"}): scrolling terminal, 1920x1080, agent --screen-copy ${SCREEN_COPY}; rounds alternate (mean of each path's rounds)`,
  );
  console.log(
    "fps: distinct pictures shown (animation frames in which a capture not shown before appeared; SOS: by a video frame or a screen record, one capture by both = one; x11vnc: frames with an update)",
  );
  console.log(
    "fps before: the figure of sessions 8-11 (SOS: video frames decoded; x11vnc: updates completed)",
  );
  console.log(
    "Mbit/s: SOS video (RTP payload) + screen (the `screen` channel's messages, getStats data-channel bytesReceived) = sum; x11vnc: RFB over WebSocket",
  );
  console.log("path    fps  before   Mbit/s    video   screen   CPU %   (per round: fps)");
  for (const s of summary) {
    const per = rounds
      .filter((r) => r.path === s.path)
      .map((r) => r.fps.toFixed(1))
      .join(" ");
    const cells = [s.fps, s.fpsBefore].map((v) => v.toFixed(1).padStart(6));
    const rates = [s.mbps, s.videoMbps, s.screenMbps].map((v) => v.toFixed(3).padStart(8));
    console.log(
      `${s.path.padEnd(5)}${cells.join(" ")} ${rates.join(" ")} ${s.cpu.toFixed(0).padStart(7)}   (${per})`,
    );
  }
  for (const round of rounds) {
    if (round.video === undefined) continue;
    const counts = Object.entries(round.video).map(([name, value]) => `${name} ${value}`);
    console.log(
      `  sos round ${round.fps.toFixed(1)} fps (video presented ${round.presented.toFixed(1)}, with a callback ${(round.callbacks ?? 0).toFixed(1)}, ${(round.withoutRtp ?? 0).toFixed(1)} of them without RTP timestamp, decoded ${round.fpsBefore.toFixed(1)}, screen records painted ${(round.records ?? 0).toFixed(1)}/s, of one capture already shown ${(round.repeats ?? 0).toFixed(1)}/s): ${counts.join(", ")}`,
    );
    const mbit = (v: number | undefined) => (v ?? 0).toFixed(3);
    console.log(
      `    bytes: video ${mbit(round.videoMbps)} + screen ${mbit(round.screenMbps)} = ${mbit(round.mbps)} Mbit/s (records' own count ${mbit(round.recordMbps)}; every transport ${mbit(round.transportMbps)}: with RTP/RTCP headers, SCTP, DTLS and the control channel)`,
    );
    if (round.pipeline !== undefined) console.log(`    agent: ${pipelineText(round.pipeline)}`);
  }
  const [sos, vnc] = summary;
  if (sos === undefined || vnc === undefined) throw new Error("no rounds");
  const fpsRatio = sos.fps / vnc.fps;
  const fpsBeforeRatio = sos.fpsBefore / vnc.fpsBefore;
  const bandwidthRatio = sos.mbps / vnc.mbps;
  const met = fpsRatio >= GOAL_FPS_RATIO && bandwidthRatio <= GOAL_BANDWIDTH_RATIO;
  console.log(
    `${judged ? "goal (issue 14)" : "for comparison"}: fps >= ${GOAL_FPS_RATIO}x x11vnc's at <= ${GOAL_BANDWIDTH_RATIO}x its bandwidth (both SOS paths summed): fps ratio ${fpsRatio.toFixed(2)} (by the figure before: ${fpsBeforeRatio.toFixed(2)}), bandwidth ratio ${bandwidthRatio.toFixed(2)} (video ${(sos.videoMbps / vnc.mbps).toFixed(2)} + screen ${(sos.screenMbps / vnc.mbps).toFixed(2)}), CPU ratio ${(sos.cpu / vnc.cpu).toFixed(2)}: ${met ? "MET" : "NOT MET"}`,
  );
  return { workload, summary, fpsRatio, fpsBeforeRatio, bandwidthRatio, met, rounds };
}

async function main(): Promise<void> {
  const rig = await startRig(teardown, AGENT_ARGS, X11VNC_ARGS, SCREEN_COPY);
  agentLog = rig.agentLog;
  const results = [];
  for (const [index, workload] of WORKLOADS.entries()) {
    const rounds = await measure(rig, workload);
    rig.turn("sos");
    const result = report(workload, rounds, index === 0);
    // The console's picture against the screen's, once the terminal stopped and SOS caught up.
    rig.freezeScrolling(true);
    await sleep(SETTLE_MS);
    const still = await rig.compareWithScreen(`vs-vnc-${workload}-still`);
    rig.freezeScrolling(false);
    console.log(`console against the X screen, terminal stopped ${SETTLE_MS} ms: ${comparisonText(still)}`);
    results.push({ ...result, still });
  }
  await rig.scrolling(false);
  const fitted = rig
    .agentLog()
    .split("\n")
    // Its rate changes, and ICE restarts (a path that went quiet): either changes what a round measures.
    .filter(
      (line) => line.includes("fitted") || line.includes("ICE restart") || line.includes("path restored"),
    );
  if (fitted.length > 0) console.log(`\nagent: ${fitted.join("\nagent: ")}`);
  const painted = results.flatMap((r) => r.rounds).some((r) => (r.records ?? 0) > 0);
  if (!painted && SCREEN_COPY !== "off")
    console.log(
      "\nno screen record was painted in any round: the console has no overlay, or the agent did not use the path (the video alone was measured)",
    );
  mkdirSync("bench-results", { recursive: true });
  writeFileSync(
    "bench-results/vs-vnc.json",
    `${JSON.stringify({ judged: WORKLOADS[0], screenCopy: SCREEN_COPY, agentArgs: AGENT_ARGS, results }, null, 2)}\n`,
  );
  console.log("written to bench-results/vs-vnc.json");
}

try {
  await main();
} catch (error) {
  console.error(error);
  if (agentLog !== undefined) console.error(`agent stderr:\n${agentLog().slice(-4_000)}`);
  process.exitCode = 1;
} finally {
  for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => undefined);
}
process.exit(process.exitCode ?? 0);
