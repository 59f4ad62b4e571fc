/**
 * The video's 90 kHz RTP clock, pure (no werift): the capture worker stamps the screen channel's
 * records with it and the video fanout its packets, so that a record and the video frame of the
 * same capture carry the same time (docs/screen-copy-path.md, "Wire format").
 */

/** The 90 kHz RTP clock from a capture timestamp in microseconds. */
export function rtpTimestamp(timestampUs: number): number {
  return Math.round((timestampUs * 9) / 100) >>> 0;
}
