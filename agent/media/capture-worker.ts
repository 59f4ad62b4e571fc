/**
 * The capture worker: captures the chosen monitor, skips frames equal to the last one encoded,
 * encodes the rest and posts the chunks to the main thread, so that capture and encode never hold
 * up the event loop that serves signaling and input.
 *
 * Where the X server reports drawing (DAMAGE, with the MIT-SHM capture), the loop waits for it
 * and captures as soon as something is drawn, at most maxFps times a second (fewer while the machine
 * does not keep up: frame-rate-limit.ts): a key's echo is
 * captured a few milliseconds after the X server drew it, not at the next tick. Between drawings it
 * wakes once a second (every two after five idle seconds) for the whole-screen check of
 * x11-capture.ts.
 *
 * Elsewhere it polls: at the full rate while the screen changes, while something happens (input,
 * pointer movement) and for two seconds after; then once a second, and every two seconds after
 * five idle seconds, so that an idle screen costs little. A keyframe request or activity wakes it.
 *
 * Either way, once the screen has stayed still for a moment after a frame, the same picture is
 * encoded again a few times to sharpen it (top-off.ts), then nothing until the screen changes.
 */
import "../quiet-deprecations.ts";
import { parentPort, workerData } from "node:worker_threads";
import { AgentError } from "../exit.ts";
import { type DrawingWatch, type MonitorCapture, openMonitor, type ScreenFrame } from "./capture.ts";
import { type CaptureMode, createCaptureMode } from "./capture-mode.ts";
import { chunkMessage } from "./chunk-message.ts";
import { createVideoEncoder } from "./encoder-backend.ts";
import { type FrameRateLimit, nextLimit, unmeasuredLimit, withCap } from "./frame-rate-limit.ts";
import { changedRows, I420Picture, type RowRange } from "./i420.ts";
import { epochNow, trace, tracedAreaSum, tracing } from "./latency-trace.ts";
import { ScreenPath } from "./screen-path.ts";
import { yieldToInput } from "./thread-priority.ts";
import {
  afterFrame,
  afterInput,
  afterTopOff,
  msUntilTopOff,
  NO_TOP_OFF,
  REPEAT_AFTER_MS,
  type TopOff,
  topOffDue,
} from "./top-off.ts";
import type { EncodedChunk, VideoCodecName, VideoFrameEncoder } from "./video-encoder.ts";
import type { FromWorker, PipelineSettings, PipelineStats, ToWorker } from "./worker-protocol.ts";
import { closeShmConnection, openShmMonitor } from "./x11-capture.ts";

const FAST_AFTER_ACTIVITY_MS = 2_000;
const SLOW_POLL_MS = 1_000;
const IDLE_POLL_MS = 2_000;
const IDLE_AFTER_MS = 5_000;
/**
 * Captures started before the current one is handled, while the loop is behind its frame rate.
 * One: capture then runs back to back while the previous frame is converted and encoded. More
 * would capture faster (on Xvfb at 1080p, 30-34 fps one at a time, 44-50 with two or three under
 * way) but the X server serves them one after the other, and injected input waits behind them:
 * measured on Xvfb, a pointer move's p99 went from 10 ms (one) to 20 ms (two). Input comes first.
 */
const CAPTURES_AHEAD = 1;
/** Frames in the encoder before a changed frame waits for the next round. */
const MAX_PENDING = 2;

