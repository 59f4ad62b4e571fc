/**
 * The console's canvas of the `screen` channel as data (docs/screen-copy-path.md): RGBA pixels the
 * size of the remote screen, transparent (all four bytes 0) outside lossless tiles, and each tile's
 * state. `apply` takes a decoded record (shared/screen.ts) exactly and says which rectangles
 * changed; the console paints them with putImageData and the tests compare pixels with it.
 * Browser-safe; typed-array copies only, no allocation per pixel.
 */
import {
  bitsPerPixel,
  rowBytes,
  SCREEN_TILE,
  type ScreenCopy,
  type ScreenFailure,
  type ScreenRecord,
  type ScreenRect,
  tileGrid,
  tileRect,
} from "./screen.ts";

export type Rect = { readonly x: number; readonly y: number; readonly w: number; readonly h: number };

/** A tile's state: the video shows there, the canvas does, or the canvas does until hideTiles. */
export const TILE_STATES = ["video", "lossless", "hiding"] as const;
export type TileState = (typeof TILE_STATES)[number];
const VIDEO = 0;
const LOSSLESS = 1;
const HIDING = 2;

/** Is this machine little-endian (RGBA bytes read as one u32 are 0xAABBGGRR)? */
const LITTLE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function packRgba(r: number, g: number, b: number, a: number): number {
  return LITTLE ? ((a << 24) | (b << 16) | (g << 8) | r) >>> 0 : ((r << 24) | (g << 16) | (b << 8) | a) >>> 0;
}

/** A rect of at least this many pixels at 1, 2 or 4 bpp is expanded a whole byte at a time. */
const EXPAND_PIXELS = 8192;

export class ScreenCanvasModel {
  width = 0;
  height = 0;
  rgba = new Uint8ClampedArray(0);
  #pixels = new Uint32Array(0);
  #tiles = new Uint8Array(0);
  #cols = 0;
  #scratch = new Uint32Array(0);
  #lut = new Uint32Array(256);
  #expand = new Uint32Array(256 * 8);

  /** Drawn by the canvas: lossless, or hidden and waiting for hideTiles. */
  isLossless(tile: number): boolean {
    const state = this.#tiles[tile];
    return state === LOSSLESS || state === HIDING;
  }

