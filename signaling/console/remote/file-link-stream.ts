import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { encodeFileChunk, FILE_CHUNK_BYTES } from "../../../shared/file-transfer.ts";
import { FILE_BUFFER_HIGH_BYTES } from "../../../shared/limits.ts";

/**
 * Reading a picked file for the console's outgoing transfers (file-link-outgoing.ts): its SHA-256
 * before the offer, and its bytes onto the channel with flow control (the channel's buffer, and
 * the window of what the agent wrote to disk).
 */

const HASH_SLICE_BYTES = 4 * 1024 * 1024;

/** What a stream reads and updates of its transfer. */
export type StreamedFile = {
  readonly file: File;
  /** What the agent last said it wrote, and how far past it the stream may go (undefined: no limit). */
  readonly acknowledged: number;
  readonly window: number | undefined;
  /** Set while the stream waits for the agent's progress; whoever calls it wakes the stream. */
  wake: (() => void) | null;
};

const whenLow = (on: RTCDataChannel): Promise<void> =>
  new Promise((resolve) => {
    const done = (): void => {
      on.removeEventListener("bufferedamountlow", done);
      on.removeEventListener("close", done);
      resolve();
    };
    on.addEventListener("bufferedamountlow", done);
    on.addEventListener("close", done);
  });

/**
 * Sends `transfer`'s file from `offset` on `on` as chunks of file `id`. Resolves true once every
 * byte went, false as soon as `stopped` says so (checked before each chunk and after each wait).
 */
export async function streamFile(
  on: RTCDataChannel,
  id: number,
  transfer: StreamedFile,
  offset: number,
  stopped: () => boolean,
): Promise<boolean> {
  let position = offset;
  while (position < transfer.file.size) {
    if (stopped()) return false;
    if (on.bufferedAmount > FILE_BUFFER_HIGH_BYTES) {
      await whenLow(on);
      continue;
    }
    // The agent writes to disk: no further ahead of what it wrote than it asked.
    if (transfer.window !== undefined && position >= transfer.acknowledged + transfer.window) {
      await new Promise<void>((resolve) => {
        transfer.wake = resolve;
      });
      continue;
    }
    const end = Math.min(position + FILE_CHUNK_BYTES * 16, transfer.file.size);
    const slice = new Uint8Array(await transfer.file.slice(position, end).arrayBuffer());
    for (let at = 0; at < slice.byteLength; at += FILE_CHUNK_BYTES) {
      if (stopped()) return false;
      on.send(encodeFileChunk(id, slice.subarray(at, at + FILE_CHUNK_BYTES)) as Uint8Array<ArrayBuffer>);
    }
    position = end;
  }
  return !stopped();
}

/** SHA-256 of a picked file, read in slices (a large file is never held whole). */
export async function hashFile(file: File): Promise<string> {
  const hash = sha256.create();
  for (let at = 0; at < file.size; at += HASH_SLICE_BYTES) {
    hash.update(new Uint8Array(await file.slice(at, at + HASH_SLICE_BYTES).arrayBuffer()));
  }
  return bytesToHex(hash.digest());
}
