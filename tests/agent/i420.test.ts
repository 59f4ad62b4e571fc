import t from "tap";
import type { ScreenFrame } from "../../agent/media/capture.ts";
import { BAND_ROWS, changedRows, I420Picture } from "../../agent/media/i420.ts";

function solid(width: number, height: number, [r, g, b]: readonly [number, number, number]): ScreenFrame {
  const data = Buffer.alloc(width * height * 4);
  for (let i = 0; i < width * height; i++) data.set([r, g, b, 255], i * 4);
  return { width, height, data, order: "rgba" };
}

/** The same frame as an X server's 24-bit screen lays it out: B, G, R, X. */
function asBgra(frame: ScreenFrame): ScreenFrame {
  const data = Buffer.from(frame.data);
  for (let i = 0; i < data.length; i += 4) {
    const red = data[i] ?? 0;
    data[i] = data[i + 2] ?? 0;
    data[i + 2] = red;
    data[i + 3] = 0;
  }
  return { ...frame, data, order: "bgra" };
}

function paint(
  frame: ScreenFrame,
  x: number,
  y: number,
  rgb: readonly [number, number, number],
): ScreenFrame {
  const data = Buffer.from(frame.data);
  data.set([...rgb, 255], (y * frame.width + x) * 4);
  return { ...frame, data };
}

/** Y, U and V of the pixel at (x, y). */
function yuvAt(picture: I420Picture, x: number, y: number): [number, number, number] {
  const { width, height, data } = picture;
  const chroma = (y >> 1) * (width >> 1) + (x >> 1);
  return [
    data[y * width + x] ?? -1,
    data[width * height + chroma] ?? -1,
    data[width * height + (width * height) / 4 + chroma] ?? -1,
  ];
}

t.test("colours convert to BT.601 limited-range YUV, from RGBA and from BGRA", async (t) => {
  const expected: Array<[string, [number, number, number], [number, number, number]]> = [
    ["black", [0, 0, 0], [16, 128, 128]],
    ["white", [255, 255, 255], [235, 128, 128]],
    ["red", [255, 0, 0], [82, 90, 240]],
    ["green", [0, 255, 0], [145, 54, 34]],
    ["blue", [0, 0, 255], [41, 240, 110]],
  ];
  for (const [name, rgb, yuv] of expected) {
    for (const frame of [solid(4, 4, rgb), asBgra(solid(4, 4, rgb))]) {
      const picture = new I420Picture(4, 4);
      picture.update(frame);
      const [y, u, v] = yuvAt(picture, 1, 1);
      t.ok(
        Math.abs(y - yuv[0]) <= 1 && Math.abs(u - yuv[1]) <= 1 && Math.abs(v - yuv[2]) <= 1,
        `${name} from ${frame.order}: ${[y, u, v]} is ${yuv} (±1)`,
      );
    }
  }
});

t.test(
  "blocks of one colour take the values of the last such block only when the colour is the same",
  async (t) => {
    // 2x2 blocks left to right: white, white, red, white, a mixed block, white, black, white (the
    // last one with another X byte, as BGRX leaves it undefined). Each must convert as it does alone.
    const colours: Array<readonly [number, number, number] | "mixed"> = [
      [255, 255, 255],
      [255, 255, 255],
      [255, 0, 0],
      [255, 255, 255],
      "mixed",
      [255, 255, 255],
      [0, 0, 0],
      [255, 255, 255],
    ];
    let frame = solid(colours.length * 2, 2, [0, 0, 0]);
    colours.forEach((colour, block) => {
      for (const [dx, dy] of [
        [0, 0],
        [1, 0],
        [0, 1],
        [1, 1],
      ] as const) {
        const rgb =
          colour === "mixed" ? (dx === dy ? ([255, 255, 255] as const) : ([0, 0, 255] as const)) : colour;
        frame = paint(frame, block * 2 + dx, dy, rgb);
      }
    });
    const bgra = asBgra(frame);
    bgra.data[(colours.length * 2 - 1) * 4 + 3] = 7;
    for (const input of [frame, bgra]) {
      const picture = new I420Picture(input.width, input.height);
      picture.update(input);
      colours.forEach((colour, block) => {
        if (colour === "mixed") return;
        const alone = new I420Picture(2, 2);
        alone.update(solid(2, 2, colour));
        t.same(
          yuvAt(picture, block * 2 + 1, 1),
          yuvAt(alone, 1, 1),
          `${input.order} block ${block}: ${colour}`,
        );
      });
      t.same(
        [yuvAt(picture, 8, 0)[0], yuvAt(picture, 9, 0)[0]],
        [235, 41],
        `${input.order}: the mixed block's white and blue pixels`,
      );
    }
  },
);

t.test("odd sizes are cut to even: the last column and row are left out", async (t) => {
  const picture = new I420Picture(5, 3);
  t.equal(picture.width, 4);
  t.equal(picture.height, 2);
  t.equal(picture.data.length, (4 * 2 * 3) / 2);
  const frame = solid(5, 3, [255, 255, 255]);
  t.ok(picture.fits(frame));
  t.notOk(picture.fits(solid(6, 3, [0, 0, 0])), "a wider capture does not fit");
  picture.update(frame);
  t.same(yuvAt(picture, 3, 1), [235, 128, 128]);
});

