import t from "tap";
import { win32CursorLook } from "../../agent/input/win32-cursor-image.ts";
import { MAX_CURSOR_SIDE } from "../../shared/control.ts";

/** 32-bit rows as GetDIBits gives them: B, G, R, A per pixel. */
function bgra(pixels: readonly (readonly [number, number, number, number])[]): Uint8Array {
  return Uint8Array.from(pixels.flatMap(([r, g, b, a]) => [b, g, r, a]));
}

/** A mask read at 32 bits: set bits white, clear bits black (alpha zero, as GDI writes them). */
function mask(bits: readonly number[]): Uint8Array {
  return Uint8Array.from(bits.flatMap((bit) => (bit ? [255, 255, 255, 0] : [0, 0, 0, 0])));
}

const pixelsOf = (rgba: Buffer) =>
  Array.from({ length: rgba.byteLength / 4 }, (_, i) => [...rgba.subarray(i * 4, i * 4 + 4)]);

t.test("a colour cursor with alpha keeps its colours and alpha, the mask unused", async (t) => {
  const look = win32CursorLook({
    hotX: 1,
    hotY: 0,
    width: 2,
    height: 1,
    color: bgra([
      [255, 128, 0, 200],
      [0, 0, 0, 0],
    ]),
    mask: mask([1, 1]),
  });
  t.match(look, { width: 2, height: 1, hotX: 1, hotY: 0 });
  t.same(pixelsOf(look.rgba), [
    [255, 128, 0, 200],
    [0, 0, 0, 0],
  ]);
});

t.test("a colour cursor whose alpha is all zero takes its transparency from the AND mask", async (t) => {
  const look = win32CursorLook({
    hotX: 0,
    hotY: 0,
    width: 3,
    height: 1,
    color: bgra([
      [10, 20, 30, 0],
      [0, 0, 0, 0],
      [0, 0, 0, 0],
    ]),
    mask: mask([0, 0, 1]),
  });
  t.same(
    pixelsOf(look.rgba),
    [
      [10, 20, 30, 255],
      [0, 0, 0, 255],
      [0, 0, 0, 0],
    ],
    "AND clear: the colour, opaque (black included); AND set over black: transparent",
  );
});

t.test("a monochrome cursor: AND mask above XOR mask, twice the height", async (t) => {
  // 4x1 cursor: AND 0 0 1 1 over XOR 0 1 0 1.
  const look = win32CursorLook({
    hotX: 3,
    hotY: 0,
    width: 4,
    height: 1,
    color: undefined,
    mask: mask([0, 0, 1, 1, 0, 1, 0, 1]),
  });
  t.match(look, { width: 4, height: 1, hotX: 3, hotY: 0 });
  t.same(
    pixelsOf(look.rgba),
    [
      [0, 0, 0, 255],
      [255, 255, 255, 255],
      [255, 255, 255, 255],
      [0, 0, 0, 255],
    ],
    "black, white, then the inverting pixel drawn black with its transparent neighbour outlined white",
  );
});

t.test("inverting pixels (a classic I-beam) are drawn black with a white outline", async (t) => {
  // 3x3 monochrome cursor: only the centre inverts, the rest is transparent.
  const and = [1, 1, 1, 1, 1, 1, 1, 1, 1];
  const xor = [0, 0, 0, 0, 1, 0, 0, 0, 0];
  const look = win32CursorLook({
    hotX: 1,
    hotY: 1,
    width: 3,
    height: 3,
    color: undefined,
    mask: mask([...and, ...xor]),
  });
  const pixels = pixelsOf(look.rgba);
  t.same(pixels[4], [0, 0, 0, 255], "the centre black");
  t.ok(
    pixels.every((pixel, i) => i === 4 || JSON.stringify(pixel) === JSON.stringify([255, 255, 255, 255])),
    "every neighbour white",
  );
  const colour = win32CursorLook({
    hotX: 0,
    hotY: 0,
    width: 2,
    height: 1,
    color: bgra([
      [255, 255, 255, 0],
      [0, 0, 0, 0],
    ]),
    mask: mask([1, 1]),
  });
  t.same(
    pixelsOf(colour.rgba),
    [
      [0, 0, 0, 255],
      [255, 255, 255, 255],
    ],
    "a colour cursor without alpha inverts where AND is set over a colour: the same drawing",
  );
});

t.test("a large cursor is cut around its hotspot, a hotspot off the image kept to its edge", async (t) => {
  const side = MAX_CURSOR_SIDE * 2;
  const bits = new Array<number>(side * side).fill(1);
  bits[120 * side + 150] = 0;
  const look = win32CursorLook({
    hotX: 150,
    hotY: 120,
    width: side,
    height: side,
    color: undefined,
    mask: mask([...bits, ...new Array<number>(side * side).fill(1)]),
  });
  t.match(look, { width: MAX_CURSOR_SIDE, height: MAX_CURSOR_SIDE });
  const at = (look.hotY * look.width + look.hotX) * 4;
  t.same([...look.rgba.subarray(at, at + 4)], [255, 255, 255, 255], "the hotspot's pixel under the hotspot");
  const off = win32CursorLook({
    hotX: 40,
    hotY: 9,
    width: 2,
    height: 2,
    color: undefined,
    mask: mask(new Array(8).fill(0)),
  });
  t.match(off, { hotX: 1, hotY: 1 });
});
