import t from "tap";
import { changedRows } from "../../agent/media/i420.ts";
import { rectBytes } from "../../agent/media/screen-ops.ts";
import { REENTER_AFTER_MS } from "../../agent/media/screen-tiles.ts";
import { tileGrid } from "../../shared/screen.ts";
import { ScreenCanvasModel } from "../../shared/screen-model.ts";
import { random } from "../helpers/screen-records.ts";
import {
  type Box,
  blankFrame,
  copyFrame,
  document,
  drawColours,
  drawGradient,
  drawPhoto,
  drawTerminal,
  LINE_H,
} from "./screen-frames.ts";
import { Harness, tileClear, tileEquals, tilesInside } from "./screen-harness.ts";

// Not multiples of 64: the last tile column is 40 wide, the last tile row 36 high.
const WIDTH = 1000;
const HEIGHT = 420;
const SCREEN: Box = { x: 0, y: 0, w: WIDTH, h: HEIGHT };
const TILES = tileGrid(WIDTH, HEIGHT).count;
/** The whole screen at 1 bit per pixel: what a record would cost without copies. */
const SCREEN_BITS_BYTES = Math.ceil(WIDTH / 8) * HEIGHT;

function terminal(box: Box, lines: readonly number[][], top: number, base = blankFrame(WIDTH, HEIGHT)) {
  const frame = copyFrame(base);
  drawTerminal(frame, box, lines, top);
  return frame;
}

t.test(
  "a full-screen terminal scrolling by 13-pixel lines: exact, lossless, copies and new rows only",
  async (t) => {
    const lines = document(2000, 166, 1);
    const run = new Harness(t, terminal(SCREEN, lines, 0));
    const next = random(2);
    let top = 2;
    const first = run.step(terminal(SCREEN, lines, top));
    t.equal(first.record?.reset, true, "the first record starts the canvas over");
    t.equal(first.record?.show.length, TILES, "every tile changed and has two colours: all shown");
    t.equal(run.lossless().length, TILES);
    for (let frame = 0; frame < 200; frame += 1) {
      const n = 1 + Math.floor(next() * 5);
      top += n;
      const step = run.step(terminal(SCREEN, lines, top));
      const record = step.record;
      if (record === undefined) {
        t.fail("a scrolled frame sends a record");
        continue;
      }
      t.equal(record.reset, false);
      t.same([record.show, record.hide], [[], []], "no tile flips");
      t.same(
        record.copies.map((copy) => [copy.x, copy.w, copy.dy]),
        [[0, WIDTH, n * LINE_H]],
        `${n} lines: one full-width copy`,
      );
      // Columns on byte boundaries: the same text at the same place gives the same bytes (deflate).
      if (record.rects.some((rect) => rect.x % 8 !== 0)) t.fail("a rect starts between bytes");
      const bytes = rectBytes(record.rects);
      t.ok(
        bytes <= (n * LINE_H + 2) * Math.ceil(WIDTH / 8) + 16 * record.rects.length,
        `${n} lines: ${bytes} bytes of new rows at 1 bit per pixel (the screen: ${SCREEN_BITS_BYTES})`,
      );
    }
    t.equal(
      run.lossless().length,
      TILES,
      "10 s of scrolling text: every tile stays lossless (within budget)",
    );
    t.equal(run.flips.length, TILES, "each tile flipped once (in)");
    t.equal(run.screenOnly, 201, "no frame of the scroll needs the video: the records carry it all");
  },
);

t.test("a scroll down is a copy with a negative dy", async (t) => {
  const lines = document(400, 166, 3);
  const run = new Harness(t, terminal(SCREEN, lines, 100));
  run.step(terminal(SCREEN, lines, 101));
  for (const n of [1, 3, 2]) {
    const before = run.records.length;
    const top = 101 - n;
    const step = run.step(terminal(SCREEN, lines, top));
    run.step(terminal(SCREEN, lines, top + n)); // and back up
    t.same(
      step.record?.copies.map((copy) => copy.dy),
      [-n * LINE_H],
      `down ${n} lines: one copy, dy ${-n * LINE_H}`,
    );
    t.equal(run.records.length, before + 2);
  }
});

