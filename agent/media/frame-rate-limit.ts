/**
 * The frame rate the machine keeps up with, below the cap (`--max-fps`, or less when bits are
 * scarce: peer/bitrate.ts). The capture worker measures each frame it encodes in its three stages:
 * capture (the thread pool and the X server), conversion to I420 (the worker thread) and encoding
 * (the encoder's own threads, from when the frame went in, after the one before it was out, to its
 * chunk). Wall times, so waiting for a CPU counts; waiting behind another frame does not. The
 * stages of consecutive frames overlap (the next capture starts while this frame is converted and
 * encoded), so the frames can follow one another as fast as the slowest stage allows, not the sum
 * of the three: the worker spaces frames by the slowest stage, each stage smoothed over the last
 * ten or so frames. On a slow or busy PC a stage takes longer (its threads wait for a CPU) and the
 * video gives way instead of queueing frames it cannot finish; on a quiet one the cap is the limit.
 *
 * Measured (`npm run bench:vs-vnc`, new text scrolling at 1080p, two cores shared with Chromium,
 * Xvfb and other work, load 5-10; means per round): capture 4-13 ms, conversion 3-6 ms, encoding
 * 21-64 ms a frame. Spaced by the sum of the three, frames came at 5-16 a second with the encoder
 * idle between them; by the slowest stage the limit stays near the cap of 30 there and no longer
 * decides the rate (session 11: text 7.3 -> 14-17 fps at the same load).
 *
 * A frame's stage counts at most the interval of the lowest frame rate (MIN_FRAME_RATE): anything
 * longer says no more than "the floor", and a stall of the whole process (stopped, suspended,
 * swapping: a frame measured 2-3.5 s when the benchmark stopped the agent) taken at face value
 * held the limit at the floor for the next 5-8 s.
 *
 * The limit changes only the worker's pacing: the encoder keeps its settings (a change there
 * restarts it, which costs a keyframe), so adapting costs nothing in the stream.
 */
import { MIN_FRAME_RATE } from "../peer/bitrate.ts";

/** How much a new frame's time moves the smoothed one (the rest is the frames before it). */
const SMOOTHING = 0.1;
/** The most one frame's stage counts: the interval of the lowest frame rate. */
const LONGEST_STAGE_MS = 1_000 / MIN_FRAME_RATE;

/** One frame's time in each stage, ms. */
export type StageTimes = {
  readonly captureMs: number;
  readonly convertMs: number;
  readonly encodeMs: number;
};

export type FrameRateLimit = {
  /** Frames per second the slowest stage allows, within [MIN_FRAME_RATE, cap]. */
  readonly fps: number;
  /** The slowest stage's smoothed time per frame, ms; undefined before a frame. */
  readonly workMs: number | undefined;
  /** Each stage's smoothed time per frame; undefined before a frame. */
  readonly stages: StageTimes | undefined;
};

/** Before anything is measured: the cap. */
export function unmeasuredLimit(cap: number): FrameRateLimit {
  return { fps: cap, workMs: undefined, stages: undefined };
}

/** Frames per second at which frames taking `workMs` in their slowest stage follow one another. */
function fpsFitting(workMs: number, cap: number): number {
  const fitting = workMs > 0 ? Math.floor(1_000 / workMs) : cap;
  return Math.min(cap, Math.max(MIN_FRAME_RATE, fitting));
}

function limitOf(stages: StageTimes, cap: number): FrameRateLimit {
  const workMs = Math.max(stages.captureMs, stages.convertMs, stages.encodeMs);
  return { fps: fpsFitting(workMs, cap), workMs, stages };
}

/** One frame out of the encoder: its time in each stage, and whether it is a keyframe. */
export type FrameWork = StageTimes & { readonly key: boolean };

/**
 * The limit after one more frame. Keyframes do not count: they come on demand (a technician
 * joins, a receiver lost a packet, the encoder restarted) and the first after a start includes
 * setting up the encoder (measured: ~140 ms at 1080p), which says nothing about the frames after it.
 */
export function nextLimit(limit: FrameRateLimit, work: FrameWork, cap: number): FrameRateLimit {
  if (work.key) return limit;
  const before = limit.stages;
  const smooth = (name: keyof StageTimes) => {
    const sample = Math.min(LONGEST_STAGE_MS, Math.max(0, work[name]));
    const old = before?.[name];
    return old === undefined ? sample : old + SMOOTHING * (sample - old);
  };
  return limitOf(
    { captureMs: smooth("captureMs"), convertMs: smooth("convertMs"), encodeMs: smooth("encodeMs") },
    cap,
  );
}

/** The same limit under another cap (settings changed): the measured work still holds. */
export function withCap(limit: FrameRateLimit, cap: number): FrameRateLimit {
  return limit.stages === undefined ? unmeasuredLimit(cap) : limitOf(limit.stages, cap);
}
