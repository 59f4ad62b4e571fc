/**
 * The encoder's bitrate from what the technicians' receivers report (REMB). One stream feeds
 * every technician, so the slowest estimate sets it; within [MIN_BITRATE, the configured maximum].
 * Small moves are ignored: each change restarts the encoder, which costs a keyframe.
 */

export const MIN_BITRATE = 300_000;
/** Aim a little under the estimate, leaving room for retransmissions and the control channel. */
const HEADROOM = 0.85;
/** Relative change below which the bitrate stays as it is. */
const HYSTERESIS = 0.25;

export function nextBitrate(current: number, estimates: readonly number[], max: number): number {
  const known = estimates.filter((estimate) => estimate > 0);
  const wanted = known.length === 0 ? max : Math.min(...known) * HEADROOM;
  const target = Math.round(Math.min(max, Math.max(MIN_BITRATE, wanted)));
  return Math.abs(target - current) >= current * HYSTERESIS ? target : current;
}
