import t from "tap";
import {
  EstimateWatch,
  frameRateFor,
  MIN_BITRATE,
  MIN_FRAME_RATE,
  MIN_NACK_SAMPLE,
  nackRateOf,
  nextBitrate,
  type ReceiverReport,
} from "../../agent/peer/bitrate.ts";

/**
 * A report without loss, from a receiver sent 3 Mbit/s that has just lowered its estimate (so an
 * estimate below what was sent is a cap).
 */
const clean = (estimate: number, sentBitrate = 3_000_000): ReceiverReport => ({
  estimate,
  estimateFell: true,
  fractionLost: 0,
  nackRate: 0,
  sentBitrate,
});
const lossy = (fractionLost: number, nackRate: number): ReceiverReport => ({
  estimate: 0,
  estimateFell: false,
  fractionLost,
  nackRate,
  sentBitrate: 2_000_000,
});

t.test("the slowest technician's REMB estimate sets the bitrate, with headroom", async (t) => {
  t.equal(nextBitrate(3_000_000, [clean(1_000_000), clean(5_000_000)], 3_000_000), 850_000);
});

t.test("an estimate above what was sent is no cap: it echoes a sender with less to send", async (t) => {
  // Chromium's REMB stays near 1.5x what it receives; a screen that changes little sends little.
  t.equal(nextBitrate(3_000_000, [clean(632_000, 400_000)], 3_000_000), 3_000_000, "kept at the maximum");
  t.equal(nextBitrate(1_000_000, [clean(632_000, 400_000)], 3_000_000), 1_500_000, "and climbs back");
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
  t.equal(nextBitrate(2_000_000, [lossy(0.2, 0)], 3_000_000), 1_400_000);
  t.equal(nextBitrate(2_000_000, [lossy(0.05, 0)], 3_000_000), 2_000_000);
});

t.test("packets the receiver asks for again (NACK) count as loss when the reports show less", async (t) => {
  t.equal(nextBitrate(2_000_000, [lossy(0, 0.2)], 3_000_000), 1_400_000);
  t.equal(nextBitrate(2_000_000, [lossy(0, 0.05)], 3_000_000), 2_000_000);
  t.equal(nextBitrate(2_000_000, [lossy(0.2, 0.01)], 3_000_000), 1_400_000, "the larger of the two counts");
});

t.test(
  "without loss or a lowered estimate it climbs back by half per check, up to the maximum",
  async (t) => {
    t.equal(nextBitrate(1_000_000, [clean(0)], 3_000_000), 1_500_000);
    t.equal(nextBitrate(3_000_000, [clean(0)], 3_000_000), 3_000_000);
    t.equal(nextBitrate(2_500_000, [clean(0)], 3_000_000), 3_000_000, "the maximum, however close");
  },
);

t.test("from the floor it gets back to the maximum, whatever the rounding", async (t) => {
  // Climbing by a quarter with a quarter's hysteresis stuck at 915,529 bit/s (a rounding down).
  let bitrate = MIN_BITRATE;
  const steps = [];
  for (let check = 0; check < 10 && bitrate < 3_000_000; check += 1) {
    bitrate = nextBitrate(bitrate, [clean(0)], 3_000_000);
    steps.push(bitrate);
  }
  t.equal(bitrate, 3_000_000, `steps: ${steps.join(", ")}`);
  t.ok(steps.length <= 6, "within six checks (30 s)");
});

t.test(
  "an estimate the receiver has not lowered is no cap: it lags a sender that starts sending",
  async (t) => {
    // Chromium starts its estimate from what arrived in its first seconds (a still screen: 42 kbit/s
    // measured), then grows it slowly: as a cap it pinned a scrolling screen at 0.3 Mbit/s, 6 fps.
    const lagging = { ...clean(42_355, 299_000), estimateFell: false };
    t.equal(nextBitrate(3_000_000, [lagging], 3_000_000), 3_000_000, "kept");
    t.equal(nextBitrate(1_000_000, [lagging], 3_000_000), 1_500_000, "and climbs");
    t.equal(nextBitrate(3_000_000, [clean(632_000, 2_000_000)], 3_000_000), 537_200, "lowered: a cap");
  },
);

t.test("REMB estimates: lowered is a value clearly below the one before it", async (t) => {
  const watch = new EstimateWatch();
  t.same(watch.take(), { estimate: 0, estimateFell: false }, "none yet");
  watch.observe(42_000);
  t.same(watch.take(), { estimate: 42_000, estimateFell: false }, "the first is where it starts");
  watch.observe(45_000);
  watch.observe(44_000);
  t.same(watch.take(), { estimate: 44_000, estimateFell: false }, "jitter of a few percent is no fall");
  watch.observe(3_600_000);
  watch.observe(900_000);
  watch.observe(950_000);
  t.same(watch.take(), { estimate: 950_000, estimateFell: true }, "a fall between two checks counts");
  t.same(watch.take(), { estimate: 950_000, estimateFell: false }, "once");
});

t.test("NACKs: each packet once, and only over enough packets", async (t) => {
  t.equal(nackRateOf(10, 100), 0.1);
  t.equal(nackRateOf(300, 100), 1, "never above 1");
  t.equal(nackRateOf(20, MIN_NACK_SAMPLE - 1), 0, "a handful of packets (a paused sender) says nothing");
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
