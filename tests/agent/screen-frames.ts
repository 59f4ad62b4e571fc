/**
 * Synthetic screens for the lossless path's pure tests (screen-ops, palette-pack): a terminal of two
 * colours drawn with generated 6x13 glyphs (xterm's fixed font size), random "photo" pixels, a
 * gradient, all as 32-bit BGRX words like an X server's capture.
 */
import type { FramePixels } from "../../agent/media/screen-ops.ts";
import { random } from "../helpers/screen-records.ts";

/** xterm's default font, fixed 6x13. */
export const CELL_W = 6;
export const LINE_H = 13;
export const BG = 0x00ffffff; // BGRX little-endian words: white, pad 0
export const FG = 0x00202020;

/** 64 glyph-like bitmaps, 6x13: random blocks in the middle rows, the top and bottom rows blank. */
export const GLYPHS: Uint8Array[] = (() => {
  const next = random(7);
  return Array.from({ length: 64 }, () => {
    const glyph = new Uint8Array(CELL_W * LINE_H);
    for (let y = 2; y < LINE_H - 2; y += 1)
      for (let x = 0; x < CELL_W - 1; x += 1) glyph[y * CELL_W + x] = next() < 0.4 ? 1 : 0;
    return glyph;
  });
})();

/** Lines of text: glyph indices, each line of random length up to `columns`. */
export function document(lines: number, columns: number, seed: number): number[][] {
  const next = random(seed);
  return Array.from({ length: lines }, () =>
    Array.from({ length: Math.floor(next() * columns) }, () => Math.floor(next() * GLYPHS.length)),
  );
}

export type Box = { x: number; y: number; w: number; h: number };

/** A blank (BG) frame. */
export function blankFrame(width: number, height: number): FramePixels {
  const data = Buffer.alloc(width * height * 4);
  const words = new Uint32Array(data.buffer, data.byteOffset, width * height);
  words.fill(BG);
  return { width, height, data, words, order: "bgra" };
}

export function copyFrame(frame: FramePixels): FramePixels {
  const data = Buffer.from(frame.data);
  return { ...frame, data, words: new Uint32Array(data.buffer, data.byteOffset, frame.width * frame.height) };
}

/** Draws `lines` from `top` into `box` of `frame` (lines clipped to the box; the rest BG). */
export function drawTerminal(frame: FramePixels, box: Box, lines: readonly number[][], top: number): void {
  const { words, width } = frame;
  for (let y = 0; y < box.h; y += 1) {
    const line = lines[top + Math.floor(y / LINE_H)] ?? [];
    const gy = y % LINE_H;
    for (let x = 0; x < box.w; x += 1) {
      const index = line[Math.floor(x / CELL_W)];
      const glyph = index === undefined ? undefined : GLYPHS[index];
      const on = glyph !== undefined && glyph[gy * CELL_W + (x % CELL_W)] === 1;
      words[(box.y + y) * width + box.x + x] = on ? FG : BG;
    }
  }
}

/** Random colours in `box` (a photo, a video: far more than 256 colours per tile). */
export function drawPhoto(frame: FramePixels, box: Box, seed: number): void {
  const next = random(seed);
  for (let y = box.y; y < box.y + box.h; y += 1)
    for (let x = box.x; x < box.x + box.w; x += 1)
      frame.words[y * frame.width + x] = Math.floor(next() * 0x1000000);
}

/** A gradient in `box`: red across, green down, blue with both (every pixel of a tile its own colour). */
export function drawGradient(frame: FramePixels, box: Box): void {
  for (let y = box.y; y < box.y + box.h; y += 1)
    for (let x = box.x; x < box.x + box.w; x += 1)
      frame.words[y * frame.width + x] = ((x & 0xff) << 16) | ((y & 0xff) << 8) | ((x + y) & 0xff);
}

/**
 * Exactly `colours` (1..256) distinct greys in `box` (which must have that many pixels): each once in
 * the first pixels, then at random (a palette animation, or a packing test).
 */
export function drawColours(frame: FramePixels, box: Box, colours: number, seed: number): void {
  const next = random(seed);
  let k = 0;
  for (let y = box.y; y < box.y + box.h; y += 1)
    for (let x = box.x; x < box.x + box.w; x += 1) {
      const index = k < colours ? k : Math.floor(next() * colours);
      frame.words[y * frame.width + x] = (255 - index) * 0x010101;
      k += 1;
    }
}
