import t from "tap";
import { frameRateFor, MIN_BITRATE, MIN_FRAME_RATE, nextBitrate } from "../../agent/peer/bitrate.ts";

/** A report without loss, from a receiver sent 3 Mbit/s (so an estimate below that is a cap). */
const clean = (estimate: number, sentBitrate = 3_000_000) => ({
  estimate,
  fractionLost: 0,
  nackRate: 0,
  sentBitrate,
});

t.test("the slowest technician's REMB estimate sets the bitrate, with headroom", async (t) => {
  t.equal(nextBitrate(3_000_000, [clean(1_000_000), clean(5_000_000)], 3_000_000), 850_000);
});

t.test("an estimate above what was sent is no cap: it echoes a sender with less to send", async (t) => {
  // Chromium's REMB stays near 1.5x what it receives; a screen that changes little sends little.
  t.equal(nextBitrate(3_000_000, [clean(632_000, 400_000)], 3_000_000), 3_000_000, "kept at the maximum");
  t.equal(nextBitrate(1_000_000, [clean(632_000, 400_000)], 3_000_000), 1_250_000, "and climbs back");
  t.equal(
    nextBitrate(3_000_000, [clean(632_000, 2_000_000)], 3_000_000),
    537_200,
    "below what was sent: a cap",
  );
});

t.test("the bitrate never exceeds the maximum nor falls below the floor", async (t) => {
  t.equal(nextBitrate(2_400_000, [clean(50_000_000)], 3_000_000), 3_000_000);
  t.equal(nextBitrate(1_000_000, [clean(10_000)], 3_000_000), MIN_BITRATE);
});

t.test("heavy loss cuts the bitrate by 30 %, light loss holds it", async (t) => {
  t.equal(
    nextBitrate(
      2_000_000,
      [{ estimate: 0, fractionLost: 0.2, nackRate: 0, sentBitrate: 2_000_000 }],
      3_000_000,
    ),
    1_400_000,
  );
  t.equal(
    nextBitrate(
      2_000_000,
      [{ estimate: 0, fractionLost: 0.05, nackRate: 0, sentBitrate: 2_000_000 }],
      3_000_000,
    ),
    2_000_000,
  );
});

t.test("packets the receiver asks for again (NACK) count as loss when the reports show less", async (t) => {
  t.equal(
    nextBitrate(
      2_000_000,
      [{ estimate: 0, fractionLost: 0, nackRate: 0.2, sentBitrate: 2_000_000 }],
      3_000_000,
    ),
    1_400_000,
  );
  t.equal(
    nextBitrate(
      2_000_000,
      [{ estimate: 0, fractionLost: 0, nackRate: 0.05, sentBitrate: 2_000_000 }],
      3_000_000,
    ),
    2_000_000,
  );
  t.equal(
    nextBitrate(
      2_000_000,
      [{ estimate: 0, fractionLost: 0.2, nackRate: 0.01, sentBitrate: 2_000_000 }],
      3_000_000,
    ),
    1_400_000,
    "the larger of the two counts",
  );
});

t.test("without loss or estimate it climbs back by a quarter per check, up to the maximum", async (t) => {
  t.equal(nextBitrate(1_000_000, [clean(0)], 3_000_000), 1_250_000);
  t.equal(nextBitrate(3_000_000, [clean(0)], 3_000_000), 3_000_000);
});

t.test("small changes are ignored: each change costs a keyframe", async (t) => {
  t.equal(nextBitrate(2_000_000, [clean(2_200_000)], 3_000_000), 2_000_000);
});

t.test("the frame rate follows the bitrate: fewer, sharp frames when bits are scarce", async (t) => {
  const fullHd = 1920 * 1080;
  t.equal(frameRateFor(3_000_000, fullHd, 30), 30, "plenty of bits: the end user's maximum");
  t.equal(frameRateFor(1_000_000, fullHd, 30), 20, "1 Mbit/s at 1080p: 20 fps");
  t.equal(frameRateFor(MIN_BITRATE, fullHd, 30), 6, "the lowest bitrate: 6 fps");
  t.equal(frameRateFor(MIN_BITRATE, 1280 * 720, 30), 13, "a smaller screen affords more frames");
  t.equal(frameRateFor(10_000, fullHd, 30), MIN_FRAME_RATE, "never below the floor");
  t.equal(frameRateFor(50_000_000, fullHd, 12), 12, "never above --max-fps");
});
