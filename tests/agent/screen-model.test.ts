import t, { type Test } from "tap";
import {
  decodeScreenRecord,
  encodeScreenRecord,
  type ScreenRecord,
  type ScreenRect,
  tileGrid,
} from "../../shared/screen.ts";
import { type Rect, ScreenCanvasModel } from "../../shared/screen-model.ts";
import { integer, ReferenceCanvas, random, randomRecord, randomRect } from "../helpers/screen-records.ts";

/** 130x70: 3x2 tiles, the last column 2 wide, the last row 6 high. */
const W = 130;
const H = 70;
const ALL = Array.from({ length: tileGrid(W, H).count }, (_, i) => i);

const empty: ScreenRecord = {
  reset: false,
  rtpTimestamp: 0,
  capturedAt: 0,
  width: W,
  height: H,
  show: [],
  hide: [],
  copies: [],
  rects: [],
};

/** A rect of one row per pixel row, every pixel index = its row (mod entries), at 8 bpp. */
function rows(x: number, y: number, w: number, h: number): ScreenRect {
  const palette = new Uint8Array(3 * 256).map((_, i) => Math.floor(i / 3));
  const data = new Uint8Array(w * h);
  for (let row = 0; row < h; row += 1) data.fill((y + row) % 256, row * w, (row + 1) * w);
  return { x, y, w, h, palette, data };
}

/** A model with every tile lossless, pixel (x, y) = r y, g y, b y (rows told apart). */
function striped(): ScreenCanvasModel {
  const model = new ScreenCanvasModel();
  model.apply({ ...empty, reset: true, show: ALL, rects: [rows(0, 0, W, H)] });
  return model;
}

function pixel(model: ScreenCanvasModel, x: number, y: number): number[] {
  const at = (y * model.width + x) * 4;
  return [...model.rgba.subarray(at, at + 4)];
}

function covered(dirty: readonly Rect[], x: number, y: number): boolean {
  return dirty.some((r) => x >= r.x && x < r.x + r.w && y >= r.y && y < r.y + r.h);
}

t.test("a RESET record sizes the canvas, clears it and makes every tile video", async (t) => {
  const model = new ScreenCanvasModel();
  t.equal(model.width, 0);
  t.match(model.check(empty), { ok: false, code: "SCREEN_OUT_OF_BOUNDS" }, "no size before a RESET");
  t.throws(() => model.apply(empty), RangeError);
  const first = model.apply({ ...empty, reset: true, show: [0], rects: [rows(0, 0, 64, 64)] });
  t.same(first.dirty, [{ x: 0, y: 0, w: W, h: H }]);
  t.equal(model.rgba.length, W * H * 4);
  t.same(pixel(model, 5, 7), [7, 7, 7, 255]);
  t.ok(model.isLossless(0));
  t.notOk(model.isLossless(1));
  const second = model.apply({ ...empty, reset: true, width: 200, height: 10 });
  t.same([model.width, model.height, model.rgba.length], [200, 10, 200 * 10 * 4], "resized");
  t.same(second.dirty, [{ x: 0, y: 0, w: 200, h: 10 }]);
  t.ok(
    model.rgba.every((byte) => byte === 0),
    "cleared",
  );
  t.notOk(model.isLossless(0), "every tile video again");
  t.match(model.check({ ...empty, width: 201, height: 10 }), { ok: false }, "only a RESET changes the size");
  model.apply({ ...empty, width: 200, height: 10, show: [0], rects: [rows(0, 0, 64, 10)] });
  model.apply({ ...empty, reset: true, width: 200, height: 10 });
  t.ok(
    model.rgba.every((byte) => byte === 0),
    "a RESET of the same size clears too",
  );
});

t.test("a scroll copy reads the canvas as it was before the record", async (t) => {
  for (const dy of [13, -13, 1, -1]) {
    const model = striped();
    const { dirty } = model.apply({
      ...empty,
      copies: [{ x: 0, y: Math.max(0, -dy), w: W, h: H - Math.abs(dy), dy }],
    });
    for (let y = Math.max(0, -dy); y < H - Math.max(0, dy); y += 1) {
      if (pixel(model, 64, y)[0] !== y + dy) t.fail(`dy ${dy}: row ${y} holds ${pixel(model, 64, y)[0]}`);
    }
    t.same(dirty, [{ x: 0, y: Math.max(0, -dy), w: W, h: H - Math.abs(dy) }], `dy ${dy}: one dirty rect`);
  }
  const narrow = striped();
  narrow.apply({ ...empty, copies: [{ x: 10, y: 0, w: 50, h: 60, dy: 5 }] });
  t.same(
    [pixel(narrow, 10, 0)[0], pixel(narrow, 59, 59)[0], pixel(narrow, 60, 0)[0], pixel(narrow, 9, 0)[0]],
    [5, 64, 0, 0],
  );
});

