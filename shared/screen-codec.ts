/**
 * A record of the `screen` channel to bytes and back (docs/screen-copy-path.md, "Wire format,
 * version 1"). Import it through shared/screen.ts.
 */
import {
  bitsPerPixel,
  rowBytes,
  SCREEN_LENGTH_BYTES,
  SCREEN_MAX_COPY_SCREENS,
  SCREEN_MAX_RECORD_BYTES,
  SCREEN_MAX_SIDE,
  SCREEN_RESET,
  SCREEN_VERSION,
  type ScreenCopy,
  type ScreenErrorCode,
  type ScreenFailure,
  type ScreenRecord,
  type ScreenRect,
  tileGrid,
} from "./screen-format.ts";

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
 * for a value the format cannot hold (a field outside its integer type, a capture time that is not
 * finite, a palette that is not whole r g b triples of 1..256 entries, a body above
 * SCREEN_MAX_RECORD_BYTES: split such pixels over several records); it does not check bounds
 * (decodeScreenRecord does).
 */
export function encodeScreenRecord(record: ScreenRecord): Uint8Array {
  let size = SCREEN_LENGTH_BYTES + HEAD_BYTES + 2 + 2 * record.show.length + 2 + 2 * record.hide.length;
  size += 2 + COPY_BYTES * record.copies.length + 2;
  for (const rect of record.rects) size += RECT_HEAD_BYTES + rect.palette.length + rect.data.length;
  if (size - SCREEN_LENGTH_BYTES > SCREEN_MAX_RECORD_BYTES)
    throw new RangeError(
      `A record of ${size - SCREEN_LENGTH_BYTES} bytes is above ${SCREEN_MAX_RECORD_BYTES}.`,
    );
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, size - SCREEN_LENGTH_BYTES);
  view.setUint8(4, SCREEN_VERSION);
  view.setUint8(5, record.reset ? SCREEN_RESET : 0);
  view.setUint32(6, record.rtpTimestamp >>> 0);
  if (!Number.isFinite(record.capturedAt))
    throw new RangeError(`capturedAt is not finite: ${record.capturedAt}`);
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

export function fail(code: ScreenErrorCode, message: string): ScreenFailure {
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
  if (!Number.isFinite(capturedAt))
    return fail("SCREEN_MALFORMED", "The capture time is not a finite number.");
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
  let copied = 0;
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
    copied += w * h;
    if (copied > SCREEN_MAX_COPY_SCREENS * width * height)
      return fail("SCREEN_TOO_LARGE", `The copies cover more than ${SCREEN_MAX_COPY_SCREENS} screens.`);
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
