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

export const SCREEN_CHANNEL_LABEL = "screen";
/** Side of a tile; the last column and row of tiles may be narrower. */
export const SCREEN_TILE = 64;
/** Largest channel message (flags byte and deflate bytes): werift's largest message. */
export const SCREEN_MESSAGE_BYTES = 65536;
/** Largest screen side a record may state. */
export const SCREEN_MAX_SIDE = 8192;
/** Largest record body (the u32 length prefix); a larger one is refused before it is buffered. */
export const SCREEN_MAX_RECORD_BYTES = 32 * 1024 * 1024;
/** The agent stops sending to a channel with more than this buffered ... */
export const SCREEN_BUFFER_HIGH_BYTES = 1024 * 1024;
/** ... and, once it drained below this, starts a new stream for everyone. */
export const SCREEN_BUFFER_LOW_BYTES = 256 * 1024;
/** Message flag (byte 0): a new deflate stream begins with this message's bytes. */
export const SCREEN_START = 1;
/** Record flag: the canvas is cleared and every tile is video before the record applies. */
export const SCREEN_RESET = 1;
/** The record version this module writes and reads. */
export const SCREEN_VERSION = 1;
/** Bytes of the length prefix before each record body in the decompressed stream. */
export const SCREEN_LENGTH_BYTES = 4;

export const SCREEN_ERROR_CODES = [
  /** Truncated, extra bytes, a palette of 0 or over 256, a count that overruns, unknown flags, a capture time that is not finite. */
  "SCREEN_MALFORMED",
  /** A record version other than SCREEN_VERSION. */
  "SCREEN_VERSION",
  /** A size outside 1..SCREEN_MAX_SIDE, a tile index, rectangle or palette index out of range. */
  "SCREEN_OUT_OF_BOUNDS",
  /** A length prefix above SCREEN_MAX_RECORD_BYTES. */
  "SCREEN_TOO_LARGE",
] as const;
export type ScreenErrorCode = (typeof SCREEN_ERROR_CODES)[number];
export type ScreenFailure = { ok: false; code: ScreenErrorCode; message: string };

/** Rows [y, y+h) x columns [x, x+w) take what rows [y+dy, y+dy+h) held at the record's start. */
export type ScreenCopy = {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
  readonly dy: number;
};
export type ScreenRect = {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
  /** 3 * paletteSize bytes, r g b. */
  readonly palette: Uint8Array;
  /** h rows of ceil(w * bpp / 8) bytes, palette indices, most significant bits first. */
  readonly data: Uint8Array;
};
export type ScreenRecord = {
  readonly reset: boolean;
  readonly rtpTimestamp: number;
  readonly capturedAt: number;
  readonly width: number;
  readonly height: number;
  readonly show: readonly number[];
  readonly hide: readonly number[];
  readonly copies: readonly ScreenCopy[];
  readonly rects: readonly ScreenRect[];
};

/** The smallest of 1, 2, 4, 8 bits with 2^bits >= paletteSize (1..256). */
export function bitsPerPixel(paletteSize: number): 1 | 2 | 4 | 8 {
  if (paletteSize <= 2) return 1;
  if (paletteSize <= 4) return 2;
  if (paletteSize <= 16) return 4;
  return 8;
}

/** Bytes of one row of a rect's data. */
export function rowBytes(w: number, bpp: number): number {
  return Math.ceil((w * bpp) / 8);
}

export function tileGrid(width: number, height: number): { cols: number; rows: number; count: number } {
  const cols = Math.ceil(width / SCREEN_TILE);
  const rows = Math.ceil(height / SCREEN_TILE);
  return { cols, rows, count: cols * rows };
}

/** The pixels of tile `index` (row by row: index = ty * cols + tx), clipped to the screen. */
export function tileRect(
  index: number,
  width: number,
  height: number,
): { x: number; y: number; w: number; h: number } {
  const cols = Math.ceil(width / SCREEN_TILE);
  const x = (index % cols) * SCREEN_TILE;
  const y = Math.floor(index / cols) * SCREEN_TILE;
  return { x, y, w: Math.min(SCREEN_TILE, width - x), h: Math.min(SCREEN_TILE, height - y) };
}

/** Fixed part of a record: version, flags, rtpTimestamp, capturedAt, width, height, four counts. */
const HEAD_BYTES = 1 + 1 + 4 + 8 + 2 + 2;
const COPY_BYTES = 10;
const RECT_HEAD_BYTES = 10;

function u16(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff)
    throw new RangeError(`${what} is not a u16: ${value}`);
  return value;
}

