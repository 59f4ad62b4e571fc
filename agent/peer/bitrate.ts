/**
 * The encoder's bitrate and frame rate from what the technicians' receivers report. One stream feeds every
 * technician, so the slowest receiver sets it, within [MIN_BITRATE, the configured maximum]:
 * - a REMB estimate caps it (a little under the estimate) only when the receiver has just lowered
 *   it and it is below what was actually sent. Chromium's receive-side estimate starts from the
 *   rate it received in its first seconds (a still screen: 40 kbit/s measured), then grows by
 *   about 8 % a second and never above 1.5x what it receives; it goes down only when packets
 *   arrive later and later (the path's queue fills: congestion). So an estimate that has not gone
 *   down only echoes a sender with little to send (frames only where the screen changes); taken
 *   as a cap, it pinned a scrolling screen at the lowest bitrate and 6 fps;
 * - loss above 10 % cuts it by 30 %, loss of 2-10 % holds it; loss is the larger of what the
 *   receiver reports say and the share of packets the receiver asked for again (NACK: each packet
 *   once, however often it was asked for, and only over enough packets to say anything);
 * - without either it climbs back by half per check (0.3 to 3 Mbit/s in six checks), and the
 *   maximum is always reachable.
 * Other small moves are ignored: each change restarts the encoder, which costs a keyframe.
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
/** Growth per check without loss or a lowered estimate: above 1 + HYSTERESIS, so each check moves. */
const RECOVERY = 1.5;
/** A REMB this much below the one before it is the receiver lowering its estimate (not jitter). */
const ESTIMATE_FALL = 0.97;
/** NACKs over fewer packets than this say nothing about the path's loss. */
export const MIN_NACK_SAMPLE = 50;

export type ReceiverReport = {
  /** REMB estimate in bit/s; 0 when none arrived. */
  readonly estimate: number;
  /** The receiver lowered its estimate since the previous check (EstimateWatch). */
  readonly estimateFell: boolean;
  /** Fraction of packets lost (0..1) in the last receiver report. */
  readonly fractionLost: number;
  /** Packets asked for again (NACK, each once) per packet sent since the previous check (0..1). */
  readonly nackRate: number;
  /** What was sent to this receiver since the previous check, bit/s. */
  readonly sentBitrate: number;
};

function limitFor(report: ReceiverReport, current: number, max: number): number {
  const congested = report.estimateFell && report.estimate > 0 && report.estimate < report.sentBitrate;
  let limit = congested ? report.estimate * HEADROOM : max;
  const loss = Math.max(report.fractionLost, report.nackRate);
  if (loss > 0.1) limit = Math.min(limit, current * 0.7);
  else if (loss > 0.02 || congested) limit = Math.min(limit, current);
  else limit = Math.min(limit, current * RECOVERY);
  return limit;
}

export function nextBitrate(current: number, reports: readonly ReceiverReport[], max: number): number {
  const wanted = Math.min(max, ...reports.map((report) => limitFor(report, current, max)));
  const target = Math.round(Math.max(MIN_BITRATE, wanted));
  if (target === max && current < max) return target;
  return Math.abs(target - current) >= current * HYSTERESIS ? target : current;
}

/** The share of `sent` packets that `nacked` distinct ones are; 0 over too few packets. */
export function nackRateOf(nacked: number, sent: number): number {
  return sent >= MIN_NACK_SAMPLE ? Math.min(1, nacked / sent) : 0;
}

/**
 * Follows one receiver's REMB estimates between two checks: the latest, and whether the receiver
 * lowered it (a value clearly below the one before it, the first one excepted: that is where
 * the receiver starts, not a move).
 */
export class EstimateWatch {
  #latest = 0;
  #fell = false;

  observe(estimate: number): void {
    if (this.#latest > 0 && estimate < this.#latest * ESTIMATE_FALL) this.#fell = true;
    this.#latest = estimate;
  }

  /** The latest estimate (0: none yet) and whether it fell since the previous take(). */
  take(): { estimate: number; estimateFell: boolean } {
    const fell = this.#fell;
    this.#fell = false;
    return { estimate: this.#latest, estimateFell: fell };
  }
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
