/**
 * Timestamps along the video path, for `npm run bench:latency`: with SOS_LATENCY_TRACE set to a
 * file, the agent's threads append one JSON line per event there (input received and injected,
 * damage seen, frame captured, encoded, sent), in ms since the epoch, so the benchmark can tell
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

/** Now, in ms since the epoch, comparable between threads and processes on this machine. */
export const epochNow = (): number => performance.timeOrigin + performance.now();

export type TraceEvent =
  | { readonly event: "input"; readonly kind: string; readonly phase: "received" | "injected" }
  | { readonly event: "damage" }
  | {
      readonly event: "frame";
      /** The chunk's timestamp (µs), which the RTP timestamp is made from. */
      readonly ts: number;
      readonly captureStart: number;
      /** Captured and converted to I420, about to be handed to the encoder. */
      readonly captured: number;
      /** The capture worker's counters and frame-rate limit then (`npm run bench:vs-vnc` prints them). */
      readonly pipeline?: PipelineTrace;
      /** 1 for a top-off (the unchanged picture again, top-off.ts). */
      readonly topOff?: 1;
    }
  | { readonly event: "encoded"; readonly ts: number; readonly key: boolean; readonly bytes: number }
  | { readonly event: "sent"; readonly ts: number; readonly packets: number }
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
