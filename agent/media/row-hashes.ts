/**
 * Pixel rows of 32-bit captures (BGRX on an X server, RGBA elsewhere) as the scroll search
 * (scroll-search.ts) needs them: a hash per row, kept across frames and recomputed only for the rows
 * that changed, and where two rows differ, found with native compares.
 *
 * Hashes only find candidates; every equality the search relies on is confirmed with the bytes
 * (Buffer#compare, memcmp), so two rows that merely hash alike never make a copy.
 */
import type { RowRange } from "./i420.ts";

/** A frame's pixels, as bytes (for native compares) and as 32-bit words (for hashing in JS). */
export type Pixels = {
  readonly width: number;
  readonly height: number;
  readonly data: Buffer;
  readonly words: Uint32Array;
};

/** `frame` with a word view of its pixels (a copy in the rare case its buffer is not 4-byte aligned). */
export function pixelsOf(frame: {
  readonly width: number;
  readonly height: number;
  readonly data: Buffer;
}): Pixels {
  const { width, height } = frame;
  const data = frame.data.byteOffset % 4 === 0 ? frame.data : Buffer.from(frame.data);
  return { width, height, data, words: new Uint32Array(data.buffer, data.byteOffset, width * height) };
}

const PRIME = 0x01000193;

/**
 * The row hashes read every HASH_STRIDE-th pixel: a prime above common glyph widths (xterm's 6 to
 * 10 pixels), so every column of a glyph cell is read somewhere along a row of text. Rows that
 * differ only between the samples hash alike; the bytes confirm every equality anyway, so that
 * costs at most a failed candidate, and the hashes cost a fifth (the search's largest part on a
 * 1080p scroll: ~2 of ~4 ms at load 7).
 */
export const HASH_STRIDE = 5;

/**
 * A 32-bit hash of words from, from + stride, ... below `to` of `words`: FNV-1a style on whole
 * pixels, in four independent lanes so the multiplies pipeline (about 1.4 ms for a whole 1080p
 * frame at stride 1, against 2.5 ms in one lane; measured at load 5 on 2 cores). Not
 * collision-free, and need not be: the bytes confirm.
 */
export function hashWords(words: Uint32Array, from: number, to: number, stride = 1): number {
  // Every constant an int32 (`| 0`): a seed above 2^31 makes V8 keep the lane as a double, 2.3x slower.
  let h1 = 0x811c9dc5 | 0;
  let h2 = 0x050c5d1f;
  let h3 = 0x1b873593;
  let h4 = 0x2c1b3c6d;
  const end = to - 3 * stride;
  const step = 4 * stride;
  let i = from;
  // `as number`, not `?? 0`: the indices are in bounds (callers pass rows of the frame), and the
  // check costs 2.5x here.
  for (; i < end; i += step) {
    h1 = Math.imul(h1 ^ (words[i] as number), PRIME);
    h2 = Math.imul(h2 ^ (words[i + stride] as number), PRIME);
    h3 = Math.imul(h3 ^ (words[i + 2 * stride] as number), PRIME);
    h4 = Math.imul(h4 ^ (words[i + 3 * stride] as number), PRIME);
  }
  for (; i < to; i += stride) h1 = Math.imul(h1 ^ (words[i] as number), PRIME);
  const mixed =
    h1 ^ Math.imul(h2, 0x9e3779b1 | 0) ^ Math.imul(h3, 0x85ebca6b | 0) ^ Math.imul(h4, 0xc2b2ae35 | 0);
  return (mixed ^ (mixed >>> 15)) >>> 0;
}

/**
 * Whole-row hashes of the last frame and of the one before it. `update` rehashes only the rows a
 * frame changed, so a frame costs what its damage costs; `previous` equals `current` except on the
 * rows the last update changed, where it keeps the older frame's hashes (what the search matches
 * the new rows against).
 */
export class RowHashes {
  readonly width: number;
  readonly height: number;
  readonly current: Uint32Array;
  readonly previous: Uint32Array;
  /** The rows the last update rehashed: where `previous` and `current` may differ. */
  #changed: readonly RowRange[] = [];

  constructor(first: Pixels) {
    this.width = first.width;
    this.height = first.height;
    this.current = new Uint32Array(first.height);
    this.previous = new Uint32Array(first.height);
    for (let y = 0; y < first.height; y += 1)
      this.current[y] = hashWords(first.words, y * first.width, (y + 1) * first.width, HASH_STRIDE);
    this.previous.set(this.current);
  }

  /** Takes `next` as the last frame; `changed` must hold every row where it differs from the last one. */
  update(next: Pixels, changed: readonly RowRange[]): void {
    if (next.width !== this.width || next.height !== this.height) throw new Error("frame size changed");
    const { width, current, previous } = this;
    // Bring `previous` level with `current` where the last update left them apart...
    for (const range of this.#changed) previous.set(current.subarray(range.start, range.end), range.start);
    // ...then move only the changed rows on.
    for (const range of changed) {
      const end = Math.min(this.height, range.end);
      for (let y = Math.max(0, range.start); y < end; y += 1)
        current[y] = hashWords(next.words, y * width, (y + 1) * width, HASH_STRIDE);
    }
    this.#changed = changed;
  }
}

/** Whether row `ay` of `a` and row `by` of `b` (same width) are equal in columns [x0, x1). */
export function segmentsEqual(a: Pixels, ay: number, b: Pixels, by: number, x0: number, x1: number): boolean {
  const stride = a.width * 4;
  return (
    a.data.compare(
      b.data,
      by * stride + x0 * 4,
      by * stride + x1 * 4,
      ay * stride + x0 * 4,
      ay * stride + x1 * 4,
    ) === 0
  );
}

/** Below this many columns a difference is looked for word by word rather than by halving. */
const LINEAR_COLUMNS = 32;

/**
 * The first column in [from, to) where row `y` of `a` and `b` differ, or -1. By halving with native
 * compares (a prefix is equal up to the first difference, so equality is monotonic in its length),
 * then word by word: a few calls per row instead of reading the row in JS.
 */
export function firstDifference(a: Pixels, b: Pixels, y: number, from: number, to: number): number {
  if (from >= to || segmentsEqual(a, y, b, y, from, to)) return -1;
  let equalTo = from;
  let differsBy = to;
  while (differsBy - equalTo > LINEAR_COLUMNS) {
    const middle = (equalTo + differsBy) >> 1;
    if (segmentsEqual(a, y, b, y, from, middle)) equalTo = middle;
    else differsBy = middle;
  }
  const row = y * a.width;
  for (let x = equalTo; x < differsBy; x += 1) if (a.words[row + x] !== b.words[row + x]) return x;
  return differsBy - 1;
}

/** The last column in [from, to) where row `y` of `a` and `b` differ, or -1 (as firstDifference, from the right). */
export function lastDifference(a: Pixels, b: Pixels, y: number, from: number, to: number): number {
  if (from >= to || segmentsEqual(a, y, b, y, from, to)) return -1;
  let equalFrom = to;
  let differsFrom = from;
  while (equalFrom - differsFrom > LINEAR_COLUMNS) {
    const middle = (equalFrom + differsFrom) >> 1;
    if (segmentsEqual(a, y, b, y, middle, to)) equalFrom = middle;
    else differsFrom = middle;
  }
  const row = y * a.width;
  for (let x = equalFrom - 1; x >= differsFrom; x -= 1) if (a.words[row + x] !== b.words[row + x]) return x;
  return differsFrom;
}
