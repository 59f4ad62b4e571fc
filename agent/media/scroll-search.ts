/**
 * The scroll search of the lossless path beside the video (docs/screen-copy-path.md): between the
 * previous frame and the next, within the rows that changed, vertical shifts (a terminal, an editor
 * or a page scrolled) as copies of the previous frame's pixels, and the rows that stay new after
 * them. DAMAGE says which rows changed, not that they moved (x11vnc learns that from the client's
 * XCopyArea through RECORD); the pixels do.
 *
 * Candidates come from row hashes (row-hashes.ts), every copy is confirmed with the bytes, so
 * applying the copies to the previous frame and then the new rows gives the next frame exactly.
 * Pure: no I/O; the caller keeps the previous frame (an MIT-SHM capture is updated in place).
 */
import type { RowRange } from "./i420.ts";
import {
  firstDifference,
  HASH_STRIDE,
  hashWords,
  lastDifference,
  type Pixels,
  RowHashes,
  segmentsEqual,
} from "./row-hashes.ts";

/**
 * Rows [y, y + h) of the next frame, columns [x, x + w), equal rows [y + dy, y + dy + h) of the
 * previous frame (dy > 0: the content moved up, as a terminal scrolls when text arrives). Every
 * copy reads the previous frame as it was (apply them from a snapshot of it).
 */
export type Copy = {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
  readonly dy: number;
};

/** A rectangle of the next frame to send as pixels, after the copies. */
export type Rect = { readonly x: number; readonly y: number; readonly w: number; readonly h: number };

/** Columns [x0, x1). */
export type ColumnSpan = { readonly x0: number; readonly x1: number };

export type ScrollResult = {
  readonly copies: readonly Copy[];
  /** What remains new once the copies are applied; together with them it rebuilds the next frame. */
  readonly fresh: readonly Rect[];
  /** Pixel rows in `fresh` (the sum of the heights). */
  readonly freshRows: number;
  /** Distinct colours (24 bits) in `fresh`, up to PALETTE_COLOURS, else "more". */
  readonly colours: number | "more";
};

/** The palette the lossless path sends a region with at most (docs/screen-copy-path.md). */
export const PALETTE_COLOURS = 16;
/** A copy shorter than this costs about what its rows would (a copy operation is ~20 bytes). */
const MIN_COPY_ROWS = 4;
/** A hash shared by more old rows than this (blank rows, a rule) is too ambiguous to vote. */
const MAX_SHARED_HASH = 8;
/** Rows that differ over more than this part of the width are searched at full width only. */
const WIDE_SPAN = 0.9;
/** Shifts tried per rectangle, best voted first. */
const SHIFTS_TRIED = 3;

/** Searches each new frame against the last; holds the last frame's row hashes. */
export class ScrollSearch {
  readonly #hashes: RowHashes;

  constructor(first: Pixels) {
    this.#hashes = new RowHashes(first);
  }

