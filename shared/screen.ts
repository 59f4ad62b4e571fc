/**
 * The `screen` data channel: the lossless copy path beside the video (docs/screen-copy-path.md,
 * "Wire format, version 1", is the byte contract). Agent to console: binary messages, byte 0 flags
 * (SCREEN_START), then a piece of one raw deflate stream; decompressed, the stream is records, each
 * a u32 length (big-endian) and its body. Console to agent: JSON text, `screenControlSchema`.
 *
 * `decodeScreenRecord` is the one decode point of a record: it checks everything (sizes, indices,
 * every rectangle within the screen, exact lengths) and never throws. Browser-safe (no node:).
 */
import { z } from "zod";

export { decodeScreenRecord, encodeScreenRecord } from "./screen-codec.ts";
export {
  bitsPerPixel,
  rowBytes,
  SCREEN_BUFFER_HIGH_BYTES,
  SCREEN_BUFFER_LOW_BYTES,
  SCREEN_CHANNEL_LABEL,
  SCREEN_ERROR_CODES,
  SCREEN_LENGTH_BYTES,
  SCREEN_MAX_COPY_SCREENS,
  SCREEN_MAX_RECORD_BYTES,
  SCREEN_MAX_SIDE,
  SCREEN_MESSAGE_BYTES,
  SCREEN_RESET,
  SCREEN_START,
  SCREEN_TILE,
  SCREEN_VERSION,
  type ScreenCopy,
  type ScreenErrorCode,
  type ScreenFailure,
  type ScreenRecord,
  type ScreenRect,
  tileGrid,
  tileRect,
} from "./screen-format.ts";
export { decodeScreenMessage, ScreenRecordReader } from "./screen-reader.ts";

/** Console to agent, JSON text (decodeMessage of shared/decode.ts). */
export const screenControlSchema = z.discriminatedUnion("type", [
  /** This console draws the channel (sent when the channel opens). */
  z.strictObject({ type: z.literal("screen.ready") }),
  /** This console lost track (a decode error) and waits for the next START. */
  z.strictObject({ type: z.literal("screen.resync") }),
]);
export type ScreenControl = z.infer<typeof screenControlSchema>;

/** Whether RTP timestamp `a` is at or after `b` (serial-number order on u32, RFC 1982). */
export function rtpAtOrAfter(a: number, b: number): boolean {
  return (a - b) >>> 0 < 0x80000000;
}
