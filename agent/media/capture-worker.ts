/**
 * The capture worker: captures the chosen monitor, skips frames equal to the last one encoded,
 * encodes the rest and posts the chunks to the main thread, so that capture and encode never hold
 * up the event loop that serves signaling and input.
 *
 * Polling: at the full rate while the screen changes, while something happens (input, pointer
 * movement) and for two seconds after; then once a second, and every two seconds after five idle
 * seconds, so that an idle screen costs little. A keyframe request or activity wakes it at once.
 */
import { parentPort, workerData } from "node:worker_threads";
import { AgentError } from "../exit.ts";
import { type MonitorCapture, openMonitor, type RgbaFrame } from "./capture.ts";
import { type EncodedChunk, FrameEncoder } from "./encoder.ts";
import type { FromWorker, PipelineSettings, PipelineStats, ToWorker } from "./worker-protocol.ts";

const FAST_AFTER_ACTIVITY_MS = 2_000;
const SLOW_POLL_MS = 1_000;
const IDLE_POLL_MS = 2_000;
const IDLE_AFTER_MS = 5_000;
/** Frames in the encoder before a changed frame waits for the next round. */
const MAX_PENDING = 2;

const port = parentPort;
if (port === null) throw new Error("capture-worker must run in a worker thread");
const post = (message: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

let settings = workerData as PipelineSettings;
let running = false;
/** One keyframe is wanted even while not running. */
let priming = false;
let stopping = false;
let wantKeyframe = true;
let activeUntil = 0;
let lastChange = Number.NEGATIVE_INFINITY;
let previous: Buffer | undefined;
const stats = { captured: 0, changed: 0, encoded: 0, busy: 0 } satisfies PipelineStats;

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
  stopping = true;
  wake?.();
}

function onChunk(chunk: EncodedChunk): void {
  const { buffer, byteOffset, byteLength } = chunk.data;
  const data = new Uint8Array(buffer, byteOffset, byteLength);
  const transfer = buffer instanceof ArrayBuffer && byteOffset === 0 && byteLength === buffer.byteLength;
  post(
    {
      type: "chunk",
      data: transfer ? data : data.slice(),
      key: chunk.key,
      timestampUs: chunk.timestampUs,
      width: chunk.width,
      height: chunk.height,
      capturedAt: performance.timeOrigin + chunk.timestampUs / 1000,
    },
    transfer && buffer instanceof ArrayBuffer ? [buffer] : [],
  );
}

const encoder = new FrameEncoder(
  { codec: settings.codec, bitrate: settings.bitrate, framerate: settings.maxFps },
  onChunk,
  fail,
);
let monitor: MonitorCapture;

function open(index: number): void {
  monitor = openMonitor(index);
  previous = undefined;
  wantKeyframe = true;
  post({ type: "monitor", geometry: monitor.geometry });
}

function apply(next: Partial<PipelineSettings>): void {
  const before = settings;
  settings = { ...settings, ...next };
  // Choosing a monitor, even the shown one, reopens it (and answers with the monitor).
  if (next.monitor !== undefined) open(settings.monitor);
  if (settings.bitrate !== before.bitrate || settings.maxFps !== before.maxFps) {
    encoder.update({ bitrate: settings.bitrate, framerate: settings.maxFps });
    wantKeyframe = true;
  }
}

function onMessage(message: ToWorker): void {
  switch (message.type) {
    case "run":
      running = message.running;
      if (running) priming = false;
      break;
    case "keyframe":
      wantKeyframe = true;
      break;
    case "prime":
      wantKeyframe = true;
      priming = !running;
      break;
    case "activity":
      activeUntil = performance.now() + FAST_AFTER_ACTIVITY_MS;
      break;
    case "settings":
      apply(message.settings);
      break;
    case "stats":
      post({ type: "stats", stats: { ...stats } });
      return;
    case "stop":
      stopping = true;
      break;
  }
  wake?.();
}

function pollInterval(now: number): number {
  const full = 1_000 / settings.maxFps;
  if (now < activeUntil || now - lastChange < FAST_AFTER_ACTIVITY_MS) return full;
  return now - lastChange < IDLE_AFTER_MS ? SLOW_POLL_MS : IDLE_POLL_MS;
}

/** A capture under way, with the monitor it belongs to (a switch makes it stale). */
type Capture = {
  readonly monitor: MonitorCapture;
  readonly startedAt: number;
  readonly frame: Promise<RgbaFrame>;
};

function startCapture(): Capture {
  return { monitor, startedAt: performance.now(), frame: monitor.capture() };
}

/** Whether a captured frame goes to the encoder: changed (or a keyframe is due) and the encoder has room. */
function worthEncoding(frame: RgbaFrame, capturedAt: number): boolean {
  stats.captured += 1;
  const changed = previous === undefined || !frame.data.equals(previous);
  if (changed) {
    stats.changed += 1;
    lastChange = capturedAt;
  }
  if (!changed && !wantKeyframe) return false;
  if (encoder.pending >= MAX_PENDING) {
    stats.busy += 1;
    return false;
  }
  return true;
}

function encode(frame: RgbaFrame, capturedAt: number): void {
  encoder.encode(frame, Math.round(capturedAt * 1000), wantKeyframe);
  stats.encoded += 1;
  wantKeyframe = false;
  previous = frame.data;
}

/** One capture encoded as a keyframe while idle: ready to replay when the technician connects. */
async function primeOnce(): Promise<void> {
  priming = false;
  const current = startCapture();
  const frame = await current.frame;
  if (current.monitor !== monitor || stopping) return;
  if (worthEncoding(frame, current.startedAt)) encode(frame, current.startedAt);
}

/**
 * Capture runs on the thread pool; when the loop is behind its frame rate, the next capture
 * starts before this frame is handed to the encoder (whose colour conversion runs on this
 * thread), so the two overlap and the pipeline keeps up with capture alone.
 */
async function loop(): Promise<void> {
  let next: Capture | undefined;
  while (!stopping) {
    if (!running && !priming) {
      next = undefined;
      await sleep(60_000);
      continue;
    }
    try {
      if (!running) {
        await primeOnce();
        continue;
      }
      const current = next !== undefined && next.monitor === monitor ? next : startCapture();
      next = undefined;
      const frame = await current.frame;
      if (current.monitor !== monitor || stopping) continue;
      const encodeIt = worthEncoding(frame, current.startedAt);
      const interval = pollInterval(performance.now());
      const behind = current.startedAt + interval <= performance.now();
      if (behind && running && interval < SLOW_POLL_MS) next = startCapture();
      if (encodeIt) encode(frame, current.startedAt);
      const wait = current.startedAt + interval - performance.now();
      if (next === undefined && wait > 0 && !wantKeyframe) await sleep(wait);
      else await sleep(0);
    } catch (error) {
      fail(error);
      break;
    }
  }
  encoder.close();
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
