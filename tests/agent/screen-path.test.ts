/**
 * The capture worker's screen path (media/screen-path.ts) with the real ScreenOps and ScreenWriter,
 * on synthetic frames of a scrolling terminal held in ONE buffer updated in place (as the MIT-SHM
 * capture does): off it does nothing; on it starts a stream (START, RESET), its records read the
 * console's way make the canvas equal the frame in every lossless tile, the tiles it freezes are
 * exactly the canvas's lossless ones; a restart starts a new stream; off hands every tile back to
 * the video with a last record that hides them. Each record carries the RTP time of its frame.
 */
import t from "tap";
import type { ScreenFrame } from "../../agent/media/capture.ts";
import { changedRows } from "../../agent/media/i420.ts";
import { rtpTimestamp } from "../../agent/media/rtp-clock.ts";
import { ScreenPath } from "../../agent/media/screen-path.ts";
import type { ScreenMessages } from "../../agent/media/worker-protocol.ts";
import { tileGrid, tileRect } from "../../shared/screen.ts";
import { ScreenReceiver } from "../helpers/screen-receiver.ts";
import { blankFrame, copyFrame, document, drawTerminal, LINE_H } from "./screen-frames.ts";

const WIDTH = 640;
const HEIGHT = 384;
const BOX = { x: 0, y: 0, w: 640, h: 13 * 28 };

/** A path whose messages go to a receiver read the console's way. */
function pathAndReceiver() {
  const receiver = new ScreenReceiver(undefined, { ready: true });
  const sent: ScreenMessages[] = [];
  const failures: unknown[] = [];
  const path = new ScreenPath({
    send: (messages) => {
      sent.push(messages);
      for (const message of messages.messages) receiver.receive(Buffer.from(message));
    },
    failed: (error) => failures.push(error),
  });
  return { path, receiver, sent, failures };
}

/** The terminal: one frame buffer redrawn in place, scrolled `top` lines down the document. */
function terminal() {
  const lines = document(400, 100, 3);
  const live = blankFrame(WIDTH, HEIGHT);
  let before = copyFrame(live);
  let top = 0;
  let at = 1_000;
  const frame: ScreenFrame = { width: WIDTH, height: HEIGHT, data: live.data, order: "bgra" };
  return {
    frame,
    /** Scrolls `n` lines; the rows that changed since the last call, and the capture time. */
    scroll(n: number) {
      top += n;
      drawTerminal(live, BOX, lines, top);
      const rows = changedRows(before.data, live.data, WIDTH, HEIGHT);
      before = copyFrame(live);
      at += 50;
      return { rows, at };
    },
  };
}

/** Tiles whose canvas pixels differ from the frame's (BGRX), among the lossless ones. */
function differing(receiver: ScreenReceiver, frame: ScreenFrame): { lossless: number[]; differ: number[] } {
  const { model } = receiver;
  const lossless: number[] = [];
  const differ: number[] = [];
  for (let tile = 0; tile < tileGrid(WIDTH, HEIGHT).count; tile += 1) {
    if (model.tileState(tile) !== "lossless") continue;
    lossless.push(tile);
    const { x, y, w, h } = tileRect(tile, WIDTH, HEIGHT);
    let same = true;
    for (let row = y; row < y + h && same; row += 1)
      for (let col = x; col < x + w && same; col += 1) {
        const i = (row * WIDTH + col) * 4;
        same =
          model.rgba[i] === frame.data[i + 2] &&
          model.rgba[i + 1] === frame.data[i + 1] &&
          model.rgba[i + 2] === frame.data[i];
      }
    if (!same) differ.push(tile);
  }
  return { lossless, differ };
}