t.test(
  "a terminal beside a photo that changes: the photo stays video, the terminal lossless and copied",
  async (t) => {
    const term: Box = { x: 0, y: 0, w: 576, h: HEIGHT };
    const photo: Box = { x: 640, y: 0, w: 360, h: HEIGHT };
    const lines = document(2000, 96, 4);
    const withPhoto = (top: number, seed: number) => {
      const frame = terminal(term, lines, top);
      drawPhoto(frame, photo, seed);
      return frame;
    };
    const run = new Harness(t, withPhoto(0, 1));
    const photoTiles = tilesInside(WIDTH, HEIGHT, photo);
    const termTiles = tilesInside(WIDTH, HEIGHT, term);
    let copied = 0;
    let top = 0;
    for (let frame = 0; frame < 60; frame += 1) {
      top += 1 + (frame % 3);
      // The photo changes every other frame (a video at half the rate).
      const step = run.step(withPhoto(top, 1 + Math.floor(frame / 2)));
      const photoChanged = frame >= 2 && frame % 2 === 0;
      if (frame > 0 && step.video !== photoChanged)
        t.fail(
          `frame ${frame}: the video ${step.video ? "takes" : "skips"} it, the photo ${photoChanged ? "changed" : "did not"}`,
        );
      if (frame === 0) continue;
      if (photoTiles.some((tile) => step.frozen[tile] === 1))
        t.fail(`frame ${frame}: a photo tile is lossless`);
      if (termTiles.some((tile) => step.frozen[tile] === 0))
        t.fail(`frame ${frame}: a terminal tile is video`);
      const copies = step.record?.copies ?? [];
      if (copies.some((copy) => copy.x + copy.w > 640)) t.fail("a copy reaches into the photo's tiles");
      if (copies.length > 0) copied += 1;
      const bytes = rectBytes(step.record?.rects ?? []);
      if (copies.length > 0 && bytes > 6 * LINE_H * Math.ceil(640 / 8) + 200)
        t.fail(`frame ${frame}: ${bytes} bytes of rects beside a copy`);
    }
    t.ok(
      copied >= 55,
      `the terminal's scroll went as copies in ${copied} of 59 frames, whether the photo changed or not`,
    );
  },
);

t.test("a window replaced: text windows stay lossless, a photo window goes back to video", async (t) => {
  const lines = document(2000, 166, 5);
  const dialog: Box = { x: 192, y: 128, w: 320, h: 192 };
  const dialogLines = document(20, 50, 6);
  let top = 0;
  const frameWith = (window: "none" | "text" | "photo", seed = 1) => {
    const frame = terminal(SCREEN, lines, top);
    if (window === "text") drawTerminal(frame, dialog, dialogLines, seed);
    if (window === "photo") drawPhoto(frame, dialog, seed);
    return frame;
  };
  const run = new Harness(t, frameWith("none"));
  top += 1;
  run.step(frameWith("none"));
  const inside = tilesInside(WIDTH, HEIGHT, dialog);
  run.step(frameWith("text"));
  t.ok(
    inside.every((tile) => run.frozen[tile] === 1),
    "a text window: its tiles stay lossless",
  );
  const photo = run.step(frameWith("photo"));
  t.ok(
    inside.every((tile) => photo.record?.hide.includes(tile)),
    "a photo window: its tiles are hidden",
  );
  t.ok(
    inside.every((tile) => photo.frozen[tile] === 0),
    "... and go back to the video (unfrozen from this frame on)",
  );
  const left = run.at;
  // The text window comes back at once and changes every frame: its tiles wait for REENTER_AFTER_MS.
  for (let k = 0; run.at - left < REENTER_AFTER_MS + 200; k += 1) run.step(frameWith("text", 2 + (k % 5)));
  t.ok(
    inside.every((tile) => run.frozen[tile] === 1),
    "a text window again: lossless after the wait",
  );
  const back = run.flips.filter(
    (flip) => inside.includes(flip.tile) && flip.to === "lossless" && flip.at > left,
  );
  t.ok(
    back.every((flip) => flip.at - left >= REENTER_AFTER_MS),
    "not before REENTER_AFTER_MS",
  );
});