yieldToInput();
const port = parentPort;
if (port === null) throw new Error("capture-worker must run in a worker thread");
const post = (message: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

const mode = createCaptureMode();
const setMode = (to: CaptureMode) => mode.set(to);
const stopping = () => mode.state === "stopping";

let settings = workerData as PipelineSettings;
let wantKeyframe = true;
let activeUntil = 0;
let lastChange = Number.NEGATIVE_INFINITY;
/** When the last frame handled was captured (the frame rate counts from there). */
let lastEncoded = Number.NEGATIVE_INFINITY;
/** When the last frame handed to the encoder was captured (REPEAT_AFTER_MS counts from there). */
let lastVideo = Number.NEGATIVE_INFINITY;
/** The loop sleeps until something is drawn: the first drawing wakes it. */
let waitingForDrawing = false;
const watchedDrawing = new WeakSet<DrawingWatch>();
/** The last capture handed to the encoder, and the same as I420 (updated where captures differ). */
let previous: ScreenFrame | undefined;
let picture: I420Picture | undefined;
const stats = {
  captured: 0,
  changed: 0,
  encoded: 0,
  busy: 0,
  topOffs: 0,
  repeats: 0,
  screenOnly: 0,
} satisfies Omit<PipelineStats, "backend" | "fps" | "workMs" | "screenFrames" | "screenWorkMs">;
/** The screen copy path (screen-path.ts): off until the main thread turns it on. */
const screen = new ScreenPath({
  send: ({ messages, start, rtpTimestamp, capturedAt }) =>
    post(
      { type: "screen", messages, start, rtpTimestamp, capturedAt },
      messages.map((message) => message.buffer as ArrayBuffer),
    ),
  failed: (error) =>
    post({
      type: "log",
      entry: {
        level: "warn",
        message: "screen record not written: a new stream starts",
        detail: String(error),
      },
    }),
});
/** The frame rate the slowest stage of the frames allows, within settings.maxFps. */
let limit: FrameRateLimit = unmeasuredLimit(settings.maxFps);
/** The counters with the limit (for the stats message and the trace). */
const currentStats = () => ({
  ...stats,
  fps: limit.fps,
  workMs: limit.workMs ?? 0,
  screenFrames: screen.frames,
  screenWorkMs: screen.ms,
});
/** The top-offs of the last picture encoded, while the screen stays still (top-off.ts). */
let topOff: TopOff = NO_TOP_OFF;
/** When input last came (the "activity" message): top-offs wait for a pause in typing. */
let inputAt = Number.NEGATIVE_INFINITY;
/**
 * Frames handed to the encoder and not out yet, by timestamp: when, and how long their capture
 * and conversion took. A picture replaced while waiting in the encoder never comes out: its entry
 * goes with the next chunk.
 */
const inEncoder = new Map<number, { handedAt: number; captureMs: number; convertMs: number }>();
/** When the last chunk came out: a frame handed over before that waited for the one before it. */
let lastChunkAt = Number.NEGATIVE_INFINITY;

let wake: (() => void) | undefined;
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      wake = undefined;
      resolve();
    };
    const timer = setTimeout(done, ms);
    wake = done;
  });
}

function fail(error: unknown): void {
  const reason = error instanceof AgentError ? error.reason : "internal";
  const message = error instanceof Error ? error.message : String(error);
  post({ type: "error", reason, message });
  setMode("stopping");
  wake?.();
}

function onChunk(chunk: EncodedChunk, codec: VideoCodecName): void {
  if (tracing) trace({ event: "encoded", ts: chunk.timestampUs, key: chunk.key, bytes: chunk.data.length });
  measure(chunk);
  const { message, transfer } = chunkMessage(chunk, codec);
  post(message, transfer);
}

/**
 * The stages of the frame whose chunk just came out: its capture, its conversion and its time in
 * the encoder, counted from when it went in (after the frame before it was out), so that waiting
 * in a queue is not counted as work.
 */
function measure({ timestampUs, key }: EncodedChunk): void {
  const now = performance.now();
  const handed = inEncoder.get(timestampUs);
  for (const stamp of inEncoder.keys()) if (stamp <= timestampUs) inEncoder.delete(stamp);
  if (handed !== undefined) {
    const { captureMs, convertMs } = handed;
    const encodeMs = now - Math.max(handed.handedAt, lastChunkAt);
    limit = nextLimit(limit, { captureMs, convertMs, encodeMs, key }, settings.maxFps);
  }
  lastChunkAt = now;
}

/** An encoder for the current settings; its chunks say which codec they are in. */
function startEncoder(): VideoFrameEncoder {
  const { codec, bitrate, maxFps } = settings;
  return createVideoEncoder(
    { codec, bitrate, framerate: maxFps },
    {
      onChunk: (chunk) => onChunk(chunk, codec),
      onError: fail,
      onLog: (entry) => post({ type: "log", entry }),
    },
  );
}

let encoder = startEncoder();
let monitor: MonitorCapture | undefined;

/** Resolves once the monitor being opened can capture (the loop waits for it). */
let opening: Promise<void> = Promise.resolve();

/**
 * Opens monitor `index`: MIT-SHM where the display allows it, node-screenshots otherwise. The
 * capture is chosen before the first frame, so that consecutive frames come from the same one.
 */
function open(index: number): void {
  const fallback = openMonitor(index);
  monitor = fallback;
  previous = undefined;
  wantKeyframe = true;
  post({ type: "monitor", geometry: fallback.geometry });
  opening = openShmMonitor(fallback.geometry).then((shm) => {
    // A newer open (a monitor switch) or a stop wins; the shared segment stays with the connection.
    if (shm !== undefined && monitor === fallback && !stopping()) {
      monitor = shm;
      const drawing = shm.drawing;
      if (drawing !== undefined && !watchedDrawing.has(drawing)) {
        watchedDrawing.add(drawing);
        drawing.onDrawn(() => {
          if (waitingForDrawing) wake?.();
        });
      }
    }
  });
}