  tileState(tile: number): TileState {
    return TILE_STATES[this.#tiles[tile] ?? VIDEO] ?? "video";
  }

  /**
   * Whether `record` applies to this canvas: only a RESET record may set (change) the size. A record
   * that does not is refused with SCREEN_OUT_OF_BOUNDS (the console then resyncs).
   */
  check(record: ScreenRecord): { ok: true } | ScreenFailure {
    if (record.reset || (record.width === this.width && record.height === this.height)) return { ok: true };
    return {
      ok: false,
      code: "SCREEN_OUT_OF_BOUNDS",
      message: `A record for ${record.width}x${record.height} without RESET on a ${this.width}x${this.height} canvas.`,
    };
  }

  /**
   * Applies a decoded record exactly; returns the rectangles whose pixels changed and the tiles the
   * record hides. Hidden tiles stay drawn until hideTiles (the console calls it when the video caught
   * up). Throws a RangeError for a record `check` refuses.
   */
  apply(record: ScreenRecord): { dirty: Rect[]; hide: number[] } {
    const checked = this.check(record);
    if (!checked.ok) throw new RangeError(checked.message);
    const dirty: Rect[] = [];
    if (record.reset) {
      this.#resize(record.width, record.height);
      dirty.push({ x: 0, y: 0, w: this.width, h: this.height });
    }
    this.#copy(record.copies);
    for (const rect of record.rects) this.#paint(rect);
    for (const tile of record.show) this.#tiles[tile] = LOSSLESS;
    for (const tile of record.hide) if (this.#tiles[tile] === LOSSLESS) this.#tiles[tile] = HIDING;
    if (!record.reset) {
      for (const copy of record.copies) if (copy.w > 0 && copy.h > 0) dirty.push(copy);
      for (const rect of record.rects) if (rect.w > 0 && rect.h > 0) dirty.push(rect);
    }
    const merged = mergeRects(dirty);
    for (const area of merged) this.#clearVideo(area);
    return { dirty: merged.map(({ x, y, w, h }) => ({ x, y, w, h })), hide: [...record.hide] };
  }

  /**
   * Tiles back to the video: each one still hiding (hidden by a record and not shown again since) is
   * cleared to transparent and becomes video; others are left alone. Returns the cleared rectangles.
   */
  hideTiles(tiles: readonly number[]): Rect[] {
    const cleared: Rect[] = [];
    for (const tile of tiles) {
      if (this.#tiles[tile] !== HIDING) continue;
      this.#tiles[tile] = VIDEO;
      const area = tileRect(tile, this.width, this.height);
      this.#fill(area, 0);
      cleared.push(area);
    }
    return mergeRects(cleared);
  }

  #resize(width: number, height: number): void {
    if (width !== this.width || height !== this.height) {
      this.width = width;
      this.height = height;
      this.rgba = new Uint8ClampedArray(width * height * 4);
      this.#pixels = new Uint32Array(this.rgba.buffer);
      this.#cols = tileGrid(width, height).cols;
      this.#tiles = new Uint8Array(tileGrid(width, height).count);
    } else {
      this.#pixels.fill(0);
      this.#tiles.fill(VIDEO);
    }
  }

  /** Every copy reads the canvas as it was before the first: in place when no copy's destination
   *  is a later copy's source, else from a snapshot of the sources. */
  #copy(copies: readonly ScreenCopy[]): void {
    // A copy with dy 0 changes nothing in place, but from a snapshot it undoes an earlier copy.
    const moving = copies.filter((copy) => copy.w > 0 && copy.h > 0);
    if (moving.length === 0) return;
    if (!needsSnapshot(moving)) {
      for (const copy of moving) if (copy.dy !== 0) this.#copyInPlace(copy);
      return;
    }
    let size = 0;
    for (const copy of moving) size += copy.w * copy.h;
    if (this.#scratch.length < size) this.#scratch = new Uint32Array(size);
    const scratch = this.#scratch;
    const pixels = this.#pixels;
    const width = this.width;
    let at = 0;
    for (const { x, y, w, h, dy } of moving) {
      for (let row = 0; row < h; row += 1) {
        const from = (y + dy + row) * width + x;
        scratch.set(pixels.subarray(from, from + w), at);
        at += w;
      }
    }
    at = 0;
    for (const { x, y, w, h } of moving) {
      for (let row = 0; row < h; row += 1) {
        pixels.set(scratch.subarray(at, at + w), (y + row) * width + x);
        at += w;
      }
    }
  }

  #copyInPlace({ x, y, w, h, dy }: ScreenCopy): void {
    const pixels = this.#pixels;
    const width = this.width;
    if (x === 0 && w === width) {
      pixels.copyWithin(y * width, (y + dy) * width, (y + dy + h) * width);
      return;
    }
    // Rows in the order that reads each source row before it is overwritten.
    for (let i = 0; i < h; i += 1) {
      const row = dy > 0 ? y + i : y + h - 1 - i;
      const from = (row + dy) * width + x;
      pixels.copyWithin(row * width + x, from, from + w);
    }
  }

  #paint({ x, y, w, h, palette, data }: ScreenRect): void {
    const entries = palette.length / 3;
    const bpp = bitsPerPixel(entries);
    const lut = this.#lut;
    lut.fill(0);
    for (let i = 0; i < entries; i += 1)
      lut[i] = packRgba(palette[3 * i] ?? 0, palette[3 * i + 1] ?? 0, palette[3 * i + 2] ?? 0, 255);
    const stride = rowBytes(w, bpp);
    const pixels = this.#pixels;
    const mask = (1 << bpp) - 1;
    const perByte = 8 / bpp;
    const expand = bpp < 8 && w * h >= EXPAND_PIXELS ? this.#byteTable(bpp, lut) : undefined;
    for (let row = 0; row < h; row += 1) {
      let out = (y + row) * this.width + x;
      const end = out + w;
      let src = row * stride;
      if (bpp === 8) {
        for (; out < end; out += 1, src += 1) pixels[out] = lut[data[src] ?? 0] ?? 0;
        continue;
      }
      if (expand === undefined) {
        while (out < end) {
          const byte = data[src] ?? 0;
          src += 1;
          const n = Math.min(perByte, end - out);
          for (let i = 0, shift = 8 - bpp; i < n; i += 1, shift -= bpp)
            pixels[out++] = lut[(byte >> shift) & mask] ?? 0;
        }
        continue;
      }
      // Whole bytes from the table (perByte pixels each), then the row's last partial byte.
      const whole = out + Math.floor(w / perByte) * perByte;
      for (; out < whole; src += 1) {
        const base = (data[src] ?? 0) * perByte;
        for (let i = 0; i < perByte; i += 1) pixels[out++] = expand[base + i] ?? 0;
      }
      const base = (data[src] ?? 0) * perByte;
      for (let i = 0; out < end; i += 1) pixels[out++] = expand[base + i] ?? 0;
    }
  }