t.test("changedRows finds the changed bands, merged, and nothing for equal frames", async (t) => {
  const width = 64;
  const height = BAND_ROWS * 6 + 4;
  const base = solid(width, height, [10, 20, 30]);
  t.same(changedRows(base.data, Buffer.from(base.data), width, height), [], "equal: no rows");
  const one = paint(base, 5, BAND_ROWS * 2 + 3, [200, 0, 0]);
  t.same(changedRows(base.data, one.data, width, height), [{ start: BAND_ROWS * 2, end: BAND_ROWS * 3 }]);
  const adjacent = paint(one, 60, BAND_ROWS * 3, [0, 200, 0]);
  t.same(
    changedRows(base.data, adjacent.data, width, height),
    [{ start: BAND_ROWS * 2, end: BAND_ROWS * 4 }],
    "neighbouring bands merge",
  );
  const apart = paint(paint(base, 0, 0, [1, 1, 1]), 0, height - 1, [1, 1, 1]);
  t.same(
    changedRows(base.data, apart.data, width, height),
    [
      { start: 0, end: BAND_ROWS },
      { start: BAND_ROWS * 6, end: height },
    ],
    "separate bands stay separate; the last, short band ends at the height",
  );
  t.same(
    changedRows(base.data, Buffer.alloc(8), width, height),
    [{ start: 0, end: height }],
    "other size: all",
  );
});

t.test("updating only the changed rows gives the same picture as converting it all", async (t) => {
  const width = 96;
  const height = 70;
  let frame = solid(width, height, [30, 60, 90]);
  const incremental = new I420Picture(width, height);
  incremental.update(frame);
  let seed = 7;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed;
  };
  for (let step = 0; step < 20; step++) {
    let next = frame;
    for (let i = 0; i < 5; i++) {
      next = paint(next, random() % width, random() % height, [
        random() % 256,
        random() % 256,
        random() % 256,
      ]);
    }
    incremental.update(next, changedRows(frame.data, next.data, width, height));
    frame = next;
  }
  const whole = new I420Picture(width, height);
  whole.update(frame);
  t.ok(Buffer.from(incremental.data).equals(Buffer.from(whole.data)), "byte for byte the same");
});

t.test(
  "frozen tiles keep what the picture had; tiles handed back to the video are converted whole",
  async (t) => {
    // 128 x 128 in 64-pixel tiles: 0 1 / 2 3. Tile 1 frozen, then handed back.
    const white = solid(128, 128, [255, 255, 255]);
    const red = solid(128, 128, [255, 0, 0]);
    const picture = new I420Picture(128, 128);
    picture.update(white);
    const frozen = Uint8Array.from([0, 1, 0, 0]);
    picture.update(red, [{ start: 0, end: 128 }], { size: 64, frozen, unfrozen: [] });
    t.same(yuvAt(picture, 10, 10), yuvAt(convertedWhole(red), 10, 10), "tile 0 follows the capture");
    t.same(yuvAt(picture, 70, 10), [235, 128, 128], "tile 1 (frozen) stays white, luma and chroma");
    t.same(yuvAt(picture, 127, 63), [235, 128, 128], "to its last pixel");
    t.same(yuvAt(picture, 70, 64), yuvAt(convertedWhole(red), 70, 64), "tile 3, below it, follows");
    // Nothing changed in the capture's rows, but tile 1 goes back to the video: converted now.
    picture.update(red, [], { size: 64, frozen: new Uint8Array(4), unfrozen: [1] });
    t.same(picture.data, convertedWhole(red).data, "the picture is the capture again, exactly");
  },
);

t.test("a frozen tile on the odd right edge of a capture narrower than its last tile", async (t) => {
  // 100 x 70: tiles 0 (64 wide) and 1 (36 wide), 2 and 3 below them (6 rows, then 70 & ~1).
  const white = solid(100, 70, [255, 255, 255]);
  const blue = solid(100, 70, [0, 0, 255]);
  const picture = new I420Picture(100, 70);
  picture.update(white);
  picture.update(blue, undefined, { size: 64, frozen: Uint8Array.from([1, 0, 0, 1]), unfrozen: [] });
  t.same(yuvAt(picture, 0, 0), [235, 128, 128], "tile 0 frozen");
  t.same(yuvAt(picture, 99, 0), yuvAt(convertedWhole(blue), 99, 0), "tile 1 converted");
  t.same(yuvAt(picture, 0, 69), yuvAt(convertedWhole(blue), 0, 69), "tile 2 converted");
  t.same(yuvAt(picture, 99, 69), [235, 128, 128], "tile 3 frozen");
  picture.update(blue, [], { size: 64, frozen: new Uint8Array(4), unfrozen: [0, 3] });
  t.same(picture.data, convertedWhole(blue).data, "both handed back: the capture exactly");
});

function convertedWhole(frame: ScreenFrame): I420Picture {
  const picture = new I420Picture(frame.width, frame.height);
  picture.update(frame);
  return picture;
}