function apply(next: Partial<PipelineSettings>): void {
  const before = settings;
  settings = { ...settings, ...next };
  // Choosing a monitor, even the shown one, reopens it (and answers with the monitor).
  if (next.monitor !== undefined) open(settings.monitor);
  if (settings.codec !== before.codec) {
    // Another codec: another encoder (frames still queued in the old one are dropped).
    encoder.close();
    encoder = startEncoder();
    wantKeyframe = true;
  } else if (settings.bitrate !== before.bitrate || settings.maxFps !== before.maxFps) {
    encoder.update({ bitrate: settings.bitrate, framerate: settings.maxFps });
    wantKeyframe = true;
  }
  limit = withCap(limit, settings.maxFps);
}

function onMessage(message: ToWorker): void {
  switch (message.type) {
    case "run":
      // run(false) while priming leaves the wanted keyframe wanted.
      if (message.running) setMode("running");
      else if (mode.state === "running") setMode("idle");
      break;
    case "keyframe":
      wantKeyframe = true;
      break;
    case "prime":
      wantKeyframe = true;
      if (mode.state === "idle") setMode("priming");
      break;
    case "activity":
      activeUntil = performance.now() + FAST_AFTER_ACTIVITY_MS;
      inputAt = performance.now();
      topOff = afterInput(topOff, inputAt);
      // Where drawing is reported, input itself is no reason to capture: its echo will be.
      if (monitor?.drawing !== undefined) return;
      break;
    case "settings":
      apply(message.settings);
      break;
    case "stats":
      post({ type: "stats", stats: { ...currentStats(), backend: monitor?.backend ?? "none" } });
      return;
    case "screenPath":
      screen.on = message.on;
      break;
    case "screenRestart":
      screen.restart();
      break;
    case "stop":
      setMode("stopping");
      break;
  }
  wake?.();
}

/** How long until the video is due a repeat of its picture (REPEAT_AFTER_MS); never unless running. */
const msUntilRepeat = (now: number) =>
  mode.state === "running" ? Math.max(0, lastVideo + REPEAT_AFTER_MS - now) : Number.POSITIVE_INFINITY;
const repeatDue = (at: number) => msUntilRepeat(at) === 0;

/** Until the next check of a still screen: the idle poll, or sooner when a top-off or repeat is due. */
function idleInterval(now: number): number {
  const idle = now - lastChange < IDLE_AFTER_MS ? SLOW_POLL_MS : IDLE_POLL_MS;
  return Math.min(idle, msUntilRepeat(now), msUntilTopOff(topOff, now) ?? idle);
}

function pollInterval(now: number): number {
  const full = 1_000 / limit.fps;
  if (now < activeUntil || now - lastChange < FAST_AFTER_ACTIVITY_MS) return full;
  return idleInterval(now);
}

/**
 * With DAMAGE: sleeps until something is drawn (the first drawing wakes it), a keyframe is wanted
 * or the idle check is due; then keeps to the frame rate (the limit's), counted from the last frame
 * encoded.
 */
async function untilDrawn(drawing: DrawingWatch): Promise<void> {
  if (!drawing.drawn && !wantKeyframe && !screen.due) {
    waitingForDrawing = true;
    await sleep(idleInterval(performance.now()));
    waitingForDrawing = false;
  }
  const rest = lastEncoded + 1_000 / limit.fps - performance.now();
  if (rest > 0 && !wantKeyframe && mode.state === "running") await sleep(rest);
  else await sleep(0);
}

/** A capture under way, with the monitor it belongs to (a switch makes it stale). */
type Capture = {
  readonly monitor: MonitorCapture;
  readonly startedAt: number;
  readonly frame: Promise<ScreenFrame>;
  /** How long the capture took, ms, once it is done. */
  tookMs: number;
};

function startCapture(): Capture {
  const capture = monitor;
  if (capture === undefined) throw new Error("no monitor is open");
  const started: Capture = {
    monitor: capture,
    startedAt: performance.now(),
    frame: capture.capture(),
    tookMs: 0,
  };
  started.frame.then(
    () => {
      started.tookMs = performance.now() - started.startedAt;
    },
    () => undefined,
  );
  return started;
}