  /** Each byte value's perByte pixels (8 / bpp), for a rect large enough to pay the 256-entry build. */
  #byteTable(bpp: number, lut: Uint32Array): Uint32Array {
    const perByte = 8 / bpp;
    const mask = (1 << bpp) - 1;
    const table = this.#expand;
    for (let byte = 0; byte < 256; byte += 1)
      for (let i = 0, shift = 8 - bpp; i < perByte; i += 1, shift -= bpp)
        table[byte * perByte + i] = lut[(byte >> shift) & mask] ?? 0;
    return table;
  }

  /** The parts of `area` in video tiles go transparent (the canvas shows only lossless tiles). */
  #clearVideo(area: Rect): void {
    const tx0 = Math.floor(area.x / SCREEN_TILE);
    const tx1 = Math.ceil((area.x + area.w) / SCREEN_TILE);
    const ty0 = Math.floor(area.y / SCREEN_TILE);
    const ty1 = Math.ceil((area.y + area.h) / SCREEN_TILE);
    for (let ty = ty0; ty < ty1; ty += 1) {
      for (let tx = tx0; tx < tx1; tx += 1) {
        if (this.#tiles[ty * this.#cols + tx] !== VIDEO) continue;
        const x0 = Math.max(area.x, tx * SCREEN_TILE);
        const y0 = Math.max(area.y, ty * SCREEN_TILE);
        const x1 = Math.min(area.x + area.w, (tx + 1) * SCREEN_TILE);
        const y1 = Math.min(area.y + area.h, (ty + 1) * SCREEN_TILE);
        this.#fill({ x: x0, y: y0, w: x1 - x0, h: y1 - y0 }, 0);
      }
    }
  }

  #fill({ x, y, w, h }: Rect, value: number): void {
    for (let row = y; row < y + h; row += 1)
      this.#pixels.fill(value, row * this.width + x, row * this.width + x + w);
  }
}

function intersects(a: Rect, b: Rect): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

/** Copies whose in-order, in-place application would read a pixel an earlier copy already wrote. */
function needsSnapshot(copies: readonly ScreenCopy[]): boolean {
  if (copies.length === 1) return false;
  if (copies.length > 32) return true;
  for (let i = 0; i < copies.length; i += 1) {
    const dest = copies[i];
    if (dest === undefined) continue;
    for (let j = i + 1; j < copies.length; j += 1) {
      const source = copies[j];
      if (source !== undefined && intersects(dest, { ...source, y: source.y + source.dy })) return true;
    }
  }
  return false;
}

function bound(a: Rect, b: Rect): Rect {
  const x = Math.min(a.x, b.x);
  const y = Math.min(a.y, b.y);
  return { x, y, w: Math.max(a.x + a.w, b.x + b.w) - x, h: Math.max(a.y + a.h, b.y + b.h) - y };
}

/** Most rectangles one record returns; past it they merge into their bounding box. */
const MAX_DIRTY = 32;

/**
 * Few rectangles covering `rects`: two merge when their bounding box costs at most a quarter more
 * pixels than the two apart (a scroll's copy and the new rows below it become one).
 */
export function mergeRects(rects: readonly Rect[]): Rect[] {
  const out: Rect[] = [];
  for (const rect of rects) {
    if (rect.w <= 0 || rect.h <= 0) continue;
    let current = rect;
    for (let merged = true; merged; ) {
      merged = false;
      for (let i = 0; i < out.length; i += 1) {
        const other = out[i];
        if (other === undefined) continue;
        const box = bound(current, other);
        if (box.w * box.h <= 1.25 * (current.w * current.h + other.w * other.h)) {
          current = box;
          out.splice(i, 1);
          merged = true;
          break;
        }
      }
    }
    out.push(current);
  }
  if (out.length <= MAX_DIRTY) return out;
  return [out.reduce(bound)];
}
