import t from "tap";
import { MIN_BITRATE, nextBitrate } from "../../agent/peer/bitrate.ts";

t.test("the slowest technician's estimate sets the bitrate, with headroom", async (t) => {
  t.equal(nextBitrate(3_000_000, [1_000_000, 5_000_000], 3_000_000), 850_000);
});

t.test("the bitrate never exceeds the maximum nor falls below the floor", async (t) => {
  t.equal(nextBitrate(1_000_000, [50_000_000], 3_000_000), 3_000_000);
  t.equal(nextBitrate(1_000_000, [10_000], 3_000_000), MIN_BITRATE);
});

t.test("without estimates the maximum applies", async (t) => {
  t.equal(nextBitrate(1_000_000, [0, 0], 3_000_000), 3_000_000);
  t.equal(nextBitrate(3_000_000, [], 3_000_000), 3_000_000);
});

t.test("small changes are ignored: each change costs a keyframe", async (t) => {
  t.equal(nextBitrate(2_000_000, [2_200_000], 3_000_000), 2_000_000);
  t.equal(nextBitrate(2_000_000, [3_200_000], 3_000_000), 2_720_000);
});