/**
 * A record as it goes into the deflate stream, WITH its u32 length prefix. Throws a RangeError only
 * for a value the format cannot hold (a field outside its integer type, a palette that is not whole
 * r g b triples of 1..256 entries); it does not check bounds (decodeScreenRecord does).
 */
export function encodeScreenRecord(record: ScreenRecord): Uint8Array {
  let size = SCREEN_LENGTH_BYTES + HEAD_BYTES + 2 + 2 * record.show.length + 2 + 2 * record.hide.length;
  size += 2 + COPY_BYTES * record.copies.length + 2;
  for (const rect of record.rects) size += RECT_HEAD_BYTES + rect.palette.length + rect.data.length;
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, size - SCREEN_LENGTH_BYTES);
  view.setUint8(4, SCREEN_VERSION);
  view.setUint8(5, record.reset ? SCREEN_RESET : 0);
  view.setUint32(6, record.rtpTimestamp >>> 0);
  view.setFloat64(10, record.capturedAt);
  view.setUint16(18, u16(record.width, "width"));
  view.setUint16(20, u16(record.height, "height"));
  let at = 22;
  for (const list of [record.show, record.hide]) {
    view.setUint16(at, u16(list.length, "a tile count"));
    at += 2;
    for (const tile of list) {
      view.setUint16(at, u16(tile, "a tile index"));
      at += 2;
    }
  }
  view.setUint16(at, u16(record.copies.length, "the copy count"));
  at += 2;
  for (const copy of record.copies) {
    view.setUint16(at, u16(copy.x, "copy x"));
    view.setUint16(at + 2, u16(copy.y, "copy y"));
    view.setUint16(at + 4, u16(copy.w, "copy w"));
    view.setUint16(at + 6, u16(copy.h, "copy h"));
    if (!Number.isInteger(copy.dy) || copy.dy < -0x8000 || copy.dy > 0x7fff)
      throw new RangeError(`copy dy is not an i16: ${copy.dy}`);
    view.setInt16(at + 8, copy.dy);
    at += COPY_BYTES;
  }
  view.setUint16(at, u16(record.rects.length, "the rect count"));
  at += 2;
  for (const rect of record.rects) {
    const entries = rect.palette.length / 3;
    if (!Number.isInteger(entries) || entries < 1 || entries > 256)
      throw new RangeError(`a palette of ${rect.palette.length} bytes is not 1..256 r g b entries`);
    view.setUint16(at, u16(rect.x, "rect x"));
    view.setUint16(at + 2, u16(rect.y, "rect y"));
    view.setUint16(at + 4, u16(rect.w, "rect w"));
    view.setUint16(at + 6, u16(rect.h, "rect h"));
    view.setUint16(at + 8, entries);
    at += RECT_HEAD_BYTES;
    bytes.set(rect.palette, at);
    at += rect.palette.length;
    bytes.set(rect.data, at);
    at += rect.data.length;
  }
  return bytes;
}

function fail(code: ScreenErrorCode, message: string): ScreenFailure {
  return { ok: false, code, message };
}

/** The first index in `data` (h rows of `stride` bytes, w pixels each) at or above `entries`, or -1. */
function indexBeyond(data: Uint8Array, w: number, h: number, bpp: number, entries: number): number {
  if (entries >= 1 << bpp) return -1;
  const stride = rowBytes(w, bpp);
  const mask = (1 << bpp) - 1;
  for (let row = 0; row < h; row += 1) {
    const base = row * stride;
    for (let px = 0; px < w; px += 1) {
      const bit = px * bpp;
      const index = ((data[base + (bit >> 3)] ?? 0) >> (8 - bpp - (bit & 7))) & mask;
      if (index >= entries) return index;
    }
  }
  return -1;
}

/**
 * The one decode point of a record body (WITHOUT the length prefix). Never throws. The returned
 * palettes and data view `body`'s memory (no copies).
 */