t.test("overlapping copies: each reads the state before the record's first copy", async (t) => {
  // The first copy's destination (rows 20..29) is the second's source: the second must see the old rows.
  const model = striped();
  model.apply({
    ...empty,
    copies: [
      { x: 0, y: 20, w: W, h: 10, dy: 30 },
      { x: 0, y: 0, w: W, h: 10, dy: 20 },
    ],
  });
  t.same([pixel(model, 1, 20)[0], pixel(model, 1, 0)[0], pixel(model, 1, 9)[0]], [50, 20, 29]);
  // Two copies swap bands of rows.
  const swap = striped();
  swap.apply({
    ...empty,
    copies: [
      { x: 0, y: 0, w: 64, h: 10, dy: 40 },
      { x: 0, y: 40, w: 64, h: 10, dy: -40 },
    ],
  });
  t.same([pixel(swap, 3, 0)[0], pixel(swap, 3, 40)[0], pixel(swap, 3, 49)[0]], [40, 0, 9], "swapped");
  // A later copy's destination over an earlier copy's source is fine in place, and still exact.
  const chain = striped();
  chain.apply({
    ...empty,
    copies: [
      { x: 0, y: 0, w: W, h: 10, dy: 10 },
      { x: 0, y: 10, w: W, h: 10, dy: 10 },
    ],
  });
  t.same([pixel(chain, 3, 0)[0], pixel(chain, 3, 10)[0]], [10, 20]);
});

t.test("rects at every bpp expand their palette, MSB first, rows on a byte", async (t) => {
  for (const [entries, bpp] of [
    [2, 1],
    [3, 2],
    [16, 4],
    [17, 8],
  ] as const) {
    const model = new ScreenCanvasModel();
    model.apply({ ...empty, reset: true, show: ALL });
    const rect = randomRect(random(entries), { x: 3, y: 5, w: 11, h: 4 }, entries);
    model.apply({ ...empty, rects: [rect] });
    let wrong = 0;
    const stride = Math.ceil((11 * bpp) / 8);
    for (let y = 0; y < 4; y += 1)
      for (let x = 0; x < 11; x += 1) {
        const bit = x * bpp;
        const index = ((rect.data[y * stride + (bit >> 3)] ?? 0) >> (8 - bpp - (bit & 7))) & ((1 << bpp) - 1);
        const expected = [...rect.palette.subarray(3 * index, 3 * index + 3), 255];
        if (pixel(model, 3 + x, 5 + y).join() !== expected.join()) wrong += 1;
      }
    t.equal(wrong, 0, `${entries} colours at ${bpp} bpp`);
    t.same(pixel(model, 2, 5), [0, 0, 0, 0], "nothing left of the rect");
    t.same(pixel(model, 14, 5), [0, 0, 0, 0], "nothing right of the rect");
  }
  const model = new ScreenCanvasModel();
  model.apply({ ...empty, reset: true, show: ALL });
  const bits = {
    x: 0,
    y: 0,
    w: 10,
    h: 1,
    palette: Uint8Array.of(1, 2, 3, 4, 5, 6),
    data: Uint8Array.of(0b10000001, 0b01000000),
  };
  model.apply({ ...empty, rects: [bits] });
  t.same(
    Array.from({ length: 10 }, (_, x) => pixel(model, x, 0)[0]),
    [4, 1, 1, 1, 1, 1, 1, 4, 1, 4],
    "1 bpp, most significant bit first",
  );
});

t.test("large rects (expanded a byte at a time) equal the plain reference at every bpp", async (t) => {
  for (const entries of [2, 3, 4, 5, 16, 17]) {
    for (const w of [129, 130, 123]) {
      const record = {
        ...empty,
        reset: true,
        show: ALL,
        rects: [randomRect(random(w + entries), { x: W - w, y: 0, w, h: H }, entries)],
      };
      const model = new ScreenCanvasModel();
      const reference = new ReferenceCanvas();
      model.apply(record);
      reference.apply(record);
      t.ok(
        Buffer.from(model.rgba.buffer).equals(Buffer.from(reference.rgba.buffer)),
        `${entries} colours, ${w} wide`,
      );
    }
  }
});

