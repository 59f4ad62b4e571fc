import t, { type Test } from "tap";
import { changedRows } from "../../agent/media/i420.ts";
import { HASH_STRIDE, hashWords, type Pixels, pixelsOf, RowHashes } from "../../agent/media/row-hashes.ts";
import { type ScrollResult, ScrollSearch } from "../../agent/media/scroll-search.ts";
import { random } from "../helpers/screen-records.ts";
import { BG, CELL_W, document, GLYPHS, LINE_H } from "./screen-frames.ts";

const WIDTH = 1280;
const HEIGHT = 416;
const FG = 0x00000000;

type Terminal = { x: number; y: number; columns: number; rows: number };

/** Draws `lines` from `top` into the terminal's area of `words` (the rest of the area blank). */
function drawTerminal(words: Uint32Array, term: Terminal, lines: readonly number[][], top: number): void {
  for (let row = 0; row < term.rows; row += 1) {
    const line = lines[top + row] ?? [];
    for (let column = 0; column < term.columns; column += 1) {
      const glyph = line[column] === undefined ? undefined : GLYPHS[line[column] ?? 0];
      for (let gy = 0; gy < LINE_H; gy += 1)
        for (let gx = 0; gx < CELL_W; gx += 1) {
          const on = glyph !== undefined && glyph[gy * CELL_W + gx] === 1;
          words[(term.y + row * LINE_H + gy) * WIDTH + term.x + column * CELL_W + gx] = on ? FG : BG;
        }
    }
  }
}

function blank(): Buffer {
  const data = Buffer.alloc(WIDTH * HEIGHT * 4);
  new Uint32Array(data.buffer, data.byteOffset, WIDTH * HEIGHT).fill(BG);
  return data;
}

function frame(data: Buffer): Pixels {
  return pixelsOf({ width: WIDTH, height: HEIGHT, data });
}

const FULL: Terminal = { x: 0, y: 0, columns: Math.floor(WIDTH / CELL_W), rows: Math.floor(HEIGHT / LINE_H) };

function terminalFrame(term: Terminal, lines: readonly number[][], top: number, base = blank()): Pixels {
  const data = Buffer.from(base);
  const pixels = frame(data);
  drawTerminal(pixels.words, term, lines, top);
  return pixels;
}

/** The search between two frames, with the changed rows as the agent finds them. */
function search(previous: Pixels, next: Pixels): ScrollResult {
  const searcher = new ScrollSearch(previous);
  return searcher.search(previous, next, changedRows(previous.data, next.data, WIDTH, HEIGHT));
}

/** The previous frame with the copies applied (each reading the previous frame as it was), then the new rows. */
function rebuild(previous: Pixels, next: Pixels, result: ScrollResult): Buffer {
  const out = Buffer.from(previous.data);
  const stride = WIDTH * 4;
  for (const copy of result.copies)
    for (let y = copy.y; y < copy.y + copy.h; y += 1)
      previous.data.copy(
        out,
        y * stride + copy.x * 4,
        (y + copy.dy) * stride + copy.x * 4,
        (y + copy.dy) * stride + (copy.x + copy.w) * 4,
      );
  for (const rect of result.fresh)
    for (let y = rect.y; y < rect.y + rect.h; y += 1)
      next.data.copy(
        out,
        y * stride + rect.x * 4,
        y * stride + rect.x * 4,
        y * stride + (rect.x + rect.w) * 4,
      );
  return out;
}

function assertExact(t: Test, previous: Pixels, next: Pixels, result: ScrollResult): void {
  t.ok(
    rebuild(previous, next, result).equals(next.data),
    "copies then new rows give the next frame byte for byte",
  );
}

t.test("row hashes follow only the changed rows and keep the frame before", async (t) => {
  const lines = document(80, FULL.columns, 1);
  const a = terminalFrame(FULL, lines, 0);
  const b = terminalFrame(FULL, lines, 3);
  const hashes = new RowHashes(a);
  hashes.update(b, changedRows(a.data, b.data, WIDTH, HEIGHT));
  const whole = (p: Pixels) =>
    Uint32Array.from({ length: HEIGHT }, (_, y) =>
      hashWords(p.words, y * WIDTH, (y + 1) * WIDTH, HASH_STRIDE),
    );
  t.same([...hashes.current], [...whole(b)]);
  t.same([...hashes.previous], [...whole(a)]);
  hashes.update(b, []);
  t.same([...hashes.previous], [...whole(b)], "an update without changes brings the frame before level");
});