/**
 * The rows where `frame` differs from the last frame encoded: from the capture's own record where
 * it keeps one image up to date (MIT-SHM), by comparing the two otherwise; all of them for a new
 * size or monitor.
 */
function rowsChanged(frame: ScreenFrame): RowRange[] {
  const all = [{ start: 0, end: frame.height }];
  if (previous === undefined || picture?.fits(frame) !== true) return all;
  const [before, now] = [previous.changes, frame.changes];
  if (before !== undefined && now !== undefined) {
    return before.log === now.log ? now.log.since(before.version) : all;
  }
  if (before !== undefined || now !== undefined) return all;
  return changedRows(previous.data, frame.data, frame.width, frame.height);
}

/**
 * The rows of a capture to encode (the changed ones; all of them for a new size or monitor), or
 * undefined when it is not encoded: unchanged (and no keyframe due), or the encoder is busy.
 */
function worthEncoding(frame: ScreenFrame, capturedAt: number): RowRange[] | undefined {
  stats.captured += 1;
  const rows = rowsChanged(frame);
  if (rows.length > 0) {
    stats.changed += 1;
    lastChange = capturedAt;
    // The picture to refine is gone: its top-offs with it (the next frame encoded starts its own).
    topOff = NO_TOP_OFF;
  }
  if (rows.length === 0 && !wantKeyframe && !screen.due) return undefined;
  if (encoder.pending >= MAX_PENDING) {
    stats.busy += 1;
    return undefined;
  }
  return rows;
}

/**
 * Encodes a capture (its changed rows), or the unchanged picture again: a top-off (top-off.ts) or
 * a repeat (REPEAT_AFTER_MS). Those do not count in the frame-rate limit: they convert nothing and
 * their cost says nothing about the frames of a changing screen.
 */
function encode(
  frame: ScreenFrame,
  rows: readonly RowRange[],
  capture: Capture,
  kind: "change" | "topOff" | "repeat" = "change",
): void {
  const capturedAt = capture.startedAt;
  const converting = performance.now();
  const refining = kind !== "change";
  // The lossless tiles' record of the same capture, and their freeze in the video (not for top-offs).
  const freeze = refining ? undefined : screen.frame(frame, rows, capturedAt);
  // Only lossless tiles changed: no video frame, unless the video is due a repeat anyway (the
  // picture then goes as it is: its tiles the video shows did not change).
  const alone = freeze?.video === false && !wantKeyframe && picture?.fits(frame) === true;
  if (alone && !repeatDue(capturedAt)) {
    screenOnly(frame, capture, performance.now() - converting);
    return;
  }
  if (picture === undefined || !picture.fits(frame)) picture = new I420Picture(frame.width, frame.height);
  picture.update(frame, rows, freeze);
  const timestampUs = Math.round(capturedAt * 1000);
  const handedAt = performance.now();
  const convertMs = handedAt - converting;
  if (!refining) inEncoder.set(timestampUs, { handedAt, captureMs: capture.tookMs, convertMs });
  // convertMs includes the screen path (the same thread's work for the frame): screenMs of it.
  if (tracing) traceFrame(frame, capture, convertMs, refining ? 0 : screen.lastMs, kind);
  encoder.encode(picture, timestampUs, wantKeyframe);
  lastEncoded = capturedAt;
  lastVideo = capturedAt;
  stats.encoded += 1;
  wantKeyframe = false;
  previous = frame;
  if (kind === "repeat") {
    stats.repeats += 1;
    return;
  }
  if (kind === "topOff") stats.topOffs += 1;
  // H.264 only: VP8 in realtime mode makes every tenth frame a keyframe (encoder.ts), so a top-off
  // could cost a keyframe, and no gain was measured for it (top-off.ts). A changed picture whose
  // video tiles did not change (repeated because due) has nothing new to sharpen.
  if (kind === "topOff") topOff = afterTopOff(topOff, capturedAt);
  else if (!alone) topOff = settings.codec === "h264" ? afterFrame(capturedAt, inputAt) : NO_TOP_OFF;
}

/**
 * A capture whose changes all lie in lossless tiles: its record is on its way and the video's
 * picture is what was encoded last, so it is neither converted nor encoded (a frame of nothing for
 * x264 to code, the network to carry and the browser to decode and composite). The frame rate
 * counts it; the top-offs of the last frame encoded stay due.
 */
