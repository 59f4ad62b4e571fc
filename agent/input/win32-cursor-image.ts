/**
 * A Windows cursor's bitmaps as a look to send (pure arithmetic; win32-cursor.ts reads them with
 * GetIconInfo and GetDIBits). Windows has three kinds:
 * - colour with alpha (what Windows 10 and Wine ship): B, G, R, A rows, the alpha straight as in
 *   the .cur file, the mask unused;
 * - colour without alpha (every alpha byte zero, older cursors): a pixel is shown where the AND
 *   mask is clear; where it is set, a black colour leaves the screen as it is (transparent) and
 *   any other inverts the screen;
 * - monochrome (no colour bitmap): the mask is twice the height, the AND mask on top of the XOR
 *   mask; AND 0 XOR 0 black, AND 0 XOR 1 white, AND 1 XOR 0 transparent, AND 1 XOR 1 inverts the
 *   screen (the classic I-beam).
 * A look cannot invert what is under it: an inverting pixel is drawn black, and the transparent
 * pixels that touch one are drawn white, so that it shows on dark and light backgrounds alike.
 */
import { type CursorLook, cutAroundHotspot } from "./cursor-look.ts";

/** The bitmaps as GetDIBits gives them at 32 bits per pixel, rows top-down. */
export type Win32CursorBitmaps = {
  readonly hotX: number;
  readonly hotY: number;
  /** The colour bitmap's size (monochrome: the mask's width and half its height). */
  readonly width: number;
  readonly height: number;
  /** B, G, R, A per pixel; undefined for a monochrome cursor. */
  readonly color: Uint8Array | undefined;
  /** The mask at 32 bits per pixel: a set bit reads as white (any non-zero B, G, R), clear as black. */
  readonly mask: Uint8Array;
};

const OPAQUE_BLACK = [0, 0, 0, 255] as const;
const OPAQUE_WHITE = [255, 255, 255, 255] as const;

export function win32CursorLook(bitmaps: Win32CursorBitmaps): CursorLook {
  const { width, height, color, mask } = bitmaps;
  const pixels = width * height;
  const rgba = Buffer.alloc(pixels * 4);
  const maskBit = (index: number) =>
    ((mask[index * 4] ?? 0) | (mask[index * 4 + 1] ?? 0) | (mask[index * 4 + 2] ?? 0)) !== 0;
  const inverting = new Uint8Array(pixels);
  const hasAlpha = color?.some((value, at) => at % 4 === 3 && value !== 0);
  for (let index = 0; index < pixels; index++) {
    const at = index * 4;
    if (color === undefined) {
      const and = maskBit(index);
      const xor = maskBit(index + pixels);
      if (and && xor) inverting[index] = 1;
      else if (!and) rgba.set(xor ? OPAQUE_WHITE : OPAQUE_BLACK, at);
      continue;
    }
    const blue = color[at] ?? 0;
    const green = color[at + 1] ?? 0;
    const red = color[at + 2] ?? 0;
    if (hasAlpha) {
      rgba.set([red, green, blue, color[at + 3] ?? 0], at);
    } else if (!maskBit(index)) {
      rgba.set([red, green, blue, 255], at);
    } else if (red !== 0 || green !== 0 || blue !== 0) {
      inverting[index] = 1;
    }
  }
  outlineInverting(rgba, inverting, width, height);
  return cutAroundHotspot({ width, height, hotX: bitmaps.hotX, hotY: bitmaps.hotY, rgba });
}

/** Inverting pixels drawn black, with a white outline on the transparent pixels around them. */
function outlineInverting(rgba: Buffer, inverting: Uint8Array, width: number, height: number): void {
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (inverting[y * width + x] === 0) continue;
      rgba.set(OPAQUE_BLACK, (y * width + x) * 4);
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          const ny = y + dy;
          if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
          const near = ny * width + nx;
          if (inverting[near] === 0 && rgba[near * 4 + 3] === 0) rgba.set(OPAQUE_WHITE, near * 4);
        }
      }
    }
  }
}
