/**
 * Records of the `screen` channel to its messages (docs/screen-copy-path.md, "Wire format, version
 * 1"): one raw deflate stream (RFC 1951) sync-flushed after each record, so every message ends on
 * a byte boundary and the console decompresses it at once; the bytes of one record cut into messages
 * of at most SCREEN_MESSAGE_BYTES, byte 0 the flags (SCREEN_START on the first message of a stream).
 *
 * One writer per agent screen: the same messages go to every technician. Calls run in the order
 * they were made (start() included), one at a time.
 */
import { constants, createDeflateRaw, type DeflateRaw } from "node:zlib";
import {
  encodeScreenRecord,
  SCREEN_MESSAGE_BYTES,
  SCREEN_START,
  type ScreenRecord,
} from "../../shared/screen.ts";

/**
 * The deflate level. `scripts/probe-screen-wire.ts --replay` on 91 real frames of bench:vs-vnc's
 * text workload (ScreenOps' records, one stream, session 12, load 8): level 1 730 bytes per record
 * (0.13 ms p50), 6 616 bytes (0.17 ms), 9 603 bytes (0.45 ms). 6 (zlib's default) it is: 16% fewer
 * bytes than 1, and 9 saves 2% more for 2.6 times the time.
 */
export const SCREEN_DEFLATE_LEVEL = 6;

const PAYLOAD_BYTES = SCREEN_MESSAGE_BYTES - 1;

export type ScreenWriterOptions = { readonly level?: number };

export class ScreenWriter {
  #level: number;
  #deflate: DeflateRaw | undefined;
  #output: Buffer[] = [];
  #failure: Error | undefined;
  #startNext = false;
  #tail: Promise<unknown> = Promise.resolve();

  constructor(options: ScreenWriterOptions = {}) {
    this.#level = options.level ?? SCREEN_DEFLATE_LEVEL;
  }

  /** A new stream: the next messages start with SCREEN_START (the previous history is dropped). */
  start(): void {
    this.#tail = this.#tail.then(
      () => this.#open(),
      () => this.#open(),
    );
  }

  /**
   * Compresses one record (sync flush); resolves to the channel messages (each at most
   * SCREEN_MESSAGE_BYTES). Rejects before start() and after the stream failed or was closed: a
   * failed stream's history is unknown to the console, so only a new stream (start()) goes on. A
   * record the format cannot hold (encodeScreenRecord's RangeError) fails its own write only: nothing
   * of it reached the stream.
   */
  write(record: ScreenRecord): Promise<Uint8Array[]> {
    const next = this.#tail.then(
      () => this.#write(record),
      () => this.#write(record),
    );
    this.#tail = next;
    return next;
  }

  /** Ends the stream; later writes reject until start(). Safe to call twice. */
  close(): void {
    this.#tail = this.#tail.then(
      () => this.#close(),
      () => this.#close(),
    );
  }

  #open(): void {
    this.#close();
    // Output in pieces of a message's size: fewer trips to the zlib thread for a large record.
    const deflate = createDeflateRaw({ level: this.#level, chunkSize: SCREEN_MESSAGE_BYTES });
    this.#deflate = deflate;
    this.#failure = undefined;
    this.#startNext = true;
    deflate.on("data", (chunk: Buffer) => {
      if (deflate === this.#deflate) this.#output.push(chunk);
    });
    deflate.on("error", (error: Error) => {
      if (deflate === this.#deflate) this.#failure = error;
    });
  }

  #close(): void {
    const deflate = this.#deflate;
    this.#deflate = undefined;
    this.#output = [];
    if (deflate !== undefined) {
      deflate.destroy();
    }
  }

  async #write(record: ScreenRecord): Promise<Uint8Array[]> {
    const deflate = this.#deflate;
    if (deflate === undefined) throw new Error("The screen stream is not started (start() first).");
    if (this.#failure !== undefined) throw new Error("The screen stream failed.", { cause: this.#failure });
    const bytes = encodeScreenRecord(record);
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => reject(new Error("The screen stream failed.", { cause: error }));
      deflate.once("error", onError);
      deflate.write(bytes);
      deflate.flush(constants.Z_SYNC_FLUSH, () => {
        deflate.off("error", onError);
        // Output the stream still buffers (in flowing mode read() hands it to the data listener).
        while (deflate.read() !== null) {}
        if (this.#failure !== undefined)
          reject(new Error("The screen stream failed.", { cause: this.#failure }));
        else resolve();
      });
    });
    const output = Buffer.concat(this.#output);
    this.#output = [];
    return this.#messages(output);
  }

  #messages(output: Uint8Array): Uint8Array[] {
    const messages: Uint8Array[] = [];
    for (let at = 0; at < output.length; at += PAYLOAD_BYTES) {
      const piece = output.subarray(at, at + PAYLOAD_BYTES);
      const message = new Uint8Array(piece.length + 1);
      message[0] = this.#startNext ? SCREEN_START : 0;
      this.#startNext = false;
      message.set(piece, 1);
      messages.push(message);
    }
    return messages;
  }
}