export function decodeScreenRecord(body: Uint8Array): { ok: true; record: ScreenRecord } | ScreenFailure {
  if (body.length < 1) return fail("SCREEN_MALFORMED", "The record is empty.");
  if (body[0] !== SCREEN_VERSION)
    return fail("SCREEN_VERSION", `Record version ${body[0]} is not ${SCREEN_VERSION}.`);
  if (body.length < HEAD_BYTES + 2) return fail("SCREEN_MALFORMED", "The record is truncated.");
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const flags = view.getUint8(1);
  if ((flags & ~SCREEN_RESET) !== 0) return fail("SCREEN_MALFORMED", `Unknown record flags ${flags}.`);
  const rtpTimestamp = view.getUint32(2);
  const capturedAt = view.getFloat64(6);
  if (!Number.isFinite(capturedAt)) return fail("SCREEN_MALFORMED", "The capture time is not a finite number.");
  const width = view.getUint16(14);
  const height = view.getUint16(16);
  if (width < 1 || height < 1 || width > SCREEN_MAX_SIDE || height > SCREEN_MAX_SIDE)
    return fail("SCREEN_OUT_OF_BOUNDS", `The screen ${width}x${height} is outside 1..${SCREEN_MAX_SIDE}.`);
  const tiles = tileGrid(width, height).count;
  let at = HEAD_BYTES;
  const truncated = () => fail("SCREEN_MALFORMED", `The record is truncated at byte ${at}.`);
  const lists: number[][] = [];
  for (const name of ["show", "hide"]) {
    if (at + 2 > body.length) return truncated();
    const count = view.getUint16(at);
    at += 2;
    if (at + 2 * count > body.length)
      return fail("SCREEN_MALFORMED", `The ${name} count ${count} overruns the record.`);
    const list = new Array<number>(count);
    for (let i = 0; i < count; i += 1) {
      const tile = view.getUint16(at + 2 * i);
      if (tile >= tiles)
        return fail("SCREEN_OUT_OF_BOUNDS", `Tile ${tile} in ${name} is not below ${tiles}.`);
      list[i] = tile;
    }
    at += 2 * count;
    lists.push(list);
  }
  if (at + 2 > body.length) return truncated();
  const copyCount = view.getUint16(at);
  at += 2;
  if (at + COPY_BYTES * copyCount > body.length)
    return fail("SCREEN_MALFORMED", `The copy count ${copyCount} overruns the record.`);
  const copies = new Array<ScreenCopy>(copyCount);
  for (let i = 0; i < copyCount; i += 1) {
    const x = view.getUint16(at);
    const y = view.getUint16(at + 2);
    const w = view.getUint16(at + 4);
    const h = view.getUint16(at + 6);
    const dy = view.getInt16(at + 8);
    at += COPY_BYTES;
    if (x + w > width || y + h > height)
      return fail("SCREEN_OUT_OF_BOUNDS", `Copy ${i} to ${x},${y} ${w}x${h} leaves the screen.`);
    if (y + dy < 0 || y + dy + h > height)
      return fail("SCREEN_OUT_OF_BOUNDS", `Copy ${i} from row ${y + dy} (${h} rows) leaves the screen.`);
    copies[i] = { x, y, w, h, dy };
  }
  if (at + 2 > body.length) return truncated();
  const rectCount = view.getUint16(at);
  at += 2;
  if (at + RECT_HEAD_BYTES * rectCount > body.length)
    return fail("SCREEN_MALFORMED", `The rect count ${rectCount} overruns the record.`);
  const rects = new Array<ScreenRect>(rectCount);
  for (let i = 0; i < rectCount; i += 1) {
    if (at + RECT_HEAD_BYTES > body.length) return truncated();
    const x = view.getUint16(at);
    const y = view.getUint16(at + 2);
    const w = view.getUint16(at + 4);
    const h = view.getUint16(at + 6);
    const entries = view.getUint16(at + 8);
    at += RECT_HEAD_BYTES;
    if (x + w > width || y + h > height)
      return fail("SCREEN_OUT_OF_BOUNDS", `Rect ${i} at ${x},${y} ${w}x${h} leaves the screen.`);
    if (entries < 1 || entries > 256)
      return fail("SCREEN_MALFORMED", `Rect ${i} has a palette of ${entries} (1..256).`);
    const bpp = bitsPerPixel(entries);
    const dataBytes = rowBytes(w, bpp) * h;
    if (at + 3 * entries + dataBytes > body.length) return truncated();
    const palette = body.subarray(at, at + 3 * entries);
    at += 3 * entries;
    const data = body.subarray(at, at + dataBytes);
    at += dataBytes;
    const beyond = indexBeyond(data, w, h, bpp, entries);
    if (beyond >= 0)
      return fail("SCREEN_OUT_OF_BOUNDS", `Rect ${i} uses index ${beyond} of a palette of ${entries}.`);
    rects[i] = { x, y, w, h, palette, data };
  }
  if (at !== body.length) return fail("SCREEN_MALFORMED", `${body.length - at} bytes follow the record.`);
  const [show = [], hide = []] = lists;
  return {
    ok: true,
    record: {
      reset: flags === SCREEN_RESET,
      rtpTimestamp,
      capturedAt,
      width,
      height,
      show,
      hide,
      copies,
      rects,
    },
  };
}

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
