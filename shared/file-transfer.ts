/**
 * The `files` data channel: files both ways between a technician's browser and the agent, beside
 * the `control` channel on the same peer (never through the gateway). Reliable and ordered.
 *
 * A transfer is named by the number its sender picks (`id`, unique among the sender's transfers
 * on that channel). Text messages (JSON, one decode point per side) say what happens; the file's
 * bytes go as binary messages: 4 bytes of the id (big-endian) and up to FILE_CHUNK_BYTES of data,
 * in order from the offset the receiver accepted.
 *
 *   sender                          receiver
 *   file.offer {id,name,size,sha256} ->
 *                                 <- file.accept {id, offset} | file.refuse {id, code}
 *   binary chunks ... file.done   ->
 *                                 <- file.progress {id, received} (every FILE_PROGRESS_INTERVAL_MS)
 *   With `file.accept {window}` the sender stays at most `window` bytes past the last `received`.
 *                                 <- file.saved {id} | file.failed {id, code}  (SHA-256 checked)
 *   file.cancel {id, by} either way at any time; the receiver keeps nothing under the final name.
 *
 * Resume: when the channel goes away mid-transfer, both sides keep the transfer for
 * FILE_RESUME_WINDOW_MS (shared/limits.ts). On the next `files` channel to the same technician the
 * sender offers it again (same id, name, size, sha256) and the receiver accepts from the bytes it
 * already has (`file.accept {id, offset}`), or answers `file.saved`/`file.failed` for one it had
 * finished. A receiver that kept nothing (an older one) answers offset 0: the file starts again.
 *
 * The sender keeps FILE_BUFFER_HIGH_BYTES at most queued on the channel and goes on when it falls
 * to FILE_BUFFER_LOW_BYTES (bufferedAmountLowThreshold).
 */
import { z } from "zod";
import { FILE_MESSAGE_BYTES, MAX_FILE_BYTES, MAX_FILE_NAME_CHARS } from "./limits.ts";
import { plainText } from "./plain-text.ts";

export const FILES_CHANNEL_LABEL = "files";

/** Which way a file went, as the gateway's audit says it (`session.file`). */
export const FILE_DIRECTIONS = ["to_end_user", "from_end_user"] as const;
export type FileDirection = (typeof FILE_DIRECTIONS)[number];

/**
 * A file that moved whole (SHA-256 checked), as the agent reports it for the audit (`file.transferred`
 * on the agent socket, audited as `session.file`): `name` as saved or offered, made one plain line
 * (sanitizeFileName), `size` in bytes, `sha256` lower-case hex.
 */
export const transferredFileSchema = z.object({
  direction: z.enum(FILE_DIRECTIONS),
  name: plainText(MAX_FILE_NAME_CHARS).min(1),
  size: z.number().int().min(0).max(MAX_FILE_BYTES),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type TransferredFile = z.infer<typeof transferredFileSchema>;

/** Bytes before the data in a binary message: the transfer's id. */
export const FILE_FRAME_HEADER_BYTES = 4;
/** Data bytes in one binary message. */
export const FILE_CHUNK_BYTES = FILE_MESSAGE_BYTES - FILE_FRAME_HEADER_BYTES;

/** Why a transfer was refused or failed (stable codes; the console and the agent word them). */
export const FILE_ERROR_CODES = [
  /** The end user refuses incoming files (--no-files or the consent answer). */
  "FILES_REFUSED",
  /** The technician may not control this computer (view only, revoked, not asked). */
  "NO_CONTROL",
  "TOO_LARGE",
  "TOO_MANY",
  /** The receiver could not write the file (disk full, no permission). */
  "WRITE_FAILED",
  "READ_FAILED",
  /** The bytes received do not have the offered SHA-256. */
  "HASH_MISMATCH",
  /** More or fewer bytes than offered, or data for no transfer. */
  "BAD_DATA",
  /** The channel went away and no channel came back within FILE_RESUME_WINDOW_MS. */
  "INTERRUPTED",
] as const;
export type FileErrorCode = (typeof FILE_ERROR_CODES)[number];

const id = z.number().int().min(1).max(0xffff_ffff);
const sha256 = z.string().regex(/^[0-9a-f]{64}$/, "a SHA-256 in lower-case hex");

const offer = z.object({
  type: z.literal("file.offer"),
  id,
  /** The sender's name for the file; the receiver sanitizes it (shared/file-names.ts). */
  name: z.string().min(1).max(1000),
  size: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  sha256,
});
const accept = z.object({
  type: z.literal("file.accept"),
  id,
  offset: z.number().int().min(0),
  /**
   * Set by a receiver that writes to disk: the sender keeps at most this many bytes past the last
   * `file.progress` it got (which then counts bytes written). Absent (older receivers, the
   * console): no such bound.
   */
  window: z.number().int().min(FILE_CHUNK_BYTES).optional(),
});
const refuse = z.object({ type: z.literal("file.refuse"), id, code: z.enum(FILE_ERROR_CODES) });
const done = z.object({ type: z.literal("file.done"), id });
const progress = z.object({ type: z.literal("file.progress"), id, received: z.number().int().min(0) });
const saved = z.object({ type: z.literal("file.saved"), id });
const failed = z.object({ type: z.literal("file.failed"), id, code: z.enum(FILE_ERROR_CODES) });
const cancel = z.object({
  type: z.literal("file.cancel"),
  id,
  /** Whose transfer `id` names: the one this side sends ("sender") or receives ("receiver"). */
  by: z.enum(["sender", "receiver"]),
});

export const fileMessageSchema = z.discriminatedUnion("type", [
  offer,
  accept,
  refuse,
  done,
  progress,
  saved,
  failed,
  cancel,
]);
export type FileMessage = z.infer<typeof fileMessageSchema>;
export type FileOffer = z.infer<typeof offer>;

/** A binary message: the id's 4 bytes, then the data. */
export function encodeFileChunk(transfer: number, data: Uint8Array): Uint8Array {
  const frame = new Uint8Array(FILE_FRAME_HEADER_BYTES + data.byteLength);
  new DataView(frame.buffer).setUint32(0, transfer);
  frame.set(data, FILE_FRAME_HEADER_BYTES);
  return frame;
}

/** The id and data of a binary message; undefined for one too short or too long. */
export function decodeFileChunk(frame: Uint8Array): { id: number; data: Uint8Array } | undefined {
  if (frame.byteLength < FILE_FRAME_HEADER_BYTES || frame.byteLength > FILE_MESSAGE_BYTES) return undefined;
  const id = new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(0);
  return { id, data: frame.subarray(FILE_FRAME_HEADER_BYTES) };
}

/** Whether a file of `size` bytes may go over the channel. */
export function fileSizeAllowed(size: number, limit = MAX_FILE_BYTES): boolean {
  return size >= 0 && size <= limit;
}
