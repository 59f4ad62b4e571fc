import t from "tap";
import { type FrameWork, nextLimit, unmeasuredLimit, withCap } from "../../agent/media/frame-rate-limit.ts";
import { MIN_FRAME_RATE } from "../../agent/peer/bitrate.ts";

/**
 * The worker's frame rate follows the slowest stage of its frames (capture, conversion, encoding:
 * they overlap), each smoothed over the last frames, within [MIN_FRAME_RATE, the cap]; a stalled
 * frame counts no more than the floor's interval.
 */

const CAP = 30;
type Stages = Omit<FrameWork, "key">;
const stages = (captureMs: number, convertMs: number, encodeMs: number): Stages => ({
  captureMs,
  convertMs,
  encodeMs,
});
const after = (frames: readonly Stages[], from = unmeasuredLimit(CAP)) =>
  frames.reduce((limit, work) => nextLimit(limit, { ...work, key: false }, CAP), from);
const repeat = (work: Stages, times = 30) => Array<Stages>(times).fill(work);

t.test("frames whose stages each fit in the interval keep the cap, whatever their sum", async (t) => {
  t.equal(unmeasuredLimit(CAP).fps, CAP, "before any frame");
  t.equal(after(repeat(stages(5, 5, 10))).fps, CAP, "20 ms a frame in all fits 30 fps");
  // Measured on a scrolling 1080p terminal: the stages overlap (the next capture starts while this
  // frame is converted and encoded), so the sum of 55 ms does not hold the rate at 18 fps.
  const overlapping = after(repeat(stages(15, 10, 30)));
  t.equal(overlapping.fps, CAP, "15 + 10 + 30 ms: the slowest stage (30 ms) fits 30 fps");
  t.equal(Math.round(overlapping.workMs ?? 0), 30, "workMs is the slowest stage's");
});

t.test("the slowest stage sets the rate, whichever it is", async (t) => {
  t.equal(after(repeat(stages(5, 5, 80))).fps, 12, "encoding 80 ms a frame: 12 fps");
  t.equal(after(repeat(stages(80, 5, 5))).fps, 12, "capture 80 ms: 12 fps");
  t.equal(after(repeat(stages(5, 50, 40))).fps, 20, "conversion 50 ms: 20 fps");
});

t.test("a slower stage lowers the rate until it fits; cheap frames raise it again", async (t) => {
  const slow = after(repeat(stages(5, 5, 80)));
  const one = after([stages(5, 5, 80)], after(repeat(stages(5, 5, 30))));
  t.ok(one.fps < CAP && one.fps > 12, `one slow frame moves it part of the way: ${one.fps}`);
  const recovered = after(repeat(stages(5, 5, 15)), slow);
  t.equal(recovered.fps, CAP, "back at the cap once frames fit again");
});

t.test(
  "a stalled frame (the process stopped for seconds) counts no more than the floor's interval",
  async (t) => {
    const steady = after(repeat(stages(3, 3, 20)));
    const stalled = after([stages(3, 3, 3_000)], steady);
    const atFloor = after([stages(3, 3, 1_000 / MIN_FRAME_RATE)], steady);
    t.same(stalled, atFloor, "3 s in the encoder weighs as 200 ms");
    t.ok(stalled.fps >= 20, `one stall leaves the rate near where it was: ${stalled.fps} fps`);
    t.equal(after(repeat(stages(3, 3, 20), 10), stalled).fps, CAP, "and ten normal frames undo it");
    const captureStall = after([stages(3_500, 3, 20)], steady);
    t.ok(captureStall.fps >= 20, `a stalled capture too: ${captureStall.fps} fps`);
  },
);

t.test("keyframes do not count: the first after an encoder start includes setting it up", async (t) => {
  const steady = after(repeat(stages(5, 5, 20)));
  const key = { ...stages(5, 5, 140), key: true };
  t.same(nextLimit(steady, key, CAP), steady, "a slow keyframe changes nothing");
  t.same(nextLimit(unmeasuredLimit(CAP), key, CAP), unmeasuredLimit(CAP));
});

t.test("never below the floor nor above the cap", async (t) => {
  t.equal(after(repeat(stages(5, 5, 2_000))).fps, MIN_FRAME_RATE);
  t.equal(after(repeat(stages(1, 1, 1))).fps, CAP);
  t.equal(after([stages(0, 0, 0)]).fps, CAP, "a zero measurement is no reason to divide by it");
});

t.test("a new cap keeps what was measured", async (t) => {
  const slow = after(repeat(stages(5, 5, 80)));
  t.equal(withCap(slow, 10).fps, 10, "a lower cap wins");
  t.equal(withCap(slow, 60).fps, 12, "a higher one does not lift the measured limit");
  t.equal(withCap(unmeasuredLimit(CAP), 60).fps, 60);
});
