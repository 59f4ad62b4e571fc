import t from "tap";
import { nextLimit, unmeasuredLimit, withCap } from "../../agent/media/frame-rate-limit.ts";
import { MIN_FRAME_RATE } from "../../agent/peer/bitrate.ts";

/** The worker's frame rate follows the measured capture-to-chunk time per frame, within the cap. */

const CAP = 30;
const after = (samples: readonly number[], from = unmeasuredLimit(CAP)) =>
  samples.reduce((limit, workMs) => nextLimit(limit, { workMs, key: false }, CAP), from);

t.test("frames that fit in the interval keep the cap", async (t) => {
  t.equal(unmeasuredLimit(CAP).fps, CAP, "before any frame");
  t.equal(after(Array(20).fill(20)).fps, CAP, "20 ms a frame fits 30 fps");
});

t.test("frames that no longer fit lower the rate until they do; cheap frames raise it again", async (t) => {
  const slow = after(Array(20).fill(80));
  t.equal(slow.fps, 12, "80 ms a frame: 12 fps");
  const one = after([80], after(Array(20).fill(30)));
  t.ok(one.fps < CAP && one.fps > 12, "one slow frame moves it part of the way");
  const recovered = after(Array(20).fill(15), slow);
  t.equal(recovered.fps, CAP, "back at the cap once frames fit again");
});

t.test("keyframes do not count: the first after an encoder start includes setting it up", async (t) => {
  const steady = after(Array(20).fill(20));
  t.same(nextLimit(steady, { workMs: 140, key: true }, CAP), steady, "a slow keyframe changes nothing");
  t.same(nextLimit(unmeasuredLimit(CAP), { workMs: 140, key: true }, CAP), unmeasuredLimit(CAP));
});

t.test("never below the floor nor above the cap", async (t) => {
  t.equal(after(Array(20).fill(2_000)).fps, MIN_FRAME_RATE);
  t.equal(after(Array(20).fill(1)).fps, CAP);
  t.equal(after([0]).fps, CAP, "a zero measurement is no reason to divide by it");
});

t.test("a new cap keeps what was measured", async (t) => {
  const slow = after(Array(20).fill(80));
  t.equal(withCap(slow, 10).fps, 10, "a lower cap wins");
  t.equal(withCap(slow, 60).fps, 12, "a higher one does not lift the measured limit");
  t.equal(withCap(unmeasuredLimit(CAP), 60).fps, 60);
});