t.test("alpha is 255 in lossless tiles, 0 elsewhere; hidden tiles stay drawn until hideTiles", async (t) => {
  const model = new ScreenCanvasModel();
  model.apply({ ...empty, reset: true, show: [0], rects: [rows(0, 0, 64, 64)] });
  // A rect over tiles 0 and 1: only tile 0 is lossless (the agent broke its promise; the canvas stays right).
  const { dirty } = model.apply({ ...empty, rects: [rows(60, 0, 10, 10)] });
  t.same(dirty, [{ x: 60, y: 0, w: 10, h: 10 }]);
  t.same([pixel(model, 63, 0)[3], pixel(model, 64, 0)], [255, [0, 0, 0, 0]]);
  const shown = model.apply({ ...empty, show: [1], rects: [rows(64, 0, 64, 64)] });
  t.same(shown.dirty, [{ x: 64, y: 0, w: 64, h: 64 }]);
  t.equal(pixel(model, 64, 0)[3], 255);
  const hidden = model.apply({ ...empty, hide: [1, 4] });
  t.same(hidden, { dirty: [], hide: [1, 4] }, "hide is handed to the caller");
  t.ok(model.isLossless(1), "still drawn");
  t.equal(model.tileState(1), "hiding");
  t.equal(pixel(model, 64, 0)[3], 255);
  t.same(
    model.hideTiles([1, 4]),
    [{ x: 64, y: 0, w: 64, h: 64 }],
    "tile 1 cleared; tile 4 was video already",
  );
  t.notOk(model.isLossless(1));
  t.same(pixel(model, 64, 0), [0, 0, 0, 0]);
  // A tile hidden and shown again before the video caught up is not cleared by the late hideTiles.
  model.apply({ ...empty, show: [2], rects: [rows(128, 0, 2, 64)] });
  model.apply({ ...empty, hide: [2] });
  model.apply({ ...empty, show: [2], rects: [rows(128, 0, 2, 64)] });
  t.same(model.hideTiles([2]), []);
  t.equal(pixel(model, 129, 0)[3], 255);
  for (let y = 0; y < H; y += 1)
    for (let x = 0; x < W; x += 1) {
      const tile = Math.floor(y / 64) * 3 + Math.floor(x / 64);
      if ((pixel(model, x, y)[3] === 255) !== model.isLossless(tile)) t.fail(`alpha at ${x},${y}`);
    }
});

/** Fails for a pixel that changed outside the returned rectangles. */
function notDirty(
  t: Test,
  before: Uint8ClampedArray,
  after: ReferenceCanvas,
  dirty: readonly Rect[],
  why: string,
) {
  for (let i = 0; i < before.length; i += 4) {
    if ([0, 1, 2, 3].every((c) => before[i + c] === after.rgba[i + c])) continue;
    const x = (i / 4) % after.width;
    const y = Math.floor(i / 4 / after.width);
    if (!covered(dirty, x, y)) return t.fail(`${why}: ${x},${y} changed outside the dirty rectangles`);
  }
}

t.test("the model equals the plain reference, and decode(encode(r)) applies as r", async (t) => {
  const next = random(99);
  let records = 0;
  for (let run = 0; run < 60; run += 1) {
    const width = 1 + integer(next, 200);
    const height = 1 + integer(next, 200);
    const model = new ScreenCanvasModel();
    const decoded = new ScreenCanvasModel();
    const reference = new ReferenceCanvas();
    for (let step = 0; step < 12; step += 1) {
      const record = randomRecord(next, width, height, step === 0 || next() < 0.05);
      const result = decodeScreenRecord(encodeScreenRecord(record).subarray(4));
      if (!result.ok) throw new Error(result.message);
      const before = reference.rgba.slice();
      const { dirty } = model.apply(record);
      decoded.apply(result.record);
      reference.apply(record);
      records += 1;
      const bytes = (rgba: Uint8ClampedArray) => Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength);
      const same = (what: string) => {
        if (Buffer.compare(bytes(model.rgba), bytes(reference.rgba)) !== 0)
          t.fail(`run ${run} step ${step} ${what}: pixels differ`);
        if (Buffer.compare(bytes(model.rgba), bytes(decoded.rgba)) !== 0)
          t.fail(`run ${run} step ${step} ${what}: decoded differs`);
      };
      same("apply");
      if (step > 0) notDirty(t, before, reference, dirty, `run ${run} step ${step} apply`);
      if (next() < 0.3) {
        const tiles = Array.from({ length: 3 }, () => integer(next, tileGrid(width, height).count));
        const hidden = reference.rgba.slice();
        const cleared = model.hideTiles(tiles);
        decoded.hideTiles(tiles);
        reference.hideTiles(tiles);
        same("hideTiles");
        notDirty(t, hidden, reference, cleared, `run ${run} step ${step} hideTiles`);
      }
    }
  }
  t.pass(`${records} records`);
});