t.test("a full-width terminal scrolled up by 1 to 5 lines is one copy plus the new lines", async (t) => {
  const lines = document(80, FULL.columns, 2);
  for (let n = 1; n <= 5; n += 1) {
    const previous = terminalFrame(FULL, lines, 10);
    const next = terminalFrame(FULL, lines, 10 + n);
    const result = search(previous, next);
    assertExact(t, previous, next, result);
    t.equal(result.copies.length, 1, `${n} lines: one copy`);
    t.match(
      result.copies[0],
      { x: 0, w: WIDTH, dy: n * LINE_H },
      `${n} lines: dy ${n * LINE_H}, whole width`,
    );
    t.ok(result.freshRows <= n * LINE_H, `${n} lines: new rows ${result.freshRows} <= ${n * LINE_H}`);
    t.equal(result.colours, 2, "two colours in the new rows");
  }
});

t.test("a scroll down is a copy with a negative dy", async (t) => {
  const lines = document(80, FULL.columns, 3);
  const previous = terminalFrame(FULL, lines, 20);
  const next = terminalFrame(FULL, lines, 18);
  const result = search(previous, next);
  assertExact(t, previous, next, result);
  t.match(result.copies, [{ x: 0, w: WIDTH, dy: -2 * LINE_H }]);
  t.ok(result.freshRows <= 2 * LINE_H, `new rows ${result.freshRows}`);
});

t.test("a terminal narrower than the screen scrolls while a clock beside it changes", async (t) => {
  const term: Terminal = { x: 100, y: 0, columns: 133, rows: FULL.rows };
  const beside: Terminal = { x: 950, y: 0, columns: 50, rows: FULL.rows };
  const lines = document(80, term.columns, 4);
  const other = document(FULL.rows, beside.columns, 5);
  const base = terminalFrame(beside, other, 0).data;
  const previous = terminalFrame(term, lines, 10, base);
  const next = terminalFrame(term, lines, 13, base);
  // The clock: 26 rows of changing colours beside the terminal.
  const noise = random(6);
  for (let y = 52; y < 78; y += 1)
    for (let x = 1000; x < 1100; x += 1) next.words[y * WIDTH + x] = Math.floor(noise() * 0xffffff);
  const result = search(previous, next);
  assertExact(t, previous, next, result);
  t.equal(result.copies.length, 1, "one copy");
  const copy = result.copies[0];
  t.equal(copy?.dy, 3 * LINE_H);
  t.ok(
    copy !== undefined && copy.x <= 100 && copy.x + copy.w >= 100 + 133 * CELL_W - 1,
    "covers the terminal",
  );
  t.ok(copy !== undefined && copy.x + copy.w <= 950, "not the window beside it");
  t.ok(result.freshRows <= 3 * LINE_H + 26, `new rows ${result.freshRows}: the new lines and the clock`);
  t.equal(result.colours, "more", "the clock's colours");
});

t.test("content replaced without a scroll makes no copy that is not exact", async (t) => {
  const previous = terminalFrame(FULL, document(40, FULL.columns, 8), 0);
  const next = terminalFrame(FULL, document(40, FULL.columns, 9), 0);
  const result = search(previous, next);
  assertExact(t, previous, next, result);
  t.equal(result.copies.length, 0);
});

t.test("a blank screen that gains a line copies nothing wrong", async (t) => {
  const previous = frame(blank());
  const next = terminalFrame({ ...FULL, y: 200, rows: 1 }, document(1, FULL.columns, 10), 0);
  const result = search(previous, next);
  assertExact(t, previous, next, result);
  t.equal(result.copies.length, 0, "blank rows are alike everywhere: no copy");
  t.ok(result.freshRows <= LINE_H);
});

t.test("repeated identical lines (any shift fits) give only exact copies", async (t) => {
  const line = document(1, FULL.columns, 11)[0] ?? [];
  const same = Array.from({ length: 80 }, () => line);
  const alternating = document(2, FULL.columns, 12);
  const twoLines = Array.from({ length: 80 }, (_, i) => alternating[i % 2] ?? []);
  for (const [name, lines] of [
    ["one line repeated", same],
    ["two lines alternating", twoLines],
  ] as const) {
    const previous = terminalFrame({ ...FULL, rows: 20 }, lines, 0);
    const next = terminalFrame({ ...FULL, rows: 21 }, lines, 1);
    assertExact(t, previous, next, search(previous, next));
    t.pass(name);
  }
});

