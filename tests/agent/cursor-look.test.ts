import t from "tap";
import { hidesPointer } from "../../agent/input/cursor-look.ts";
import { win32CursorLook } from "../../agent/input/win32-cursor-image.ts";
import { cursorLook } from "../../agent/input/x11-cursor-shape.ts";
import { MAX_CURSOR_SIDE } from "../../shared/control.ts";

/** An XFixes image: premultiplied ARGB32, B, G, R, A bytes per pixel. */
function image(
  width: number,
  height: number,
  pixel: (x: number, y: number) => [number, number, number, number],
) {
  const cursorImage = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b, a] = pixel(x, y);
      cursorImage.set([b, g, r, a], (y * width + x) * 4);
    }
  }
  return { width, height, xhot: 0, yhot: 0, cursorSerial: 1, cursorImage };
}

t.test("premultiplied B, G, R, A becomes straight R, G, B, A", async (t) => {
  const look = cursorLook({
    ...image(2, 1, (x) => (x === 0 ? [128, 64, 0, 128] : [0, 0, 0, 0])),
    xhot: 1,
    yhot: 0,
  });
  t.match(look, { width: 2, height: 1, hotX: 1, hotY: 0 });
  t.same([...look.rgba], [255, 128, 0, 128, 0, 0, 0, 0], "half-transparent orange, then clear");
});

t.test("a cursor larger than the wire allows is cut around its hotspot", async (t) => {
  const side = MAX_CURSOR_SIDE * 2;
  const big = image(side, side, (x, y) => (x === 150 && y === 120 ? [255, 255, 255, 255] : [0, 0, 0, 0]));
  const look = cursorLook({ ...big, xhot: 150, yhot: 120 });
  t.equal(look.width, MAX_CURSOR_SIDE);
  t.equal(look.height, MAX_CURSOR_SIDE);
  const at = (look.hotY * look.width + look.hotX) * 4;
  t.same(
    [...look.rgba.subarray(at, at + 4)],
    [255, 255, 255, 255],
    "the hotspot's pixel is still under the hotspot",
  );
  const corner = cursorLook({ ...big, xhot: 2, yhot: side - 1 });
  t.match(corner, { hotX: 2, hotY: MAX_CURSOR_SIDE - 1 }, "near an edge, the cut keeps to the image");
});

t.test("a hidden pointer: not shown, or shown as a look without a visible pixel", async (t) => {
  const arrow = cursorLook(image(4, 4, (x, y) => (x <= y ? [0, 0, 0, 255] : [0, 0, 0, 0])));
  const faint = cursorLook(image(2, 2, (x) => (x === 1 ? [1, 1, 1, 1] : [0, 0, 0, 0])));
  const blankX11 = cursorLook(image(8, 8, () => [0, 0, 0, 0]));
  // Windows' blank cursor: monochrome, AND set and XOR clear everywhere (mask above image).
  const blankWindows = win32CursorLook({
    hotX: 0,
    hotY: 0,
    width: 2,
    height: 2,
    color: undefined,
    mask: Uint8Array.from([...Array(4).fill([255, 255, 255, 0]), ...Array(4).fill([0, 0, 0, 0])].flat()),
  });
  t.equal(hidesPointer({ shown: false }), true, "hidden (Windows: no CURSOR_SHOWING)");
  t.equal(hidesPointer({ shown: true }), false, "shown, look unread");
  t.equal(hidesPointer({ shown: true, look: arrow }), false, "an arrow");
  t.equal(hidesPointer({ shown: true, look: faint }), false, "one faint pixel still shows");
  t.equal(hidesPointer({ shown: true, look: blankX11 }), true, "X11's blank cursor");
  t.equal(hidesPointer({ shown: true, look: blankWindows }), true, "a blank Windows cursor");
});
