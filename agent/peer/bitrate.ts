/**
 * The encoder's bitrate from what the technicians' receivers report. One stream feeds every
 * technician, so the slowest receiver sets it, within [MIN_BITRATE, the configured maximum]:
 * - a REMB estimate caps it (a little under the estimate);
 * - loss above 10 % in the receiver reports cuts it by 30 %, loss of 2-10 % holds it;
 * - without loss it climbs back by a quarter per check.
 * Small moves are ignored: each change restarts the encoder, which costs a keyframe.
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
};

function limitFor(report: ReceiverReport, current: number, max: number): number {
  let limit = report.estimate > 0 ? report.estimate * HEADROOM : max;
  if (report.fractionLost > 0.1) limit = Math.min(limit, current * 0.7);
  else if (report.fractionLost > 0.02) limit = Math.min(limit, current);
  else limit = Math.min(limit, current * (1 + HYSTERESIS));
  return limit;
}

export function nextBitrate(current: number, reports: readonly ReceiverReport[], max: number): number {
  const wanted = Math.min(max, ...reports.map((report) => limitFor(report, current, max)));
  const target = Math.round(Math.max(MIN_BITRATE, wanted));
  return Math.abs(target - current) >= current * HYSTERESIS ? target : current;
}