t.test("off, the path does nothing: no records, nothing frozen", async (t) => {
  const { path, sent } = pathAndReceiver();
  const term = terminal();
  for (let i = 0; i < 5; i += 1) {
    const { rows, at } = term.scroll(2);
    t.equal(path.frame(term.frame, rows, at), undefined, `frame ${i}: nothing frozen`);
  }
  await path.settled();
  t.equal(sent.length, 0, "nothing sent");
  t.equal(path.due, false);
});

t.test(
  "on: a stream of records that keeps the canvas equal to the frame in every lossless tile",
  async (t) => {
    const { path, receiver, sent, failures } = pathAndReceiver();
    const term = terminal();
    path.on = true;
    t.equal(path.due, true, "turning on asks for a frame (the new stream's first record)");
    const first = term.scroll(0);
    const freeze = path.frame(term.frame, [{ start: 0, end: HEIGHT }], first.at);
    await path.settled();
    await receiver.settled();
    t.equal(sent[0]?.start, true, "the first message starts the stream");
    t.equal(receiver.records[0]?.reset, true, "with a RESET record");
    t.equal(
      receiver.records[0]?.rtpTimestamp,
      rtpTimestamp(Math.round(first.at * 1000)),
      "at the frame's RTP time",
    );
    t.ok(
      freeze?.frozen.every((tile) => tile === 0),
      "nothing frozen yet",
    );

    let copies = 0;
    let everFrozen = 0;
    for (let i = 0; i < 40; i += 1) {
      const { rows, at } = term.scroll(1 + (i % 3));
      const step = path.frame(term.frame, rows, at);
      await path.settled();
      await receiver.settled();
      const { lossless, differ } = differing(receiver, term.frame);
      if (differ.length > 0) {
        t.fail(`frame ${i}: lossless tiles ${differ.join(" ")} differ from the frame`);
        break;
      }
      const frozen = [...(step?.frozen ?? [])].flatMap((value, tile) => (value === 1 ? [tile] : []));
      t.same(frozen, lossless, `frame ${i}: the video freezes exactly the canvas's lossless tiles`);
      everFrozen = Math.max(everFrozen, frozen.length);
      copies += receiver.records.at(-1)?.copies.length ?? 0;
    }
    t.ok(everFrozen > 10, `tiles went lossless (${everFrozen} at most)`);
    t.ok(copies > 0, `scrolls came as copies (${copies})`);
    t.ok(
      receiver.records.flatMap((record) => record.copies).every((copy) => copy.dy % LINE_H === 0),
      "of whole lines",
    );
    t.same(receiver.errors, [], "every message decoded and applied");
    t.same(failures, []);

    path.restart();
    t.equal(path.due, true, "a restart asks for a frame");
    const again = term.scroll(0);
    path.frame(term.frame, [], again.at);
    await path.settled();
    await receiver.settled();
    t.equal(sent.at(-1)?.start, true, "a restart starts a new stream");
    const reset = receiver.records.at(-1);
    t.equal(reset?.reset, true, "with a RESET record");
    t.ok((reset?.show.length ?? 0) > 10, `of every lossless tile, whole (${reset?.show.length})`);
    t.same(differing(receiver, term.frame).differ, [], "the canvas equals the frame after it");

    const lossless = differing(receiver, term.frame).lossless;
    path.on = false;
    t.equal(path.due, true, "turning off asks for a frame (the tiles go back to the video)");
    const off = term.scroll(0);
    const handed = path.frame(term.frame, [], off.at);
    await path.settled();
    await receiver.settled();
    t.same(
      [...(handed?.unfrozen ?? [])].sort((a, b) => a - b),
      lossless,
      "every lossless tile is handed back",
    );
    t.ok(
      handed?.frozen.every((tile) => tile === 0),
      "nothing stays frozen",
    );
    t.same(receiver.records.at(-1)?.hide, lossless, "and the last record hides them on the canvas");
    t.equal(path.due, false);
    const after = term.scroll(1);
    t.equal(path.frame(term.frame, after.rows, after.at), undefined, "off again: nothing more");
    receiver.close();
  },
);
