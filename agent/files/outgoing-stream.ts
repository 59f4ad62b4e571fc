/** Reading the end user's file onto the `files` channel, and its SHA-256. */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { FILE_CHUNK_BYTES, FILE_FRAME_HEADER_BYTES } from "../../shared/file-transfer.ts";
import { FILE_BUFFER_HIGH_BYTES, FILE_BUFFER_LOW_BYTES } from "../../shared/limits.ts";
import type { FileLink } from "./file-link.ts";

/** Messages read from the file at once (16 × 64 KB: 1 MB a read). */
const FILE_READ_FRAMES = 16;

/**
 * How far the receiver lets the stream go (`file.accept {window}`): `limit()` is the position it
 * may not pass yet, `wait()` resolves when that may have moved (or the stream should stop).
 */
export type Room = { readonly limit: () => number; readonly wait: () => Promise<void> };

/**
 * Reads `path` from `offset` to `size` into binary messages of transfer `id` on `link`, never more
 * than FILE_BUFFER_HIGH_BYTES queued, and never past `room` when the receiver gave one. One read (readv) fills FILE_READ_FRAMES messages at once: a
 * read per 64 KB message costs more in thread-pool round trips than the native files connection
 * spends sending it. Resolves true when every byte went out, false when `stopped()` said so (or the
 * link closed) first.
 */
export async function streamFile(
  link: FileLink,
  transfer: { readonly id: number; readonly path: string; readonly size: number },
  offset: number,
  stopped: () => boolean,
  room?: Room,
): Promise<boolean> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(transfer.path, "r");
    let position = offset;
    while (position < transfer.size) {
      if (stopped() || !link.open) return false;
      if (link.bufferedAmount > FILE_BUFFER_HIGH_BYTES) {
        await new Promise<void>((resolve) => link.whenLow(FILE_BUFFER_LOW_BYTES, resolve));
        continue;
      }
      if (room !== undefined && position >= room.limit()) {
        await room.wait();
        continue;
      }
      const frames: Buffer[] = [];
      let length = 0;
      for (let n = 0; n < FILE_READ_FRAMES && position + length < transfer.size; n++) {
        const part = Math.min(FILE_CHUNK_BYTES, transfer.size - position - length);
        const frame = Buffer.allocUnsafe(FILE_FRAME_HEADER_BYTES + part);
        frame.writeUInt32BE(transfer.id, 0);
        frames.push(frame);
        length += part;
      }
      const parts = frames.map((frame) => frame.subarray(FILE_FRAME_HEADER_BYTES));
      const { bytesRead } = await handle.readv(parts, position);
      if (bytesRead !== length) throw new Error("the file got shorter while it was sent");
      if (stopped() || !link.open) return false;
      for (const frame of frames) link.send(frame);
      position += length;
    }
    return !stopped() && link.open;
  } finally {
    await handle?.close();
  }
}

/** The SHA-256 of a file, read once as a stream. */
export async function hashFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 }))
    hash.update(chunk as Buffer);
  return hash.digest("hex");
}
