/**
 * What the lossless path sends for each captured frame (docs/screen-copy-path.md): given the
 * previous frame, the next one and the rows where they differ, the `screen` record (copies, then
 * new pixels as palette rectangles, tiles shown and hidden) that brings the console's canvas from
 * the previous frame to the next in every lossless tile, and which tiles the video keeps frozen.
 * Pure (no I/O), runs in the capture worker beside the video's conversion.
 *
 * Per frame: the scroll search (scroll-search.ts) finds the copies and the rows left new; the tile
 * table (screen-tiles.ts) decides which tiles enter (changed, whole content within one palette)
 * and leave (too many colours came, or too costly for long); then the record keeps the wire's
 * promises: copies are clipped to tiles lossless before and after the record (source and
 * destination; none touches a tile shown or hidden now), a shown tile is sent whole, and every new
 * pixel in a tile that stays lossless is sent, including rows a clipped copy no longer covers.
 * Rectangles are merged across tiles where one palette holds them (a full-width scroll stays one
 * copy and one rectangle of new rows) and split per tile, then per row band, where it does not.
 */
import {
  SCREEN_TILE,
  type ScreenCopy,
  type ScreenRecord,
  type ScreenRect,
  tileGrid,
  tileRect,
} from "../../shared/screen.ts";
import type { RowRange } from "./i420.ts";
import { type Area, type PixelOrder, packRect } from "./palette-pack.ts";
import type { Pixels } from "./row-hashes.ts";
import { forEachTile, type Grid, keptAreas } from "./screen-areas.ts";
import { DEFAULT_TILE_POLICY, ScreenTiles, TILE_MAX_COLOURS, type TilePolicy } from "./screen-tiles.ts";
import { type ColumnSpan, type ScrollResult, ScrollSearch } from "./scroll-search.ts";

export type FramePixels = Pixels & { readonly order: PixelOrder };
export type ScreenTime = { readonly rtpTimestamp: number; readonly capturedAt: number };
export type ScreenStep = {
  /** What to send, or undefined when nothing the canvas shows changed. */
  readonly record: ScreenRecord | undefined;
  /** Per tile, 1 = lossless (the video keeps it frozen from this frame on). */
  readonly frozen: Uint8Array;
  /** Tiles back to the video from this frame on (the record's `hide`). */
  readonly unfrozen: readonly number[];
  /**
   * Whether the video's picture changed: a tile it shows (not frozen after this frame) has new
   * pixels, or a tile came back to it. When not, the record alone brings the console up to date
   * and this capture needs no video frame (its tiles' pixels equal the last frame encoded).
   */
  readonly video: boolean;
};

export class ScreenOps {
  readonly width: number;
  readonly height: number;
  readonly #grid: Grid;
  readonly #tiles: ScreenTiles;
  #search: ScrollSearch | undefined;
  /** No record since construction or reset(): the next one starts the canvas over (RESET). */
  #fresh = true;

  constructor(width: number, height: number, policy: TilePolicy = DEFAULT_TILE_POLICY) {
    const { cols, rows, count } = tileGrid(width, height);
    this.width = width;
    this.height = height;
    this.#grid = { width, height, cols, rows };
    this.#tiles = new ScreenTiles(count, policy);
  }

