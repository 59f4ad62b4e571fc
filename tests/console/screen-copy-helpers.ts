/**
 * What tests/console/screen-copy.test.ts reads of a console page and of the X server: which tiles
 * the page's overlay canvas draws (every pixel opaque) with a hash of their pixels, the same hash
 * of the X server's pixels, and the `screenapplied` events the canvas dispatched.
 */
import type { Page } from "playwright-core";
import { openMonitor } from "../../agent/media/capture.ts";
import { SCREEN_TILE } from "../../shared/screen.ts";

export type TileHashes = { width: number; height: number; tiles: Array<[tile: number, hash: number]> };
export type ScreenSeen = { applied: number; withCopies: number; bytes: number };

/** FNV-1a over the r, g, b bytes of the tile's rows of an RGBA picture `width` wide. */
export function tileHash(
  rgba: Uint8Array | Uint8ClampedArray,
  width: number,
  height: number,
  tile: number,
): number {
  const cols = Math.ceil(width / SCREEN_TILE);
  const x0 = (tile % cols) * SCREEN_TILE;
  const y0 = Math.floor(tile / cols) * SCREEN_TILE;
  const x1 = Math.min(x0 + SCREEN_TILE, width);
  const y1 = Math.min(y0 + SCREEN_TILE, height);
  let hash = 0x811c9dc5;
  for (let y = y0; y < y1; y += 1)
    for (let x = x0; x < x1; x += 1)
      for (let c = 0; c < 3; c += 1)
        hash = Math.imul(hash ^ (rgba[(y * width + x) * 4 + c] ?? 0), 0x01000193);
  return hash >>> 0;
}

/** Starts counting the page's `screenapplied` events (a capture listener on the window). */
export function countScreenApplied(page: Page): Promise<void> {
  return page.evaluate(() => {
    const seen = { applied: 0, withCopies: 0, bytes: 0 };
    Object.assign(window, { screenSeen: seen });
    window.addEventListener(
      "screenapplied",
      (event) => {
        if (!(event instanceof CustomEvent)) return;
        const detail: { copies?: unknown; bytes?: unknown } = event.detail;
        seen.applied += 1;
        if (typeof detail.bytes === "number") seen.bytes += detail.bytes;
        if (typeof detail.copies === "number" && detail.copies > 0) seen.withCopies += 1;
      },
      true,
    );
  });
}

export function screenSeen(page: Page): Promise<ScreenSeen> {
  return page.evaluate(() => (window as unknown as { screenSeen: ScreenSeen }).screenSeen);
}

/**
 * In the page: the overlay's lossless tiles (every pixel opaque) and their hashes. Self-contained
 * (page.evaluate sends its source; the hash is written out again, as the console's CSP forbids
 * eval), for Chromium (playwright) and Firefox (puppeteer) alike.
 */
export function overlayTiles(size: number): TileHashes {
  const canvas = document.querySelector<HTMLCanvasElement>("canvas.screen-overlay");
  const context = canvas?.getContext("2d");
  if (canvas === null || canvas === undefined || context === null || context === undefined)
    return { width: 0, height: 0, tiles: [] };
  const { width, height } = canvas;
  const rgba = context.getImageData(0, 0, width, height).data;
  const cols = Math.ceil(width / size);
  const count = cols * Math.ceil(height / size);
  const tiles: Array<[number, number]> = [];
  for (let tile = 0; tile < count; tile += 1) {
    const x0 = (tile % cols) * size;
    const y0 = Math.floor(tile / cols) * size;
    const x1 = Math.min(x0 + size, width);
    const y1 = Math.min(y0 + size, height);
    let opaque = true;
    let hash = 0x811c9dc5;
    for (let y = y0; y < y1 && opaque; y += 1)
      for (let x = x0; x < x1; x += 1) {
        const at = (y * width + x) * 4;
        if (rgba[at + 3] !== 255) {
          opaque = false;
          break;
        }
        for (let c = 0; c < 3; c += 1) hash = Math.imul(hash ^ (rgba[at + c] ?? 0), 0x01000193);
      }
    if (opaque) tiles.push([tile, hash >>> 0]);
  }
  return { width, height, tiles };
}

export function pageTiles(page: Page): Promise<TileHashes> {
  return page.evaluate(overlayTiles, SCREEN_TILE);
}

/** The X server's hashes of `page`'s lossless tiles: which differ, and how many there are. */
export async function compareWithScreen(page: TileHashes): Promise<{ differ: number[]; lossless: number }> {
  const frame = await openMonitor(0).capture();
  const differ = page.tiles
    .filter(([tile, hash]) => tileHash(frame.data, frame.width, frame.height, tile) !== hash)
    .map(([tile]) => tile);
  return { differ, lossless: page.tiles.length };
}
