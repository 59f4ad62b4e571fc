/**
 * The frame rate the machine keeps up with, below the cap (`--max-fps`, or less when bits are
 * scarce: peer/bitrate.ts). The capture worker measures the work of each frame it encodes: its
 * capture, its conversion to I420 and its time in the encoder (wall time, so waiting for a CPU
 * counts; waiting behind another frame does not). While that, smoothed over the last ten or so
 * frames, no longer fits in a frame interval, the worker spaces frames further apart; when it fits
 * again, closer, up to the cap. On a slow or busy PC the video gives way instead of queueing
 * frames it cannot finish; on a quiet one the cap is the limit.
 *
 * The limit changes only the worker's pacing: the encoder keeps its settings (a change there
 * restarts it, which costs a keyframe), so adapting costs nothing in the stream.
 */
import { MIN_FRAME_RATE } from "../peer/bitrate.ts";

/** How much a new frame's time moves the smoothed one (the rest is the frames before it). */
const SMOOTHING = 0.1;

export type FrameRateLimit = {
  /** Frames per second the measured work allows, within [MIN_FRAME_RATE, cap]. */
  readonly fps: number;
  /** Smoothed capture + conversion + encoding time per frame, ms; undefined before a frame. */
  readonly workMs: number | undefined;
};

/** Before anything is measured: the cap. */
export function unmeasuredLimit(cap: number): FrameRateLimit {
  return { fps: cap, workMs: undefined };
}

/** Frames per second at which frames taking `workMs` each follow one another without overlap. */
function fpsFitting(workMs: number, cap: number): number {
  const fitting = workMs > 0 ? Math.floor(1_000 / workMs) : cap;
  return Math.min(cap, Math.max(MIN_FRAME_RATE, fitting));
}

/** One frame out of the encoder: its capture + conversion + encoding time, and whether it is a keyframe. */
export type FrameWork = { readonly workMs: number; readonly key: boolean };

/**
 * The limit after one more frame. Keyframes do not count: they come on demand (a technician
 * joins, a receiver lost a packet, the encoder restarted) and the first after a start includes
 * setting up the encoder (measured: ~140 ms at 1080p), which says nothing about the frames after it.
 */
export function nextLimit(limit: FrameRateLimit, { workMs, key }: FrameWork, cap: number): FrameRateLimit {
  if (key) return limit;
  const smoothed = limit.workMs === undefined ? workMs : limit.workMs + SMOOTHING * (workMs - limit.workMs);
  return { fps: fpsFitting(smoothed, cap), workMs: smoothed };
}

/** The same limit under another cap (settings changed): the measured work still holds. */
export function withCap(limit: FrameRateLimit, cap: number): FrameRateLimit {
  return limit.workMs === undefined
    ? unmeasuredLimit(cap)
    : { fps: fpsFitting(limit.workMs, cap), workMs: limit.workMs };
}