t.test("a copy never reads or writes a tile the canvas does not show: those rows go as pixels", async (t) => {
  const lines = document(400, 166, 13);
  const run = new Harness(t, terminal(SCREEN, lines, 0));
  run.step(terminal(SCREEN, lines, 1));
  // Tile 16 (column 0, second row) gets a photo: back to video, cooling for a second.
  const photo = terminal(SCREEN, lines, 1);
  drawPhoto(photo, { x: 0, y: 64, w: 64, h: 64 }, 1);
  t.same(run.step(photo).record?.hide, [16]);
  // Text again there (tile 16 stays video: cooling), then a scroll of two lines: the full-width
  // copy's rows of tile 0 whose source is tile 16 (and tile 16 itself) cannot be copies.
  run.step(terminal(SCREEN, lines, 1));
  const step = run.step(terminal(SCREEN, lines, 3));
  t.equal(step.frozen[16], 0, "tile 16 is still video (cooling)");
  const copies = step.record?.copies ?? [];
  t.ok(copies.length > 0, "the rest scrolled by copies");
  const touches = (x: number, y: number, w: number, h: number) =>
    x < 64 && x + w > 0 && y < 128 && y + h > 64;
  t.ok(
    copies.every((c) => !touches(c.x, c.y, c.w, c.h) && !touches(c.x, c.y + c.dy, c.w, c.h)),
    `no copy reads or writes tile 16: ${JSON.stringify(copies)}`,
  );
  t.ok(
    step.record?.rects.some((rect) => rect.x === 0 && rect.y === 64 - 26 && rect.h === 26),
    `tile 0 rows from tile 16 sent as pixels: ${JSON.stringify(step.record?.rects.map((r) => [r.x, r.y, r.w, r.h]))}`,
  );
});

t.test("a gradient drawn over the terminal sends those tiles to video", async (t) => {
  const lines = document(400, 166, 7);
  const run = new Harness(t, terminal(SCREEN, lines, 0));
  run.step(terminal(SCREEN, lines, 1));
  const box: Box = { x: 300, y: 100, w: 400, h: 200 };
  const next = terminal(SCREEN, lines, 2);
  drawGradient(next, box);
  const step = run.step(next);
  const inside = tilesInside(WIDTH, HEIGHT, box);
  t.ok(inside.length >= 8);
  t.ok(
    inside.every((tile) => step.frozen[tile] === 0),
    "the gradient's tiles (up to 4096 colours each) are video",
  );
  t.ok(step.record !== undefined && step.record.copies.length > 0, "the rest still scrolled by copies");
});

t.test(
  "a palette animation redrawn every frame costs more than the budget and leaves within a second",
  async (t) => {
    const box: Box = { x: 128, y: 128, w: 192, h: 128 };
    const base = blankFrame(WIDTH, HEIGHT);
    const run = new Harness(t, base);
    const inside = tilesInside(WIDTH, HEIGHT, box);
    const start = run.at;
    let entered = false;
    for (let k = 0; run.at - start < 1500; k += 1) {
      const frame = copyFrame(base);
      drawColours(frame, box, 200, k + 1);
      run.step(frame, 33);
      if (inside.every((tile) => run.frozen[tile] === 1)) entered = true;
    }
    t.ok(entered, "200 colours fit a palette: the tiles went lossless first");
    t.ok(
      inside.every((tile) => run.frozen[tile] === 0),
      "then back to video: 6 KiB a tile 30 times a second",
    );
  },
);

t.test("tiles that keep switching between a photo and text flip at most once a second", async (t) => {
  const lines = document(100, 166, 8);
  const box: Box = { x: 64, y: 64, w: 256, h: 192 };
  const run = new Harness(t, terminal(SCREEN, lines, 0));
  for (let k = 0; k < 100; k += 1) {
    const frame = terminal(SCREEN, lines, k % 2);
    if (k % 3 === 0) drawPhoto(frame, box, k);
    run.step(frame, 50);
  }
  const inside = tilesInside(WIDTH, HEIGHT, box);
  for (const tile of inside) {
    const flips = run.flips.filter((flip) => flip.tile === tile);
    t.ok(flips.length <= 6, `tile ${tile}: ${flips.length} flips in 5 s`);
  }
});

