/**
 * Timestamps along the video path, for `npm run bench:latency`: with SOS_LATENCY_TRACE set to a
 * file, the agent's threads append one JSON line per event there (input received and injected,
 * the typing area drawn, frame captured, encoded, sent), in ms since the epoch, so the benchmark can tell
 * which stage a key press waits in. Unset (the default), nothing is recorded and nothing is paid.
 */
import { appendFileSync } from "node:fs";
import { PerformanceObserver } from "node:perf_hooks";
import { isMainThread } from "node:worker_threads";
import type { PipelineStats } from "./worker-protocol.ts";

/** A frame's stage times (ms) and the worker's counters when it went to the encoder. */
export type PipelineTrace = Omit<PipelineStats, "backend"> & {
  readonly captureMs: number;
  readonly convertMs: number;
};

const file = process.env.SOS_LATENCY_TRACE;

export const tracing = file !== undefined && file !== "";

/** A screen area, [x, y, width, height] in root coordinates. */
export type TracedArea = readonly [number, number, number, number];

/**
 * SOS_LATENCY_TRACE_AREA="x,y,width,height": drawing that touches this area (the benchmark's
 * typing terminal) is traced rect by rect as "drawn", so that the time the X server drew a key's
 * echo is known even while another window draws all the time. Unset or malformed: none is.
 */
export const tracedArea: TracedArea | undefined = (() => {
  const parts = (process.env.SOS_LATENCY_TRACE_AREA ?? "").split(",").map(Number);
  if (!tracing || parts.length !== 4 || !parts.every(Number.isFinite)) return undefined;
  const [x = 0, y = 0, width = 0, height = 0] = parts;
  return [x, y, width, height];
})();

/**
 * A checksum of the traced area's pixels in a capture of the monitor at (`left`, `top`), 4 bytes a
 * pixel: the benchmark takes the first capture whose sum differs after a key went in as the one
 * that caught the echo (whatever the page did with it after). Undefined without a traced area.
 */
export function tracedAreaSum(
  frame: { readonly data: Uint8Array; readonly width: number; readonly height: number },
  left: number,
  top: number,
): number | undefined {
  if (tracedArea === undefined) return undefined;
  const [ax, ay, aw, ah] = tracedArea;
  const x0 = Math.max(0, ax - left);
  const x1 = Math.min(frame.width, ax + aw - left);
  const words = new Uint32Array(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength >> 2);
  let sum = 0;
  for (let y = Math.max(0, ay - top); y < Math.min(frame.height, ay + ah - top); y++) {
    const row = y * frame.width;
    // FNV-1a over the pixels (the alpha byte included: the capture leaves it as it is).
    for (let x = x0; x < x1; x++) sum = Math.imul(sum ^ (words[row + x] ?? 0), 16777619) >>> 0;
  }
  return sum;
}

/** Whether `area` overlaps the traced area. */
export function touchesTracedArea([x, y, w, h]: TracedArea): boolean {
  if (tracedArea === undefined) return false;
  const [ax, ay, aw, ah] = tracedArea;
  return x < ax + aw && ax < x + w && y < ay + ah && ay < y + h;
}

/** Now, in ms since the epoch, comparable between threads and processes on this machine. */
export const epochNow = (): number => performance.timeOrigin + performance.now();

export type TraceEvent =
  | { readonly event: "input"; readonly kind: string; readonly phase: "received" | "injected" }
  /** The X server drew on the traced area (SOS_LATENCY_TRACE_AREA): this rectangle. */
  | { readonly event: "drawn"; readonly area: TracedArea }
  | {
      readonly event: "frame";
      /** The chunk's timestamp (µs), which the RTP timestamp is made from. */
      readonly ts: number;
      readonly captureStart: number;
      /** Captured and converted to I420, about to be handed to the encoder. */
      readonly captured: number;
      /** The capture worker's counters and frame-rate limit then (`npm run bench:vs-vnc` prints them). */
      readonly pipeline?: PipelineTrace;
      /** The traced area's checksum in this capture (SOS_LATENCY_TRACE_AREA; tracedAreaSum). */
      readonly areaSum?: number;
      /** 1 when only the screen path carried the capture (no video frame: capture-worker.ts). */
      readonly screenOnly?: 1;
      /** 1 for a top-off (the unchanged picture again, top-off.ts). */
      readonly topOff?: 1;
      /** 1 for a repeat (the unchanged picture again: no frame for a second, capture-worker.ts). */
      readonly repeat?: 1;
    }
  | { readonly event: "encoded"; readonly ts: number; readonly key: boolean; readonly bytes: number }
  | { readonly event: "sent"; readonly ts: number; readonly packets: number }
  /** A screen record's messages handed to the technicians' `screen` channels (RTP timestamp). */
  | { readonly event: "screenSent"; readonly rtp: number; readonly bytes: number }
  /** A garbage collection pause in this thread (main: the agent's event loop; worker: capture). */
  | { readonly event: "gc"; readonly thread: "main" | "worker"; readonly ms: number };

export function trace(entry: TraceEvent, at = epochNow()): void {
  if (!tracing || file === undefined) return;
  try {
    appendFileSync(file, `${JSON.stringify({ ...entry, at })}\n`);
  } catch {
    // A benchmark's aid: a trace that cannot be written is no reason to disturb the session.
  }
}

/** GC pauses of 1 ms or more, traced where they started. */
if (tracing) {
  const thread = isMainThread ? "main" : "worker";
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (entry.duration >= 1) {
        trace({ event: "gc", thread, ms: entry.duration }, performance.timeOrigin + entry.startTime);
      }
    }
  }).observe({ entryTypes: ["gc"] });
}