function screenOnly(frame: ScreenFrame, capture: Capture, screenMs: number): void {
  previous = frame;
  lastEncoded = capture.startedAt;
  stats.screenOnly += 1;
  // The frame rate learns from these frames too, with no time in the encoder: else, while the
  // screen path carries every change, only the repeats (once a second) and the first frames of
  // the session would move it, and the limit stayed near its start (bench:vs-vnc: 11 fps in the
  // first round, 22 and 29 in the next ones, the encoder idle).
  const work = { captureMs: capture.tookMs, convertMs: screenMs, encodeMs: 0, key: false };
  limit = nextLimit(limit, work, settings.maxFps);
  // As for an encoded frame: convertMs is the thread's work for it (here the screen path's alone).
  if (tracing) traceFrame(frame, capture, screenMs, screenMs, "screenOnly");
}

/** The latency trace's line for a capture handled (SOS_LATENCY_TRACE), as it is handed on. */
function traceFrame(
  frame: ScreenFrame,
  capture: Capture,
  convertMs: number,
  screenMs: number,
  kind: "change" | "topOff" | "repeat" | "screenOnly",
): void {
  const { x, y } = capture.monitor.geometry;
  const areaSum = tracedAreaSum(frame, x, y);
  const pipeline = { ...currentStats(), captureMs: capture.tookMs, convertMs, screenMs };
  trace({
    event: "frame",
    ts: Math.round(capture.startedAt * 1000),
    captureStart: performance.timeOrigin + capture.startedAt,
    captured: epochNow(),
    pipeline,
    ...(kind === "change" ? {} : { [kind]: 1 as const }),
    ...(areaSum === undefined ? {} : { areaSum }),
  });
}

/** One capture encoded as a keyframe while idle: ready to replay when the technician connects. */
async function primeOnce(): Promise<void> {
  setMode("idle");
  const current = startCapture();
  const frame = await current.frame;
  if (current.monitor !== monitor || stopping()) return;
  const rows = worthEncoding(frame, current.startedAt);
  if (rows !== undefined) encode(frame, rows, current);
}

/**
 * Capture runs on the thread pool; when the loop is behind its frame rate, the next captures
 * start before this frame is converted (on this thread) and handed to the encoder (its own
 * threads), so capture, conversion and encoding of consecutive frames overlap.
 */
async function loop(): Promise<void> {
  const ahead: Capture[] = [];
  /** Captures started and no longer wanted: their results (or errors) are ignored. */
  const discardAhead = () => {
    for (const stale of ahead.splice(0)) stale.frame.catch(() => undefined);
  };
  while (!stopping()) {
    // Captures queued while running are stale once it stops (a primed frame must not be followed
    // by an older one).
    if (mode.state !== "running") discardAhead();
    if (mode.state === "idle") {
      await sleep(60_000);
      continue;
    }
    try {
      await opening;
      if (mode.state !== "running") {
        if (mode.state === "priming") await primeOnce();
        continue;
      }
      let current = ahead.shift();
      if (current !== undefined && current.monitor !== monitor) {
        current.frame.catch(() => undefined);
        discardAhead();
        current = undefined;
      }
      current ??= startCapture();
      const frame = await current.frame;
      if (current.monitor !== monitor || stopping()) continue;
      // The next capture starts first, before this one is compared: capture is the bottleneck.
      const pacing = pollInterval(performance.now());
      if (
        current.startedAt + pacing <= performance.now() &&
        mode.state === "running" &&
        pacing < SLOW_POLL_MS
      ) {
        while (ahead.length < CAPTURES_AHEAD) ahead.push(startCapture());
      }
      const rows = worthEncoding(frame, current.startedAt);
      if (rows !== undefined) encode(frame, rows, current);
      else if (topOffDue(topOff, current.startedAt)) encode(frame, [], current, "topOff");
      else if (repeatDue(current.startedAt)) encode(frame, [], current, "repeat");
      const drawing = current.monitor.drawing;
      if (drawing !== undefined && ahead.length === 0) {
        await untilDrawn(drawing);
        continue;
      }
      const now = performance.now();
      const interval = pollInterval(now);
      const wait = Math.min(
        current.startedAt + interval - now,
        msUntilRepeat(now),
        msUntilTopOff(topOff, now) ?? interval,
      );
      if (ahead.length === 0 && wait > 0 && !wantKeyframe && !screen.due) await sleep(wait);
      else await sleep(0);
    } catch (error) {
      fail(error);
      break;
    }
  }
  discardAhead();
  await closeShmConnection();
  encoder.close();
  screen.close();
  port?.close();
}

port.on("message", onMessage);
try {
  open(settings.monitor);
  void loop();
} catch (error) {
  fail(error);
  port.close();
}