  /**
   * `next` against `previous` (the frame given as `next` last time; the caller keeps a copy),
   * `changed` = every row where they differ. A frame of another size throws: a new screen size
   * takes a new ScreenOps (its first record is a RESET of the new size).
   */
  next(previous: FramePixels, next: FramePixels, changed: readonly RowRange[], time: ScreenTime): ScreenStep {
    for (const frame of [previous, next])
      if (frame.width !== this.width || frame.height !== this.height)
        throw new RangeError(
          `screen ops: a ${frame.width}x${frame.height} frame on ${this.width}x${this.height}`,
        );
    if (this.#search === undefined) this.#search = new ScrollSearch(previous);
    const result = this.#search.search(previous, next, changed, this.#losslessColumns(changed));
    const at = time.capturedAt;
    const tiles = this.#tiles;
    const before = tiles.frozen();
    const hide: number[] = [];
    const leave = (tile: number, event: "overflow" | "overBudget") => {
      if (tiles.fire(tile, event, at)) hide.push(tile);
    };
    for (let tile = 0; tile < tiles.count; tile += 1)
      if (before[tile] === 1 && tiles.overBudget(tile, at)) leave(tile, "overBudget");
    const touched = this.#touched(result);
    const shown = this.#enter(next, touched, at);
    // Tiles lossless before and after, not hidden now: the only ones copies and new rows may touch.
    const staying = () => {
      const flags = tiles.frozen();
      for (const tile of shown.keys()) flags[tile] = 0;
      return flags;
    };
    let update = this.#update(next, result, staying());
    while (update.overflowed.length > 0) {
      for (const tile of update.overflowed) leave(tile, "overflow");
      update = this.#update(next, result, staying());
    }
    const rects = [...this.#packShown(next, shown), ...update.rects];
    for (const rect of rects) this.#charge(rect, at);
    hide.sort((a, b) => a - b);
    const show = [...shown.keys()].sort((a, b) => a - b);
    const nothing =
      show.length === 0 && hide.length === 0 && update.copies.length === 0 && rects.length === 0;
    const record = nothing
      ? undefined
      : this.#record(time, { show, hide, copies: update.copies, rects }, this.#fresh);
    if (record !== undefined) this.#fresh = false;
    const frozen = tiles.frozen();
    const video = hide.length > 0 || touched.some((flag, tile) => flag === 1 && frozen[tile] === 0);
    return { record, frozen, unfrozen: hide, video };
  }

  /** A RESET record with every lossless tile whole (a new stream for every technician). */
  snapshot(frame: FramePixels, time: ScreenTime): ScreenRecord {
    const show: number[] = [];
    for (let tile = 0; tile < this.#tiles.count; tile += 1) if (this.#tiles.isLossless(tile)) show.push(tile);
    const rects: ScreenRect[] = [];
    for (const area of this.#tileAreas(new Set(show))) packSplit(frame, area, this.#grid, undefined, rects);
    this.#fresh = false;
    return this.#record(time, { show, hide: [], copies: [], rects }, true);
  }

  /** Every tile back to video (the path turned off); the tiles to unfreeze. */
  reset(): readonly number[] {
    const unfrozen: number[] = [];
    for (let tile = 0; tile < this.#tiles.count; tile += 1)
      if (this.#tiles.fire(tile, "off", 0)) unfrozen.push(tile);
    this.#fresh = true;
    return unfrozen;
  }

  /**
   * Runs of tile columns lossless in some tile row the changed rows cross: where a scroll is worth
   * searching for even when the rest of the width changes too (a video beside a terminal).
   */
  #losslessColumns(changed: readonly RowRange[]): ColumnSpan[] {
    const { cols } = this.#grid;
    const columns = new Uint8Array(cols);
    for (const range of changed) {
      const ty1 = Math.ceil(Math.min(range.end, this.height) / SCREEN_TILE);
      for (let ty = Math.floor(range.start / SCREEN_TILE); ty < ty1; ty += 1)
        for (let tx = 0; tx < cols; tx += 1) if (this.#tiles.isLossless(ty * cols + tx)) columns[tx] = 1;
    }
    const spans: ColumnSpan[] = [];
    for (let tx = 0; tx < cols; tx += 1) {
      if (columns[tx] === 0) continue;
      const x0 = tx * SCREEN_TILE;
      while (columns[tx + 1] === 1) tx += 1;
      spans.push({ x0, x1: Math.min(this.width, (tx + 1) * SCREEN_TILE) });
    }
    return spans;
  }

  /** Per tile, 1 where the frame has new pixels (the copies and the fresh rows rebuild it). */
  #touched(result: ScrollResult): Uint8Array {
    const touched = new Uint8Array(this.#tiles.count);
    const mark = (area: Area) => forEachTile(this.#grid, area, (tile) => (touched[tile] = 1));
    for (const area of result.fresh) mark(area);
    for (const copy of result.copies) mark(copy);
    return touched;
  }

  /** Video tiles the frame changed that may enter and fit one palette, packed whole. */
  #enter(next: FramePixels, touched: Uint8Array, at: number): Map<number, ScreenRect> {
    const shown = new Map<number, ScreenRect>();
    for (let tile = 0; tile < touched.length; tile += 1) {
      if (touched[tile] === 0 || !this.#tiles.mayEnter(tile, at)) continue;
      const whole = packRect(next, tileRect(tile, this.width, this.height), TILE_MAX_COLOURS);
      if (whole !== undefined && this.#tiles.fire(tile, "fits", at)) shown.set(tile, whole);
    }
    return shown;
  }

  /**
   * For the tiles that stay lossless: the copies clipped to them (source and destination), and
   * every pixel no kept copy rebuilds packed; `overflowed` names tiles whose new pixels had more
   * colours than a palette holds (they leave, and the caller asks again without them).
   */
  #update(
    next: FramePixels,
    result: ScrollResult,
    staying: Uint8Array,
  ): { copies: ScreenCopy[]; rects: ScreenRect[]; overflowed: number[] } {
    const { cols } = this.#grid;
    const lossless = (y: number, tx: number) => staying[Math.floor(y / SCREEN_TILE) * cols + tx] === 1;
    const copies: ScreenCopy[] = [];
    const areas: Area[] = [];
    for (const copy of result.copies) {
      const { dy } = copy;
      for (const kept of keptAreas(copy, (y, tx) => lossless(y, tx) && lossless(y + dy, tx), dy))
        copies.push({ ...kept, dy });
      // Rows of staying tiles whose source is not lossless: sent as pixels instead.
      areas.push(
        ...keptAreas(aligned(copy, this.width), (y, tx) => lossless(y, tx) && !lossless(y + dy, tx), dy),
      );
    }
    for (const fresh of result.fresh) areas.push(...keptAreas(aligned(fresh, this.width), lossless));
    const rects: ScreenRect[] = [];
    const overflowed = new Set<number>();
    for (const area of areas) packSplit(next, area, this.#grid, overflowed, rects);
    return { copies, rects, overflowed: [...overflowed] };
  }

  /** Shown tiles as rectangles: merged where adjacent and one palette holds them, else each alone. */
  #packShown(next: FramePixels, shown: Map<number, ScreenRect>): ScreenRect[] {
    if (shown.size === 0) return [];
    const rects: ScreenRect[] = [];
    for (const area of this.#tileAreas(new Set(shown.keys()))) {
      const merged = packRect(next, area);
      if (merged !== undefined) rects.push(merged);
      else forEachTile(this.#grid, area, (tile) => rects.push(shown.get(tile) ?? fail(tile)));
    }
    return rects;
  }

  /** The tiles of `set` as few rectangles (runs along tile rows, then rows with the same runs). */
  #tileAreas(set: ReadonlySet<number>): Area[] {
    const { cols } = this.#grid;
    const screen = { x: 0, y: 0, w: this.width, h: this.height };
    return keptAreas(screen, (y, tx) => set.has(Math.floor(y / SCREEN_TILE) * cols + tx));
  }

  /** Charges each tile its share (by area) of a rectangle's packed bytes. */
  #charge(rect: ScreenRect, at: number): void {
    const bytes = rect.data.length + rect.palette.length;
    forEachTile(this.#grid, rect, (tile, cell) =>
      this.#tiles.charge(tile, (bytes * cell.w * cell.h) / (rect.w * rect.h), at),
    );
  }

  #record(
    time: ScreenTime,
    parts: Pick<ScreenRecord, "show" | "hide" | "copies" | "rects">,
    reset: boolean,
  ): ScreenRecord {
    const { rtpTimestamp, capturedAt } = time;
    return { reset, rtpTimestamp, capturedAt, width: this.width, height: this.height, ...parts };
  }
}

/** Pixels a rectangle's columns are aligned to: a byte at 1 bit per pixel. */
const ALIGN = 8;

/**
 * `area` widened to columns that are multiples of ALIGN (within the screen): a pixel column then
 * lands on the same bits of a byte in every record, so text drawn again at the same place gives the
 * same bytes, and deflate finds them in its window (a rectangle starting where a new line first
 * differs from the old one would shift every glyph's bits from record to record).
 */
function aligned(area: Area, width: number): Area {
  const x0 = area.x - (area.x % ALIGN);
  const x1 = Math.min(width, Math.ceil((area.x + area.w) / ALIGN) * ALIGN);
  return { x: x0, y: area.y, w: x1 - x0, h: area.h };
}

function fail(tile: number): never {
  throw new Error(`screen ops: shown tile ${tile} has no packed content`);
}

/**
 * `area` packed into `out` as one rectangle if one palette holds it; else split at tile boundaries,
 * and a tile's part that still has too many colours (added to `overflowed`: it came with more than
 * a palette holds) in halves of rows until each fits (a row of a tile, 64 pixels, always does).
 */
function packSplit(
  frame: FramePixels,
  area: Area,
  grid: Grid,
  overflowed: Set<number> | undefined,
  out: ScreenRect[],
): void {
  const whole = packRect(frame, area);
  if (whole !== undefined) {
    out.push(whole);
    return;
  }
  forEachTile(grid, area, (tile, cell) => {
    const part = cell.w === area.w && cell.h === area.h ? undefined : packRect(frame, cell);
    if (part !== undefined) {
      out.push(part);
      return;
    }
    overflowed?.add(tile);
    packHalves(frame, cell, out);
  });
}

/** `area` (more colours than a palette holds) in two halves of rows, each split again if needed. */
function packHalves(frame: FramePixels, area: Area, out: ScreenRect[]): void {
  const top = Math.ceil(area.h / 2);
  for (const half of [
    { ...area, h: top },
    { ...area, y: area.y + top, h: area.h - top },
  ]) {
    if (half.h === 0) continue;
    const packed = packRect(frame, half);
    if (packed !== undefined) out.push(packed);
    else packHalves(frame, half, out);
  }
}

/** Bytes of a record's rectangles' pixels (palettes and data), for tests and probes. */
export function rectBytes(rects: readonly ScreenRect[]): number {
  return rects.reduce((sum, rect) => sum + rect.palette.length + rect.data.length, 0);
}
