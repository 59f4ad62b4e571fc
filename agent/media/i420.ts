/**
 * Screen captures (RGBA or BGRA) as I420 (the encoders' input), converted only where the screen
 * changed.
 *
 * The encoder addon converts RGBA itself, but always the whole frame and on the encoder's thread
 * (about 12 ms of the 28 ms a 1080p H.264 frame costs here). Converting here instead takes that
 * work off the encoder's thread, so conversion and encoding of consecutive frames overlap, and
 * converts only the bands of rows that differ from the previous capture: typing or a moving
 * pointer costs a fraction of a millisecond instead of a full conversion. Written by hand: no
 * maintained package converts RGBA to I420 in place for changed rows only.
 *
 * BT.601 limited range, integer arithmetic (the matrix decoders assume for untagged H.264/VP8).
 */
import type { ScreenFrame } from "./capture.ts";

/** Rows compared and converted together: a macroblock's height, and even (chroma pairs rows). */
export const BAND_ROWS = 16;

/** A run of changed rows, [start, end), both multiples of BAND_ROWS (end clamped to the height). */
export type RowRange = { readonly start: number; readonly end: number };

/**
 * The bands of rows where `next` differs from `previous` (same size), merged into ranges; empty
 * when the two are equal.
 */
export function changedRows(previous: Buffer, next: Buffer, width: number, height: number): RowRange[] {
  if (previous === next) return [];
  if (previous.length !== next.length) return [{ start: 0, end: height }];
  if (previous.equals(next)) return [];
  const stride = width * 4;
  const ranges: RowRange[] = [];
  let open: { start: number; end: number } | undefined;
  for (let start = 0; start < height; start += BAND_ROWS) {
    const end = Math.min(height, start + BAND_ROWS);
    const from = start * stride;
    const to = end * stride;
    const differs = Buffer.compare(previous.subarray(from, to), next.subarray(from, to)) !== 0;
    if (!differs) {
      open = undefined;
      continue;
    }
    if (open === undefined) {
      open = { start, end };
      ranges.push(open);
    } else {
      open.end = end;
    }
  }
  return ranges;
}

/**
 * Tiles of `size` x `size` pixels (indexed row by row over the capture's width, as
 * shared/screen.ts's tileGrid) that the encoder's input keeps as they were (`frozen[tile] === 1`),
 * and those handed back to the video with this frame (converted whole).
 */
export type TileFreeze = {
  readonly size: number;
  readonly frozen: Uint8Array;
  readonly unfrozen: readonly number[];
};

/** An I420 picture the size of the captures (rounded down to even), updated band by band. */
export class I420Picture {
  readonly width: number;
  readonly height: number;
  /** Y plane, then U, then V: `width * height * 3 / 2` bytes. */
  readonly data: Uint8Array;

  constructor(width: number, height: number) {
    this.width = width & ~1;
    this.height = height & ~1;
    this.data = new Uint8Array((this.width * this.height * 3) / 2);
  }

  /** Whether a capture of this size can update this picture. */
  fits(frame: ScreenFrame): boolean {
    return (frame.width & ~1) === this.width && (frame.height & ~1) === this.height;
  }

  /**
   * Converts the given rows of `frame` (all of them by default); an odd last row or column is left
   * out. With `freeze` (the screen copy path: docs/screen-copy-path.md), frozen tiles keep what the
   * picture last had (the video shows them as they were, the console its lossless canvas), and the
   * tiles that went back to the video are converted whole now.
   */
  update(
    frame: ScreenFrame,
    rows: readonly RowRange[] = [{ start: 0, end: frame.height }],
    freeze?: TileFreeze,
  ): void {
    // Read four bytes at a time (a copy in the rare case the capture is not 4-byte aligned).
    const bytes = frame.data.byteOffset % 4 === 0 ? frame.data : Buffer.from(frame.data);
    const pixels = new Uint32Array(bytes.buffer, bytes.byteOffset, frame.width * frame.height);
    // Read little-endian: RGBA has red in the low byte, BGRA blue.
    const [redShift, blueShift] = frame.order === "rgba" ? [0, 16] : [16, 0];
    const convert = (start: number, end: number, x0: number, x1: number) =>
      this.#convert(pixels, frame.width, start, end, x0, x1, redShift, blueShift);
    const frozen = freeze?.frozen.includes(1) ? freeze : undefined;
    for (const range of rows) {
      const start = range.start & ~1;
      const end = Math.min(this.height, range.end + (range.end & 1));
      if (frozen === undefined) convert(start, end, 0, this.width);
      else this.#convertAround(frozen, frame.width, start, end, convert);
    }
    if (freeze === undefined) return;
    const { size } = freeze;
    const cols = Math.ceil(frame.width / size);
    for (const tile of freeze.unfrozen) {
      const x = (tile % cols) * size;
      const y = Math.floor(tile / cols) * size;
      if (x >= this.width || y >= this.height) continue;
      convert(y, Math.min(this.height, y + size), x, Math.min(this.width, x + size));
    }
  }

