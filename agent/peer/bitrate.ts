/**
 * The encoder's bitrate and frame rate from what the technicians' receivers report. One stream feeds every
 * technician, so the slowest receiver sets it, within [MIN_BITRATE, the configured maximum]:
 * - a REMB estimate caps it (a little under the estimate), when it is below what was actually sent:
 *   Chromium's receive-side estimate stays within about 1.5x of the rate it receives, so while
 *   the agent sends less than it may (frames only where the screen changes) the estimate merely
 *   echoes that rate; taken as a cap, it pinned a scrolling screen at the lowest bitrate and 6 fps;
 * - loss above 10 % cuts it by 30 %, loss of 2-10 % holds it; loss is the larger of what the
 *   receiver reports say and the share of packets the receiver asked for again (NACK);
 * - without loss it climbs back by a quarter per check.
 * Small moves are ignored: each change restarts the encoder, which costs a keyframe.
 *
 * The frame rate follows the bitrate: a screen is read, so when bits are scarce each frame keeps
 * its sharpness and fewer frames are sent (what WebRTC does for screen content), down to
 * MIN_FRAME_RATE, never above the end user's --max-fps.
 */

export const MIN_BITRATE = 300_000;
/** Aim a little under the REMB estimate, leaving room for retransmissions and the control channel. */
const HEADROOM = 0.85;
/** Relative change below which the bitrate stays as it is. */
const HYSTERESIS = 0.25;

export type ReceiverReport = {
  /** REMB estimate in bit/s; 0 when none arrived. */
  readonly estimate: number;
  /** Fraction of packets lost (0..1) in the last receiver report. */
  readonly fractionLost: number;
  /** Packets asked for again (NACK) per packet sent since the previous check (0..1). */
  readonly nackRate: number;
  /** What was sent to this receiver since the previous check, bit/s. */
  readonly sentBitrate: number;
};

function limitFor(report: ReceiverReport, current: number, max: number): number {
  const congested = report.estimate > 0 && report.estimate < report.sentBitrate;
  let limit = congested ? report.estimate * HEADROOM : max;
  const loss = Math.max(report.fractionLost, report.nackRate);
  if (loss > 0.1) limit = Math.min(limit, current * 0.7);
  else if (loss > 0.02) limit = Math.min(limit, current);
  else limit = Math.min(limit, current * (1 + HYSTERESIS));
  return limit;
}

export function nextBitrate(current: number, reports: readonly ReceiverReport[], max: number): number {
  const wanted = Math.min(max, ...reports.map((report) => limitFor(report, current, max)));
  const target = Math.round(Math.max(MIN_BITRATE, wanted));
  return Math.abs(target - current) >= current * HYSTERESIS ? target : current;
}

export const MIN_FRAME_RATE = 5;
/**
 * Bits a frame of screen content needs per pixel to stay sharp: about 50 kbit for a 1080p frame
 * of scrolling text at the encoder's settings (measured here: 6-7 KB per changed frame).
 */
const BITS_PER_PIXEL_FRAME = 0.024;

/** Frames per second that `bitrate` affords at `pixels` per frame, within [MIN_FRAME_RATE, maxFps]. */
export function frameRateFor(bitrate: number, pixels: number, maxFps: number): number {
  const affordable = Math.floor(bitrate / (pixels * BITS_PER_PIXEL_FRAME));
  return Math.min(maxFps, Math.max(MIN_FRAME_RATE, affordable));
}
