/**
 * The `screen` channel's format version 1 (docs/screen-copy-path.md): constants, record types and
 * the tile geometry. Import it through shared/screen.ts.
 */

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
/**
 * The copies of one record cover at most this many screens together (their destinations are
 * disjoint, so one is what the agent needs): ten bytes of copy must not make a console copy 256 MB.
 */
export const SCREEN_MAX_COPY_SCREENS = 2;
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
  /** A length prefix above SCREEN_MAX_RECORD_BYTES, a message above SCREEN_MESSAGE_BYTES, copies
   *  covering more than SCREEN_MAX_COPY_SCREENS screens. */
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
