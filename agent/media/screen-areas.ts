/**
 * Rectangles against the lossless path's tile grid (64x64 tiles, row by row; shared/screen.ts):
 * which tiles an area touches, and an area cut at tile boundaries into the cells a rule keeps,
 * merged back into few rectangles (runs of columns, then bands of rows with the same runs), so a
 * full-width scroll over lossless tiles stays one copy and new text rows one rectangle.
 */
import { SCREEN_TILE } from "../../shared/screen.ts";
import type { Area } from "./palette-pack.ts";

export type Grid = {
  readonly width: number;
  readonly height: number;
  readonly cols: number;
  readonly rows: number;
};

/** Calls `visit(tile, cell)` for each tile `area` overlaps, with the overlap. */
export function forEachTile(grid: Grid, area: Area, visit: (tile: number, cell: Area) => void): void {
  if (area.w <= 0 || area.h <= 0) return;
  const tx0 = Math.floor(area.x / SCREEN_TILE);
  const tx1 = Math.floor((area.x + area.w - 1) / SCREEN_TILE);
  const ty0 = Math.floor(area.y / SCREEN_TILE);
  const ty1 = Math.floor((area.y + area.h - 1) / SCREEN_TILE);
  for (let ty = ty0; ty <= ty1; ty += 1) {
    const y0 = Math.max(area.y, ty * SCREEN_TILE);
    const y1 = Math.min(area.y + area.h, (ty + 1) * SCREEN_TILE);
    for (let tx = tx0; tx <= tx1; tx += 1) {
      const x0 = Math.max(area.x, tx * SCREEN_TILE);
      const x1 = Math.min(area.x + area.w, (tx + 1) * SCREEN_TILE);
      visit(ty * grid.cols + tx, { x: x0, y: y0, w: x1 - x0, h: y1 - y0 });
    }
  }
}

/**
 * The parts of `area` that `keep(y, tx)` keeps, where the area is cut into cells at tile
 * boundaries and, with `shift`, also where rows y + shift cross one (a copy's source rows: each
 * cell then reads one source tile); `y` is a cell's first row, `tx` its tile column. Kept cells
 * merge into runs along a band of rows, and bands with the same runs into one rectangle.
 */
export function keptAreas(area: Area, keep: (y: number, tx: number) => boolean, shift = 0): Area[] {
  const out: Area[] = [];
  if (area.w <= 0 || area.h <= 0) return out;
  const top = area.y;
  const bottom = area.y + area.h;
  const cuts = new Set<number>([top, bottom]);
  for (let b = Math.ceil((top + 1) / SCREEN_TILE) * SCREEN_TILE; b < bottom; b += SCREEN_TILE) cuts.add(b);
  if (shift % SCREEN_TILE !== 0) {
    // Rows y where y + shift is a multiple of the tile size.
    const first = Math.ceil((top + 1 + shift) / SCREEN_TILE) * SCREEN_TILE - shift;
    for (let b = first; b < bottom; b += SCREEN_TILE) cuts.add(b);
  }
  const ys = [...cuts].sort((a, b) => a - b);
  const tx0 = Math.floor(area.x / SCREEN_TILE);
  const tx1 = Math.floor((area.x + area.w - 1) / SCREEN_TILE);
  /** The open rectangles (one per run of the band above), as [x0, x1, y0]. */
  let open: Array<[number, number, number]> = [];
  let openEnd = top;
  const close = () => {
    for (const [x0, x1, y0] of open) out.push({ x: x0, y: y0, w: x1 - x0, h: openEnd - y0 });
    open = [];
  };
  for (let k = 0; k + 1 < ys.length; k += 1) {
    const y0 = ys[k] ?? top;
    const y1 = ys[k + 1] ?? bottom;
    const runs: Array<[number, number]> = [];
    for (let tx = tx0; tx <= tx1; tx += 1) {
      if (!keep(y0, tx)) continue;
      const x0 = Math.max(area.x, tx * SCREEN_TILE);
      const x1 = Math.min(area.x + area.w, (tx + 1) * SCREEN_TILE);
      const last = runs[runs.length - 1];
      if (last !== undefined && last[1] === x0) last[1] = x1;
      else runs.push([x0, x1]);
    }
    const same =
      runs.length === open.length &&
      runs.every((run, i) => run[0] === open[i]?.[0] && run[1] === open[i]?.[1]);
    if (!same) {
      close();
      open = runs.map(([x0, x1]) => [x0, x1, y0]);
    }
    openEnd = y1;
  }
  close();
  return out;
}