  /** Converts rows [start, end) except where they cross a frozen tile (tiles are even-sized). */
  #convertAround(
    freeze: TileFreeze,
    frameWidth: number,
    start: number,
    end: number,
    convert: (start: number, end: number, x0: number, x1: number) => void,
  ): void {
    const { size, frozen } = freeze;
    const cols = Math.ceil(frameWidth / size);
    for (let top = start - (start % size); top < end; top += size) {
      const from = Math.max(start, top);
      const to = Math.min(end, top + size);
      const row = (top / size) * cols;
      let tx = 0;
      while (tx < cols) {
        if (frozen[row + tx] === 1) {
          tx += 1;
          continue;
        }
        const first = tx;
        while (tx < cols && frozen[row + tx] !== 1) tx += 1;
        const x1 = Math.min(this.width, tx * size);
        if (first * size < x1) convert(from, to, first * size, x1);
      }
    }
  }

  #convert(
    pixels: Uint32Array,
    stride: number,
    start: number,
    end: number,
    x0: number,
    x1: number,
    redShift: number,
    blueShift: number,
  ): void {
    const { width, height, data } = this;
    const chromaWidth = width >> 1;
    const uPlane = width * height;
    const vPlane = uPlane + (uPlane >> 2);
    /** The colour (24 bits) of the last 2x2 block of one colour converted, -1 for none, and its values. */
    let uniform = -1;
    let uniformY = 0;
    let uniformU = 0;
    let uniformV = 0;
    for (let y = start; y < end; y += 2) {
      const top = y * stride;
      const bottom = top + stride;
      const yTop = y * width;
      const yBottom = yTop + width;
      let chroma = (y >> 1) * chromaWidth + (x0 >> 1);
      for (let x = x0; x < x1; x += 2) {
        const a = pixels[top + x] ?? 0;
        const b = pixels[top + x + 1] ?? 0;
        const c = pixels[bottom + x] ?? 0;
        const d = pixels[bottom + x + 1] ?? 0;
        // A 2x2 block of one colour (most of a screen of text or a window: the background) takes
        // the values of the last such block when it has the same colour.
        if (a === b && a === c && a === d && (a & 0xffffff) === uniform) {
          data[yTop + x] = uniformY;
          data[yTop + x + 1] = uniformY;
          data[yBottom + x] = uniformY;
          data[yBottom + x + 1] = uniformY;
          data[uPlane + chroma] = uniformU;
          data[vPlane + chroma] = uniformV;
          chroma += 1;
          continue;
        }
        const ra = (a >>> redShift) & 255;
        const ga = (a >>> 8) & 255;
        const ba = (a >>> blueShift) & 255;
        const rb = (b >>> redShift) & 255;
        const gb = (b >>> 8) & 255;
        const bb = (b >>> blueShift) & 255;
        const rc = (c >>> redShift) & 255;
        const gc = (c >>> 8) & 255;
        const bc = (c >>> blueShift) & 255;
        const rd = (d >>> redShift) & 255;
        const gd = (d >>> 8) & 255;
        const bd = (d >>> blueShift) & 255;
        data[yTop + x] = ((66 * ra + 129 * ga + 25 * ba + 128) >> 8) + 16;
        data[yTop + x + 1] = ((66 * rb + 129 * gb + 25 * bb + 128) >> 8) + 16;
        data[yBottom + x] = ((66 * rc + 129 * gc + 25 * bc + 128) >> 8) + 16;
        data[yBottom + x + 1] = ((66 * rd + 129 * gd + 25 * bd + 128) >> 8) + 16;
        // Chroma from the 2x2 block's sums (hence the extra >> 2).
        const r = ra + rb + rc + rd;
        const g = ga + gb + gc + gd;
        const bl = ba + bb + bc + bd;
        data[uPlane + chroma] = ((-38 * r - 74 * g + 112 * bl + 512) >> 10) + 128;
        data[vPlane + chroma] = ((112 * r - 94 * g - 18 * bl + 512) >> 10) + 128;
        if (a === b && a === c && a === d) {
          uniform = a & 0xffffff;
          uniformY = data[yTop + x] ?? 0;
          uniformU = data[uPlane + chroma] ?? 0;
          uniformV = data[vPlane + chroma] ?? 0;
        }
        chroma += 1;
      }
    }
  }
}
