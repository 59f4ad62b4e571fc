/** The length-prefix framing of the `screen` channel's decompressed stream. Import it through shared/screen.ts. */
import { fail } from "./screen-codec.ts";
import {
  SCREEN_LENGTH_BYTES,
  SCREEN_MAX_RECORD_BYTES,
  SCREEN_MESSAGE_BYTES,
  SCREEN_START,
  type ScreenFailure,
} from "./screen-format.ts";

/**
 * Splits the decompressed stream into record bodies (length-prefix framing) across any push
 * boundaries. A length above SCREEN_MAX_RECORD_BYTES is refused (SCREEN_TOO_LARGE) before any of
 * its body is kept; after a refusal every push is refused until reset(). A body that lies whole in
 * one pushed array views its memory.
 */
export class ScreenRecordReader {
  #head = new Uint8Array(SCREEN_LENGTH_BYTES);
  #headFill = 0;
  #body: Uint8Array | undefined;
  #bodyFill = 0;
  #failure: ScreenFailure | undefined;

  push(bytes: Uint8Array): { ok: true; bodies: Uint8Array[] } | ScreenFailure {
    if (this.#failure !== undefined) return this.#failure;
    const bodies: Uint8Array[] = [];
    let at = 0;
    while (at < bytes.length) {
      if (this.#body === undefined) {
        if (this.#headFill === 0 && bytes.length - at >= SCREEN_LENGTH_BYTES) {
          const length = new DataView(bytes.buffer, bytes.byteOffset + at, SCREEN_LENGTH_BYTES).getUint32(0);
          at += SCREEN_LENGTH_BYTES;
          if (length > SCREEN_MAX_RECORD_BYTES) return this.#refuse(length);
          if (bytes.length - at >= length) {
            bodies.push(bytes.subarray(at, at + length));
            at += length;
          } else {
            this.#body = new Uint8Array(length);
          }
          continue;
        }
        const take = Math.min(SCREEN_LENGTH_BYTES - this.#headFill, bytes.length - at);
        this.#head.set(bytes.subarray(at, at + take), this.#headFill);
        this.#headFill += take;
        at += take;
        if (this.#headFill < SCREEN_LENGTH_BYTES) break;
        this.#headFill = 0;
        const length = new DataView(this.#head.buffer).getUint32(0);
        if (length > SCREEN_MAX_RECORD_BYTES) return this.#refuse(length);
        this.#body = new Uint8Array(length);
      }
      const body = this.#body;
      const take = Math.min(body.length - this.#bodyFill, bytes.length - at);
      body.set(bytes.subarray(at, at + take), this.#bodyFill);
      this.#bodyFill += take;
      at += take;
      if (this.#bodyFill === body.length) {
        bodies.push(body);
        this.#body = undefined;
        this.#bodyFill = 0;
      }
    }
    return { ok: true, bodies };
  }

  /** Forgets everything: the next push starts at a length prefix (a new stream). */
  reset(): void {
    this.#headFill = 0;
    this.#body = undefined;
    this.#bodyFill = 0;
    this.#failure = undefined;
  }

  #refuse(length: number): ScreenFailure {
    this.#body = undefined;
    this.#failure = fail(
      "SCREEN_TOO_LARGE",
      `A record of ${length} bytes is above ${SCREEN_MAX_RECORD_BYTES}.`,
    );
    return this.#failure;
  }
}

/**
 * One channel message (agent to console): byte 0 the flags, then a piece of the deflate stream.
 * Refuses an empty message or unknown flag bits (SCREEN_MALFORMED) and one above
 * SCREEN_MESSAGE_BYTES (SCREEN_TOO_LARGE). `payload` views the message's memory.
 */
export function decodeScreenMessage(
  message: Uint8Array,
): { ok: true; start: boolean; payload: Uint8Array } | ScreenFailure {
  if (message.length > SCREEN_MESSAGE_BYTES)
    return fail("SCREEN_TOO_LARGE", `A message of ${message.length} bytes is above ${SCREEN_MESSAGE_BYTES}.`);
  const flags = message[0];
  if (flags === undefined) return fail("SCREEN_MALFORMED", "The message is empty.");
  if ((flags & ~SCREEN_START) !== 0) return fail("SCREEN_MALFORMED", `Unknown message flags ${flags}.`);
  return { ok: true, start: flags === SCREEN_START, payload: message.subarray(1) };
}