  /**
   * The copies from `previous` (the frame given last) to `next` within `changed` (every row where
   * they differ: from the damage log or changedRows; rows outside are taken as equal), and what
   * stays new. `next` becomes the last. `hints`: column spans also worth a search when rows are
   * left after the full width (where the caller expects scrolling content: the lossless path's
   * tiles, when a video beside a terminal changes every row's pixels across the screen).
   */
  search(
    previous: Pixels,
    next: Pixels,
    changed: readonly RowRange[],
    hints: readonly ColumnSpan[] = [],
  ): ScrollResult {
    this.#hashes.update(next, changed);
    const copies: Copy[] = [];
    const fresh: Rect[] = [];
    // One band from the first changed row to the last: a scroll's source rows may lie in another
    // range or between them (rows that stayed equal are still the old rows).
    const band = {
      start: Math.max(0, Math.min(...changed.map((range) => range.start))),
      end: Math.min(next.height, Math.max(...changed.map((range) => range.end))),
    };
    if (changed.length > 0 && band.start < band.end)
      searchBand(previous, next, this.#hashes, band, changed, hints, copies, fresh);
    return {
      copies,
      fresh,
      freshRows: fresh.reduce((sum, rect) => sum + rect.h, 0),
      // Counted only when asked (the probe): the lossless path packs the rows anyway.
      get colours() {
        return colourCount(next, fresh);
      },
    };
  }
}

/** The changed rows: copies first at full width (cached hashes), then within the differing columns. */
function searchBand(
  previous: Pixels,
  next: Pixels,
  hashes: RowHashes,
  band: RowRange,
  ranges: readonly RowRange[],
  hints: readonly ColumnSpan[],
  copies: Copy[],
  fresh: Rect[],
): void {
  const { width } = next;
  const rows = band.end - band.start;
  const diff = differences(previous, next, hashes, band, ranges);
  /** The copy covering each row of the band, -1 for none. */
  const coveredBy = new Int32Array(rows).fill(-1);
  const fullWidth = { x0: 0, x1: width, newHashes: hashes.current, oldHashes: hashes.previous };
  findCopies(previous, next, band, fullWidth, diff, coveredBy, copies);
  const searchSpan = (columns: ColumnSpan) => {
    const { x0, x1 } = columns;
    const newHashes = new Uint32Array(next.height);
    const oldHashes = new Uint32Array(next.height);
    for (let y = band.start; y < band.end; y += 1) {
      const i = y - band.start;
      oldHashes[y] = hashWords(previous.words, y * width + x0, y * width + x1, HASH_STRIDE);
      // Only uncovered rows are matched; an equal row's hash is the old one.
      if (coveredBy[i] === -1)
        newHashes[y] =
          diff.changed[i] === 1
            ? hashWords(next.words, y * width + x0, y * width + x1, HASH_STRIDE)
            : (oldHashes[y] ?? 0);
    }
    findCopies(previous, next, band, { x0, x1, newHashes, oldHashes }, diff, coveredBy, copies);
  };
  const spans = differingColumns(band, width, diff, coveredBy);
  for (const span of spans) searchSpan(span);
  for (const hint of hints)
    if (
      hint.x1 - hint.x0 < width &&
      !spans.some((span) => span.x0 === hint.x0 && span.x1 === hint.x1) &&
      rowsLeft(band, diff, coveredBy) >= MIN_COPY_ROWS
    )
      searchSpan(hint);
  freshRects(previous, next, band, diff, coveredBy, copies, fresh);
}

/** Changed rows of the band no copy covers yet. */
function rowsLeft(band: RowRange, diff: Differences, coveredBy: Int32Array): number {
  let left = 0;
  for (let i = 0; i < band.end - band.start; i += 1)
    if (diff.changed[i] === 1 && coveredBy[i] === -1) left += 1;
  return left;
}

/** Which rows of a band differ from the same row before, and where (found only when asked: a copied row needs no columns). */
type Differences = {
  readonly changed: Uint8Array;
  /** The first differing column of the band's row `i`, -1 for an equal row. */
  first(i: number): number;
  last(i: number): number;
};

function differences(
  previous: Pixels,
  next: Pixels,
  hashes: RowHashes,
  band: RowRange,
  ranges: readonly RowRange[],
): Differences {
  const rows = band.end - band.start;
  const changed = new Uint8Array(rows); // rows outside the ranges are equal (the caller says so)
  for (const range of ranges)
    for (let y = Math.max(band.start, range.start); y < Math.min(band.end, range.end); y += 1) {
      const i = y - band.start;
      // Different hashes: different rows. Equal hashes: the bytes decide.
      changed[i] =
        hashes.current[y] !== hashes.previous[y] || !segmentsEqual(previous, y, next, y, 0, next.width)
          ? 1
          : 0;
    }
  const firsts = new Int32Array(rows).fill(-2); // -2: not looked for yet
  const lasts = new Int32Array(rows).fill(-2);
  const first = (i: number): number => {
    if (changed[i] === 0) return -1;
    if (firsts[i] === -2) firsts[i] = firstDifference(previous, next, band.start + i, 0, next.width);
    return firsts[i] ?? -1;
  };
  const last = (i: number): number => {
    if (changed[i] === 0) return -1;
    if (lasts[i] === -2) lasts[i] = lastDifference(previous, next, band.start + i, first(i), next.width);
    return lasts[i] ?? -1;
  };
  return { changed, first, last };
}

/**
 * Column spans worth a search for the rows no copy covers yet (when most changed rows are left):
 * where they differ (first to last
 * differing column), and, when one part of the band differs wider than the rest (a clock beside a
 * terminal), the span most of those rows differ in (10th to 90th percentile of their edges).
 */
function differingColumns(
  band: RowRange,
  width: number,
  diff: Differences,
  coveredBy: Int32Array,
): Array<{ x0: number; x1: number }> {
  const left: number[] = [];
  let changed = 0;
  for (let i = 0; i < band.end - band.start; i += 1) {
    if (diff.changed[i] === 0) continue;
    changed += 1;
    if (coveredBy[i] === -1) left.push(i);
  }
  // Rows left after a scroll at full width are mostly its new text: not worth hashing the band again.
  if (left.length < MIN_COPY_ROWS || left.length * 4 < changed) return [];
  const starts = left.map((i) => diff.first(i));
  const ends = left.map((i) => diff.last(i) + 1);
  starts.sort((a, b) => a - b);
  ends.sort((a, b) => a - b);
  const union = { x0: starts[0] ?? 0, x1: ends[ends.length - 1] ?? 0 };
  // Rows that differ across (nearly) the whole width were searched at full width already (the text
  // workload's full-width xterm: searching it again cost 2 ms a frame and found nothing).
  if (union.x1 - union.x0 > width * WIDE_SPAN) return [];
  const x0 = starts[Math.floor(starts.length * 0.1)] ?? 0;
  const x1 = ends[Math.ceil(ends.length * 0.9) - 1] ?? 0;
  return x1 > x0 && (x0 !== union.x0 || x1 !== union.x1) ? [union, { x0, x1 }] : [union];
}

/** Row hashes over columns [x0, x1): of the next frame, and of the previous one. */
type Columns = { x0: number; x1: number; newHashes: Uint32Array; oldHashes: Uint32Array };

/**
 * Copies within `columns` for the band's uncovered rows: shifts voted by rows whose hash matches an
 * old row's (ambiguous hashes do not vote), then, best voted first, the runs of rows that equal the
 * previous frame's at that shift, confirmed byte by byte and grown sideways as far as they hold.
 */
function findCopies(
  previous: Pixels,
  next: Pixels,
  band: RowRange,
  columns: Columns,
  diff: Differences,
  coveredBy: Int32Array,
  copies: Copy[],
): void {
  const { newHashes, oldHashes } = columns;
  // Sources: the old rows of the band (a region that scrolls changes as a whole).
  const oldRows = new Map<number, number[]>();
  for (let y = band.start; y < band.end; y += 1) {
    const hash = oldHashes[y] ?? 0;
    const list = oldRows.get(hash);
    if (list === undefined) oldRows.set(hash, [y]);
    else if (list.length <= MAX_SHARED_HASH) list.push(y);
  }
  const votes = new Map<number, number>();
  for (let y = band.start; y < band.end; y += 1) {
    const i = y - band.start;
    if (coveredBy[i] !== -1 || diff.changed[i] === 0) continue;
    const sources = oldRows.get(newHashes[y] ?? 0);
    if (sources === undefined || sources.length > MAX_SHARED_HASH) continue;
    for (const source of sources) if (source !== y) votes.set(source - y, (votes.get(source - y) ?? 0) + 1);
  }
  const shifts = [...votes.entries()].sort((a, b) => b[1] - a[1]).slice(0, SHIFTS_TRIED);
  for (const [dy] of shifts) {
    let runStart = -1;
    for (let y = band.start; y <= band.end; y += 1) {
      const i = y - band.start;
      const source = y + dy;
      const matches =
        y < band.end &&
        coveredBy[i] === -1 &&
        source >= band.start &&
        source < band.end &&
        newHashes[y] === oldHashes[source] &&
        segmentsEqual(next, y, previous, source, columns.x0, columns.x1);
      if (matches) {
        if (runStart === -1) runStart = y;
        continue;
      }
      if (runStart !== -1 && y - runStart >= MIN_COPY_ROWS)
        addCopy(
          previous,
          next,
          band,
          { x0: columns.x0, x1: columns.x1, y0: runStart, y1: y, dy },
          diff,
          coveredBy,
          copies,
        );
      runStart = -1;
    }
  }
}

/** A confirmed run, widened to the columns where the shift still holds on all its rows (the whole width when equal there). */
function addCopy(
  previous: Pixels,
  next: Pixels,
  band: RowRange,
  run: { x0: number; x1: number; y0: number; y1: number; dy: number },
  diff: Differences,
  coveredBy: Int32Array,
  copies: Copy[],
): void {
  const { y0, y1, dy } = run;
  let changedRows = 0;
  for (let y = y0; y < y1; y += 1) changedRows += diff.changed[y - band.start] ?? 0;
  if (changedRows === 0) return; // equal rows moved onto equal rows: nothing to copy
  const holds = (x0: number, x1: number) => {
    for (let y = y0; y < y1; y += 1) if (!segmentsEqual(next, y, previous, y + dy, x0, x1)) return false;
    return true;
  };
  // Halving: if the shift holds on a span it holds on any narrower one, so each edge is monotonic.
  let left = run.x0;
  if (holds(0, run.x0)) left = 0;
  else {
    let beyond = 0;
    while (left - beyond > 1) {
      const middle = (left + beyond) >> 1;
      if (holds(middle, run.x0)) left = middle;
      else beyond = middle;
    }
  }
  let right = run.x1;
  if (holds(run.x1, next.width)) right = next.width;
  else {
    let fails = next.width;
    while (fails - right > 1) {
      const middle = (right + fails) >> 1;
      if (holds(run.x1, middle)) right = middle;
      else fails = middle;
    }
  }
  const index = copies.length;
  copies.push({ x: left, y: y0, w: right - left, h: y1 - y0, dy });
  coveredBy.fill(index, y0 - band.start, y1 - band.start);
}

/**
 * The rows that still differ once the copies are applied: a copied row only where it differs
 * outside its copy's columns, any other changed row where it differs. Consecutive rows merge into
 * one rectangle (the union of their columns).
 */
function freshRects(
  previous: Pixels,
  next: Pixels,
  band: RowRange,
  diff: Differences,
  coveredBy: Int32Array,
  copies: readonly Copy[],
  fresh: Rect[],
): void {
  let open: { x0: number; x1: number; y0: number; y1: number } | undefined;
  const close = () => {
    if (open !== undefined)
      fresh.push({ x: open.x0, y: open.y0, w: open.x1 - open.x0, h: open.y1 - open.y0 });
    open = undefined;
  };
  for (let y = band.start; y < band.end; y += 1) {
    const i = y - band.start;
    const copy = copies[coveredBy[i] ?? -1];
    if (diff.changed[i] === 0 || (copy !== undefined && copy.w === next.width)) {
      close(); // equal, or exact at full width
      continue;
    }
    let from = diff.first(i);
    let to = diff.last(i) + 1;
    if (copy !== undefined) {
      // Inside the copy the row is exact; outside it, the old row stayed in place.
      const left = from < copy.x ? from : -1;
      const right = to > copy.x + copy.w ? firstDifference(previous, next, y, copy.x + copy.w, to) : -1;
      const leftEnd = left === -1 ? -1 : lastDifference(previous, next, y, left, copy.x) + 1;
      from = left !== -1 ? left : right;
      to = right !== -1 ? to : leftEnd;
    }
    if (from === -1) {
      close();
      continue;
    }
    if (open !== undefined && !worthMerging(open, from, to)) close();
    if (open === undefined) open = { x0: from, x1: to, y0: y, y1: y + 1 };
    else {
      open.x0 = Math.min(open.x0, from);
      open.x1 = Math.max(open.x1, to);
      open.y1 = y + 1;
    }
  }
  close();
}

/** Pixels a rectangle's header is worth (~16 bytes at 1 bit per pixel). */
const RECT_PIXELS = 128;

/**
 * Whether a row's span [from, to) joins the rectangle above: when the union wastes little (rows of
 * text of different lengths), not when it would add much that is not new (the new lines of a
 * terminal below rows where only a video beside it changed).
 */
function worthMerging(
  open: { x0: number; x1: number; y0: number; y1: number },
  from: number,
  to: number,
): boolean {
  const rows = open.y1 - open.y0;
  const apart = (open.x1 - open.x0) * rows + (to - from);
  const union = (Math.max(open.x1, to) - Math.min(open.x0, from)) * (rows + 1);
  return union - apart <= Math.max(16 * RECT_PIXELS, apart / 4);
}

/** Distinct 24-bit colours in `rects` of `frame`, counted up to PALETTE_COLOURS. */
function colourCount(frame: Pixels, rects: readonly Rect[]): number | "more" {
  const seen = new Set<number>();
  let last = -1;
  for (const rect of rects)
    for (let y = rect.y; y < rect.y + rect.h; y += 1) {
      const row = y * frame.width;
      for (let x = rect.x; x < rect.x + rect.w; x += 1) {
        const colour = (frame.words[row + x] ?? 0) & 0xffffff;
        if (colour === last) continue; // runs of one colour: most of a text row
        last = colour;
        seen.add(colour);
        if (seen.size > PALETTE_COLOURS) return "more";
      }
    }
  return seen.size;
}
