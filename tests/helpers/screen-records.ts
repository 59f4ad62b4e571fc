/**
 * Records of the `screen` channel for tests and probes (shared/screen.ts): a seeded generator of
 * valid random records, a terminal's scroll record, and a reference canvas that applies a record
 * the plain way (pixel by pixel, from a whole copy of the canvas) to check ScreenCanvasModel with.
 */
import {
  bitsPerPixel,
  encodeScreenRecord,
  rowBytes,
  type ScreenCopy,
  type ScreenRecord,
  type ScreenRect,
  tileGrid,
  tileRect,
} from "../../shared/screen.ts";

/** A seeded generator (mulberry32), so a failure repeats. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296;
  };
}

export function integer(next: () => number, below: number): number {
  return Math.floor(next() * below);
}

/** A rect of random indices below `entries`, random palette. */
export function randomRect(
  next: () => number,
  area: { x: number; y: number; w: number; h: number },
  entries: number,
): ScreenRect {
  const bpp = bitsPerPixel(entries);
  const stride = rowBytes(area.w, bpp);
  const palette = new Uint8Array(3 * entries).map(() => integer(next, 256));
  const data = new Uint8Array(stride * area.h);
  for (let row = 0; row < area.h; row += 1)
    for (let px = 0; px < area.w; px += 1) {
      const bit = px * bpp;
      const at = row * stride + (bit >> 3);
      data[at] = (data[at] ?? 0) | (integer(next, entries) << (8 - bpp - (bit & 7)));
    }
  return { ...area, palette, data };
}

function randomArea(next: () => number, width: number, height: number, most: number) {
  const w = 1 + integer(next, Math.min(width, most));
  const h = 1 + integer(next, Math.min(height, most));
  return { x: integer(next, width - w + 1), y: integer(next, height - h + 1), w, h };
}

const ENTRY_CHOICES = [1, 2, 3, 4, 5, 16, 17, 200, 256];

/** The body of an encoded record (without its length prefix), as the decoder takes it. */
export function recordBody(record: ScreenRecord): Uint8Array {
  return encodeScreenRecord(record).subarray(4);
}

/** A 200x100 screen (4x2 tiles, the last column 8 wide), one of everything. */
export const SAMPLE_RECORD: ScreenRecord = {
  reset: true,
  rtpTimestamp: 0xfffffff0,
  capturedAt: 1_767_000_000_123.25,
  width: 200,
  height: 100,
  show: [0, 7],
  hide: [3],
  copies: [{ x: 0, y: 10, w: 200, h: 40, dy: -10 }],
  rects: [
    randomRect(random(1), { x: 192, y: 64, w: 8, h: 36 }, 2),
    randomRect(random(2), { x: 0, y: 0, w: 13, h: 5 }, 3),
  ],
};

/** A valid record of a `width` x `height` screen: random tiles, copies (sources and destinations
 *  overlapping each other), rects at every bpp. */
export function randomRecord(
  next: () => number,
  width: number,
  height: number,
  reset: boolean,
): ScreenRecord {
  const tiles = tileGrid(width, height).count;
  const list = () => Array.from({ length: integer(next, 4) }, () => integer(next, tiles));
  const copies: ScreenCopy[] = Array.from({ length: integer(next, 5) }, () => {
    const area = randomArea(next, width, height, 40);
    const dy = integer(next, height - area.h + 1) - area.y;
    return { ...area, dy };
  });
  const rects = Array.from({ length: integer(next, 4) }, () =>
    randomRect(
      next,
      randomArea(next, width, height, 30),
      ENTRY_CHOICES[integer(next, ENTRY_CHOICES.length)] ?? 2,
    ),
  );
  return {
    reset,
    rtpTimestamp: integer(next, 2 ** 32),
    capturedAt: next() * 2e12,
    width,
    height,
    show: list(),
    hide: list(),
    copies,
    rects,
  };
}

/** xterm's fixed 6x13 font as 64 glyph-like bitmaps (rows of 6 bits), the same in every record. */
const GLYPHS: number[][] = (() => {
  const next = random(7);
  return Array.from({ length: 64 }, (_, i) =>
    Array.from({ length: 13 }, (_, row) =>
      i === 0 || row < 2 || row > 10 ? 0 : integer(next, 64) & 0b11111,
    ),
  );
})();
/** Words of 1..8 glyphs (glyph 0 is the blank): text repeats its words, which deflate finds. */
const WORDS: number[][] = (() => {
  const next = random(8);
  return Array.from({ length: 300 }, () =>
    Array.from({ length: 1 + integer(next, 8) }, () => 1 + integer(next, 63)),
  );
})();