t.test("rows that merely hash alike make no copy", async (t) => {
  // Two rows whose row hashes collide: lane 1 of hashWords sees words 0 and 4 * HASH_STRIDE; the
  // second row's word 4 * HASH_STRIDE is chosen so that lane's state after it is the first row's.
  const far = 4 * HASH_STRIDE;
  const next = random(13);
  const previous = frame(blank());
  const moved = frame(blank());
  const PRIME = 0x01000193;
  for (let y = 100; y < 140; y += 1) {
    const row = y * WIDTH;
    for (let x = 0; x < WIDTH; x += 1) previous.words[row + x] = Math.floor(next() * 0xffffff);
    const target = (y - LINE_H) * WIDTH;
    moved.words.set(previous.words.subarray(row, row + WIDTH), target);
    const a0 = previous.words[row] ?? 0;
    const a4 = previous.words[row + far] ?? 0;
    const b0 = a0 ^ 1;
    const state = (word: number) => Math.imul((0x811c9dc5 | 0) ^ word, PRIME);
    moved.words[target] = b0;
    moved.words[target + far] = state(a0) ^ a4 ^ state(b0);
    t.equal(
      hashWords(moved.words, target, target + WIDTH, HASH_STRIDE),
      hashWords(previous.words, row, row + WIDTH, HASH_STRIDE),
      "the rows collide (if not, hashWords changed: rebuild the collision)",
    );
  }
  const result = search(previous, moved);
  assertExact(t, previous, moved, result);
  t.ok(
    result.copies.every((copy) => copy.x > far || copy.y >= 127 || copy.y + copy.h <= 87),
    `the bytes refuse every candidate over the colliding rows (${JSON.stringify(result.copies)})`,
  );
});

t.test("a scroll whose changed rows are split by rows that stayed equal is still one copy", async (t) => {
  // Eleven identical lines in the middle: scrolled by five lines, part of them stays equal, so the
  // changed rows come in two ranges, and the rows above the equal ones are copied from inside them.
  const lines = document(80, FULL.columns, 14);
  const repeated = lines[30] ?? [];
  for (let i = 31; i <= 40; i += 1) lines[i] = repeated;
  const previous = terminalFrame(FULL, lines, 10);
  const next = terminalFrame(FULL, lines, 15);
  const changed = changedRows(previous.data, next.data, WIDTH, HEIGHT);
  t.ok(changed.length >= 2, `changed rows in ${changed.length} ranges`);
  const result = search(previous, next);
  assertExact(t, previous, next, result);
  t.equal(result.copies.length, 1, "one copy across both ranges");
  t.match(result.copies[0], { x: 0, w: WIDTH, dy: 5 * LINE_H });
  t.ok(result.freshRows <= 5 * LINE_H, `new rows ${result.freshRows} <= ${5 * LINE_H}`);
});

t.test("a terminal beside a video that changes every row is found through a column hint", async (t) => {
  const term: Terminal = { x: 0, y: 0, columns: 106, rows: FULL.rows };
  const lines = document(80, term.columns, 15);
  const previous = terminalFrame(term, lines, 10);
  const next = terminalFrame(term, lines, 12);
  const noise = random(16);
  for (const frame of [previous, next])
    for (let y = 0; y < HEIGHT; y += 1)
      for (let x = 704; x < WIDTH; x += 1) frame.words[y * WIDTH + x] = Math.floor(noise() * 0xffffff);
  const changed = changedRows(previous.data, next.data, WIDTH, HEIGHT);
  const blind = new ScrollSearch(previous).search(previous, next, changed);
  assertExact(t, previous, next, blind);
  t.equal(blind.copies.length, 0, "without a hint: every row differs across the width, no copy");
  const hinted = new ScrollSearch(previous).search(previous, next, changed, [{ x0: 0, x1: 704 }]);
  assertExact(t, previous, next, hinted);
  t.match(hinted.copies, [{ x: 0, w: 704, dy: 2 * LINE_H }], "with the terminal's columns: one copy");
  const terminalRows = hinted.fresh.filter((rect) => rect.x < 704);
  t.ok(
    terminalRows.every((rect) => rect.h <= 2 * LINE_H),
    `the terminal's new rows are only its new lines, not merged with the video's rows: ${JSON.stringify(terminalRows)}`,
  );
});
