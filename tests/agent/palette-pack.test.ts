import t from "tap";
import { MAX_PALETTE, type PackedRect, packRect } from "../../agent/media/palette-pack.ts";
import type { FramePixels } from "../../agent/media/screen-ops.ts";
import { bitsPerPixel } from "../../shared/screen.ts";
import { blankFrame, drawColours, drawGradient, drawPhoto } from "./screen-frames.ts";

/** The rect's pixels as r, g, b per pixel, read back by the wire's rules (MSB first, rows on bytes). */
function unpack(rect: PackedRect): number[] {
  const colours = rect.palette.length / 3;
  const bpp = bitsPerPixel(colours);
  const stride = Math.ceil((rect.w * bpp) / 8);
  t.equal(rect.data.length, stride * rect.h, "h rows of ceil(w * bpp / 8) bytes");
  const out: number[] = [];
  let outside = 0;
  for (let y = 0; y < rect.h; y += 1)
    for (let x = 0; x < rect.w; x += 1) {
      const bit = x * bpp;
      const byte = rect.data[y * stride + (bit >> 3)] ?? 0;
      const index = (byte >> (8 - bpp - (bit & 7))) & ((1 << bpp) - 1);
      if (index >= colours) outside += 1;
      out.push(
        rect.palette[index * 3] ?? -1,
        rect.palette[index * 3 + 1] ?? -1,
        rect.palette[index * 3 + 2] ?? -1,
      );
    }
  t.equal(outside, 0, "every index within the palette");
  return out;
}

/** The frame's pixels in `rect` as r, g, b. */
function expected(frame: FramePixels, rect: { x: number; y: number; w: number; h: number }): number[] {
  const out: number[] = [];
  for (let y = rect.y; y < rect.y + rect.h; y += 1)
    for (let x = rect.x; x < rect.x + rect.w; x += 1) {
      const word = frame.words[y * frame.width + x] ?? 0;
      const [a, g, b] = [word & 0xff, (word >>> 8) & 0xff, (word >>> 16) & 0xff];
      out.push(...(frame.order === "bgra" ? [b, g, a] : [a, g, b]));
    }
  return out;
}

t.test("1 to 256 colours pack at the fewest bits and read back exactly, odd widths included", async (t) => {
  for (const colours of [1, 2, 3, 4, 5, 16, 17, 100, 256]) {
    for (const w of [1, 7, 13, 64]) {
      const frame = blankFrame(80, 300);
      const area = { x: 3, y: 2, w, h: Math.max(1, Math.ceil(colours / w)) + 3 };
      drawColours(frame, area, colours, colours * 100 + w);
      const packed = packRect(frame, area);
      if (packed === undefined) {
        t.fail(`${colours} colours refused`);
        continue;
      }
      t.equal(packed.palette.length, colours * 3, `${colours} colours, w ${w}: the palette`);
      t.same(unpack(packed), expected(frame, area), `${colours} colours, w ${w}: exact`);
    }
  }
});

t.test("the 257th colour refuses the rectangle, and a lower limit refuses earlier", async (t) => {
  const frame = blankFrame(64, 64);
  const area = { x: 0, y: 0, w: 64, h: 64 };
  drawColours(frame, area, 256, 1);
  t.ok(packRect(frame, area) !== undefined, "256 fit");
  frame.words[64 * 64 - 1] = 0x123456;
  t.equal(packRect(frame, area), undefined, "257 do not");
  t.equal(packRect(frame, { ...area, h: 1 }, 16), undefined, "17 of a 16-colour limit do not");
  drawPhoto(frame, area, 2);
  t.equal(packRect(frame, area), undefined, "a photo does not");
  drawGradient(frame, area);
  t.equal(packRect(frame, area), undefined, "a gradient does not");
  t.equal(MAX_PALETTE, 256);
});

t.test("the palette is sorted by colour and in r g b order for both byte orders", async (t) => {
  for (const order of ["bgra", "rgba"] as const) {
    const frame = { ...blankFrame(4, 1), order };
    frame.words.set([0xff332211, 0x00665544, 0xff332211, 0x00000001]);
    const packed = packRect(frame, { x: 0, y: 0, w: 4, h: 1 });
    const rgb =
      order === "bgra"
        ? [0x00, 0x00, 0x01, 0x33, 0x22, 0x11, 0x66, 0x55, 0x44]
        : [0x01, 0x00, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66];
    t.same([...(packed?.palette ?? [])], rgb, `${order}: sorted, alpha ignored`);
    t.same([...(packed?.data ?? [])], [0b01100100], `${order}: 2 bits per pixel, MSB first`);
  }
});
