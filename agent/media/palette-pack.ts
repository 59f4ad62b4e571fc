/**
 * Palette packing for the lossless path (docs/screen-copy-path.md, "Wire format, version 1"): a
 * rectangle of a 32-bit frame as a palette of at most 256 colours (r, g, b bytes) and its pixels as
 * palette indices, packed most significant bits first at the fewest bits per pixel (1, 2, 4 or 8)
 * that hold the palette, each row starting on a byte. A rectangle with more colours is refused as
 * soon as the 257th turns up, so a photo costs a few hundred pixels of scanning, not its area.
 *
 * Fast on the text the path is for: pixels are read as 32-bit words, a run of one colour costs one
 * compare (the last colour is remembered), other colours are found in a small open-addressing
 * table. The palette is sorted by colour, so the same two colours give the same bytes frame after
 * frame (the channel's deflate finds the glyphs of earlier records again).
 * Measured on real captures by `scripts/probe-screen-ops.ts`.
 */
import { bitsPerPixel, type ScreenRect } from "../../shared/screen.ts";

/** The byte order of a 32-bit pixel: X servers give B, G, R, X; browsers and PNG R, G, B, A. */
export type PixelOrder = "rgba" | "bgra";

/** What packing reads: the frame's words (row after row, `width` words each) and their byte order. */
export type PackSource = { readonly width: number; readonly words: Uint32Array; readonly order: PixelOrder };

export type Area = { readonly x: number; readonly y: number; readonly w: number; readonly h: number };

/** A packed rectangle: the wire's ScreenRect (palette r g b, here sorted by colour; indices MSB first). */
export type PackedRect = ScreenRect;

/** The most colours a rectangle's palette holds (the wire's u8 index). */
export const MAX_PALETTE = 256;

// The colour table: 1024 slots for at most 256 colours (a quarter full at worst, short probes).
const SLOTS = 1024;
const SHIFT = 22; // 32 - log2(SLOTS)
const keys = new Int32Array(SLOTS); // colour + 1; 0 = empty
const slotIndex = new Uint8Array(SLOTS);
const colours = new Int32Array(MAX_PALETTE);
const remap = new Uint8Array(MAX_PALETTE);
/** Palette indices of the last rectangle, one byte per pixel (grown when a larger one comes). */
let indices = new Uint8Array(64 * 64);

/**
 * Rectangle `area` of `frame` (which it must lie in) with its palette, or undefined when it has
 * more than `max` colours (at most MAX_PALETTE). Colours are the low 24 bits of each word (the
 * fourth byte, X's padding or alpha, is ignored).
 */
export function packRect(frame: PackSource, area: Area, max = MAX_PALETTE): PackedRect | undefined {
  const { x, y, w, h } = area;
  const { width, words } = frame;
  const limit = Math.min(max, MAX_PALETTE);
  if (indices.length < w * h) indices = new Uint8Array(Math.max(w * h, indices.length * 2));
  keys.fill(0);
  let count = 0;
  // The last two colours seen: text alternates between its ink and its background.
  let last = -1;
  let lastIndex = 0;
  let other = -1;
  let otherIndex = 0;
  let k = 0;
  for (let row = y; row < y + h; row += 1) {
    let i = row * width + x;
    const end = i + w;
    for (; i < end; i += 1) {
      // `as number`: in bounds (the area lies in the frame); `?? 0` here costs ~2x.
      const colour = (words[i] as number) & 0xffffff;
      if (colour !== last) {
        if (colour === other) {
          other = last;
          last = colour;
          const swap = otherIndex;
          otherIndex = lastIndex;
          lastIndex = swap;
        } else {
          let slot = Math.imul(colour, 0x9e3779b1 | 0) >>> SHIFT;
          let index = 0;
          for (;;) {
            const key = keys[slot] as number;
            if (key === colour + 1) {
              index = slotIndex[slot] as number;
              break;
            }
            if (key === 0) {
              if (count === limit) return undefined;
              keys[slot] = colour + 1;
              slotIndex[slot] = count;
              colours[count] = colour;
              index = count;
              count += 1;
              break;
            }
            slot = (slot + 1) & (SLOTS - 1);
          }
          other = last;
          otherIndex = lastIndex;
          last = colour;
          lastIndex = index;
        }
      }
      indices[k] = lastIndex;
      k += 1;
    }
  }
  return pack(frame.order, area, count);
}