t.test("snapshot() rebuilds the lossless tiles alone on a fresh canvas", async (t) => {
  const term: Box = { x: 0, y: 0, w: 576, h: HEIGHT };
  const lines = document(400, 96, 9);
  const frameAt = (top: number) => {
    const frame = terminal(term, lines, top);
    drawPhoto(frame, { x: 640, y: 0, w: 360, h: HEIGHT }, top);
    return frame;
  };
  const run = new Harness(t, frameAt(0));
  for (let top = 1; top < 6; top += 1) run.step(frameAt(top));
  const record = run.ops.snapshot(run.previous, { rtpTimestamp: 1, capturedAt: run.at });
  t.equal(record.reset, true);
  t.same(record.copies, []);
  t.same(record.show, run.lossless(), "shows exactly the lossless tiles");
  const fresh = new ScreenCanvasModel();
  fresh.apply(record);
  run.check(run.previous, run.frozen, fresh);
  for (let tile = 0; tile < TILES; tile += 1)
    if (run.frozen[tile] === 0 && !tileClear(fresh, tile)) t.fail(`video tile ${tile} is not transparent`);
  t.ok(run.lossless().every((tile) => tileEquals(fresh, run.previous, tile)));
  // The stream goes on from the snapshot.
  run.model = fresh;
  run.step(frameAt(6));
});

t.test("reset() hands every tile back; the next record starts the canvas over", async (t) => {
  const lines = document(400, 166, 10);
  const run = new Harness(t, terminal(SCREEN, lines, 0));
  run.step(terminal(SCREEN, lines, 1));
  const unfrozen = run.ops.reset();
  t.equal(unfrozen.length, TILES, "every lossless tile to unfreeze");
  t.same(run.ops.reset(), [], "twice: nothing more");
  run.model = new ScreenCanvasModel();
  run.frozen = new Uint8Array(TILES);
  const step = run.step(terminal(SCREEN, lines, 2));
  t.equal(step.record?.reset, true, "a RESET record");
});

t.test("a frame with nothing new for the canvas gives no record", async (t) => {
  const lines = document(400, 166, 11);
  const first = terminal(SCREEN, lines, 0);
  const run = new Harness(t, first);
  run.step(terminal(SCREEN, lines, 1));
  const same = terminal(SCREEN, lines, 1);
  const step = run.step(same);
  t.equal(step.record, undefined, "no change");
  t.equal(run.lossless().length, TILES);
  // A photo tile changing alone: video, nothing to send.
  const photo = copyFrame(same);
  drawPhoto(photo, { x: 0, y: 0, w: 64, h: 64 }, 1);
  run.step(photo);
  const photo2 = copyFrame(same);
  drawPhoto(photo2, { x: 0, y: 0, w: 64, h: 64 }, 2);
  t.equal(run.step(photo2).record, undefined, "a video tile changed: nothing for the canvas");
});

t.test("a new screen size takes a new ScreenOps, whose first record is a RESET of that size", async (t) => {
  const lines = document(400, 166, 12);
  const run = new Harness(t, terminal(SCREEN, lines, 0));
  run.step(terminal(SCREEN, lines, 1));
  const small = blankFrame(700, 300);
  drawTerminal(small, { x: 0, y: 0, w: 700, h: 300 }, lines, 2);
  t.throws(
    () =>
      run.ops.next(run.previous, small, changedRows(small.data, small.data, 700, 300), {
        rtpTimestamp: 0,
        capturedAt: 0,
      }),
    RangeError,
  );
  const resized = new Harness(t, small);
  resized.model = run.model;
  const next = blankFrame(700, 300);
  drawTerminal(next, { x: 0, y: 0, w: 700, h: 300 }, lines, 3);
  const step = resized.step(next);
  t.match(step.record, { reset: true, width: 700, height: 300 });
  t.equal(resized.model.width, 700, "the canvas took the new size");
});