/**
 * A terminal scrolled by `lines` text lines of 13 pixels: the rows above move up (a copy of the
 * whole width) and the new lines arrive as one 1-bit rect, words of a fixed glyph set drawn from
 * `next`, lines of random length.
 */
export function scrollRecord(next: () => number, width: number, height: number, lines: number): ScreenRecord {
  const fresh = lines * 13;
  const stride = rowBytes(width, 1);
  const data = new Uint8Array(stride * fresh);
  const columns = Math.floor(width / 6);
  for (let line = 0; line < lines; line += 1) {
    const length = integer(next, columns);
    const text: number[] = [];
    while (text.length < length) text.push(...(WORDS[integer(next, WORDS.length)] ?? []), 0);
    for (let cell = 0; cell < length; cell += 1) {
      const glyph = GLYPHS[text[cell] ?? 0] ?? [];
      for (let gy = 0; gy < 13; gy += 1) {
        const bits = glyph[gy] ?? 0;
        for (let gx = 0; gx < 6; gx += 1) {
          if (((bits >> gx) & 1) === 0) continue;
          const px = cell * 6 + gx;
          const at = (line * 13 + gy) * stride + (px >> 3);
          data[at] = (data[at] ?? 0) | (0x80 >> (px & 7));
        }
      }
    }
  }
  return {
    reset: false,
    rtpTimestamp: 0,
    capturedAt: 0,
    width,
    height,
    show: [],
    hide: [],
    copies: [{ x: 0, y: 0, w: width, h: height - fresh, dy: fresh }],
    rects: [
      {
        x: 0,
        y: height - fresh,
        w: width,
        h: fresh,
        palette: new Uint8Array([0, 0, 0, 255, 255, 255]),
        data,
      },
    ],
  };
}

/**
 * The plain way, as the format says it: RGBA, alpha 255 where a rect wrote, copies from a whole copy
 * of the canvas taken before the record, tiles lossless/hiding/video, video tiles transparent.
 */
export class ReferenceCanvas {
  width = 0;
  height = 0;
  rgba = new Uint8ClampedArray(0);
  /** 0 video, 1 lossless, 2 hiding (drawn until hideTiles). */
  tiles = new Uint8Array(0);

  apply(record: ScreenRecord): void {
    if (record.reset) {
      this.width = record.width;
      this.height = record.height;
      this.rgba = new Uint8ClampedArray(record.width * record.height * 4);
      this.tiles = new Uint8Array(tileGrid(record.width, record.height).count);
    }
    const before = this.rgba.slice();
    for (const { x, y, w, h, dy } of record.copies)
      for (let row = y; row < y + h; row += 1)
        for (let px = x; px < x + w; px += 1)
          for (let c = 0; c < 4; c += 1)
            this.rgba[(row * this.width + px) * 4 + c] = before[((row + dy) * this.width + px) * 4 + c] ?? 0;
    for (const { x, y, w, h, palette, data } of record.rects) {
      const bpp = bitsPerPixel(palette.length / 3);
      const stride = rowBytes(w, bpp);
      for (let row = 0; row < h; row += 1)
        for (let px = 0; px < w; px += 1) {
          const bit = px * bpp;
          const index = ((data[row * stride + (bit >> 3)] ?? 0) >> (8 - bpp - (bit & 7))) & ((1 << bpp) - 1);
          const at = ((y + row) * this.width + x + px) * 4;
          this.rgba.set(
            [palette[3 * index] ?? 0, palette[3 * index + 1] ?? 0, palette[3 * index + 2] ?? 0, 255],
            at,
          );
        }
    }
    for (const tile of record.show) this.tiles[tile] = 1;
    for (const tile of record.hide) if (this.tiles[tile] === 1) this.tiles[tile] = 2;
    this.#clearVideoTiles();
  }

  hideTiles(tiles: readonly number[]): void {
    for (const tile of tiles) if (this.tiles[tile] === 2) this.tiles[tile] = 0;
    this.#clearVideoTiles();
  }

  #clearVideoTiles(): void {
    this.tiles.forEach((state, tile) => {
      if (state !== 0) return;
      const { x, y, w, h } = tileRect(tile, this.width, this.height);
      for (let row = y; row < y + h; row += 1)
        this.rgba.fill(0, (row * this.width + x) * 4, (row * this.width + x + w) * 4);
    });
  }
}