/** The palette sorted by colour, then the indices (of the last scan) packed at its width. */
function pack(order: PixelOrder, area: Area, count: number): PackedRect {
  const { w, h } = area;
  const byColour = Array.from({ length: count }, (_, n) => n).sort(
    (a, b) => (colours[a] ?? 0) - (colours[b] ?? 0),
  );
  const palette = new Uint8Array(count * 3);
  for (let n = 0; n < count; n += 1) {
    const index = byColour[n] ?? 0;
    const colour = colours[index] ?? 0;
    remap[index] = n;
    // bgra words are 0xXXRRGGBB, rgba words 0xAABBGGRR (little-endian bytes).
    const low = colour & 0xff;
    const high = (colour >>> 16) & 0xff;
    palette[n * 3] = order === "bgra" ? high : low;
    palette[n * 3 + 1] = (colour >>> 8) & 0xff;
    palette[n * 3 + 2] = order === "bgra" ? low : high;
  }
  const bpp = bitsPerPixel(count);
  const stride = Math.ceil((w * bpp) / 8);
  const data = new Uint8Array(stride * h);
  if (count > 1) packIndices(data, w, h, bpp, stride);
  return { ...area, palette, data };
}

function packIndices(data: Uint8Array, w: number, h: number, bpp: number, stride: number): void {
  if (bpp === 1) {
    packBits(data, w, h, stride);
    return;
  }
  const perByte = 8 / bpp;
  const whole = w - (w % perByte);
  let k = 0;
  for (let row = 0; row < h; row += 1) {
    let o = row * stride;
    let x = 0;
    for (; x < whole; x += perByte) {
      let byte = 0;
      for (let j = 0; j < perByte; j += 1) {
        byte = (byte << bpp) | (remap[indices[k] as number] as number);
        k += 1;
      }
      data[o] = byte;
      o += 1;
    }
    if (x < w) {
      let byte = 0;
      let bits = 0;
      for (; x < w; x += 1) {
        byte = (byte << bpp) | (remap[indices[k] as number] as number);
        bits += bpp;
        k += 1;
      }
      data[o] = byte << (8 - bits);
    }
  }
}

/** Two colours: eight indices (0 or 1) a byte, flipped when sorting swapped the two. */
function packBits(data: Uint8Array, w: number, h: number, stride: number): void {
  const flip = remap[0] === 1 ? 0xff : 0;
  const whole = w & ~7;
  const ix = indices;
  let k = 0;
  for (let row = 0; row < h; row += 1) {
    let o = row * stride;
    let x = 0;
    for (; x < whole; x += 8) {
      data[o] =
        (((ix[k] as number) << 7) |
          ((ix[k + 1] as number) << 6) |
          ((ix[k + 2] as number) << 5) |
          ((ix[k + 3] as number) << 4) |
          ((ix[k + 4] as number) << 3) |
          ((ix[k + 5] as number) << 2) |
          ((ix[k + 6] as number) << 1) |
          (ix[k + 7] as number)) ^
        flip;
      k += 8;
      o += 1;
    }
    if (x < w) {
      let byte = 0;
      let bits = 0;
      for (; x < w; x += 1) {
        byte = (byte << 1) | (ix[k] as number);
        bits += 1;
        k += 1;
      }
      data[o] = ((byte ^ flip) << (8 - bits)) & (0xff << (8 - bits));
    }
  }
}
