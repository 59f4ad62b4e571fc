import t from "tap";
import {
  BURST_CREDIT_MS,
  BURST_MS,
  PACING_FACTOR,
  PacedQueue,
  type PaceSettings,
} from "../../agent/peer/pacer.ts";

const PACKET = 1_200;
const size = () => PACKET;

/** Pushes one frame of `packets` at time 0 and drains it as technician-peer.ts does: the bursts. */
function drain(packets: number, settings: PaceSettings): Array<{ at: number; count: number }> {
  const queue = new PacedQueue<number>(-1_000);
  queue.push(
    Array.from({ length: packets }, (_, index) => index),
    size,
    0,
    settings,
  );
  const bursts: Array<{ at: number; count: number }> = [];
  let now = 0;
  for (let step = 0; step < 10_000; step += 1) {
    const sent = queue.take(now, settings);
    if (sent.length > 0) bursts.push({ at: now, count: sent.length });
    const wait = queue.wait(now, settings);
    if (wait === undefined) return bursts;
    t.ok(wait >= 1 && wait <= BURST_MS, `waits 1-${BURST_MS} ms between bursts (${wait})`);
    now += wait;
  }
  throw new Error("never drained");
}

const lastAt = (bursts: ReadonlyArray<{ at: number }>) => bursts.at(-1)?.at ?? Number.NaN;
const total = (bursts: ReadonlyArray<{ count: number }>) => bursts.reduce((sum, b) => sum + b.count, 0);

t.test("a keyframe is spread over its frame interval, not sent in one burst", async (t) => {
  // 240 KB: a 1080p keyframe of text. At once, it overflowed Chromium's 128 KB socket buffer.
  const bursts = drain(200, { bitrate: 3_000_000, fps: 20 });
  t.equal(total(bursts), 200, "every packet, in one piece each");
  t.ok(lastAt(bursts) <= 50, `all out within the 50 ms frame interval (${lastAt(bursts)} ms)`);
  t.ok(lastAt(bursts) >= 40, `and spread over it (${lastAt(bursts)} ms)`);
  const largest = Math.max(...bursts.map((burst) => burst.count));
  // 40 ms of 3 Mbit/s x 2.5: 37.5 KB, 32 packets (the last one may overshoot).
  t.ok(largest <= 32, `no burst larger than ${BURST_CREDIT_MS} ms of the pace (${largest} packets)`);
});

t.test("a large frame goes at 2.5x the bitrate after its first burst", async (t) => {
  // 60 packets (72 KB) at 3 Mbit/s x 2.5 = 937.5 bytes a millisecond: about 77 ms, less the
  // first burst (up to BURST_CREDIT_MS of the pace goes at once after a pause); at 5 fps its
  // deadline (200 ms) does not hurry it.
  const bursts = drain(60, { bitrate: 3_000_000, fps: 5 });
  const expected = (60 * PACKET) / ((3_000_000 * PACING_FACTOR) / 8 / 1_000) - BURST_CREDIT_MS;
  t.ok(
    Math.abs(lastAt(bursts) - expected) <= 2,
    `last packet after ${lastAt(bursts)} ms (~${expected.toFixed(1)})`,
  );
  t.ok((bursts[0]?.count ?? 0) <= 32, "the first burst: 40 ms of the pace");
  t.ok((bursts[1]?.count ?? 0) <= 4, "then a few packets at a time");
});

t.test("a frame of a scrolling screen (25 packets) leaves at once after a pause", async (t) => {
  // A key's echo while another terminal scrolls is in such a frame: spread at 5 ms of credit, its
  // last packet left ~26 ms later (bench:latency's sent -> arrived, 10 ms median while scrolling).
  const bursts = drain(25, { bitrate: 3_000_000, fps: 30 });
  t.same(bursts, [{ at: 0, count: 25 }]);
});

t.test("frames back to back at the frame rate do not save up credit beyond the pace", async (t) => {
  // 30 fps of 20-packet frames (24 KB, 5.8 Mbit/s: above the 3 Mbit/s stream): what idle time
  // saved is spent on the first, then each frame waits for the pace (or its deadline).
  const settings = { bitrate: 3_000_000, fps: 30 };
  const queue = new PacedQueue<number>(-1_000);
  let now = 0;
  const sentAt: number[] = [];
  for (let frame = 0; frame < 10; frame += 1) {
    queue.push(
      Array.from({ length: 20 }, (_, i) => frame * 20 + i),
      size,
      frame * (1_000 / 30),
      settings,
    );
    now = Math.max(now, frame * (1_000 / 30));
    const next = (frame + 1) * (1_000 / 30);
    for (;;) {
      for (const _ of queue.take(now, settings)) sentAt.push(now);
      const wait = queue.wait(now, settings);
      if (wait === undefined || now + wait > next) break;
      now += wait;
    }
  }
  const lastSecond = sentAt.filter((at) => at >= 1_000 / 30);
  const bytesPerMs = (lastSecond.length * PACKET) / (now - 1_000 / 30);
  t.ok(
    bytesPerMs <= ((3_000_000 * PACING_FACTOR) / 8 / 1_000) * 1.05,
    `after the first frame, at most the pace (${bytesPerMs.toFixed(0)} bytes/ms)`,
  );
});

t.test("a key's echo (a packet or three) goes at once", async (t) => {
  const bursts = drain(3, { bitrate: 3_000_000, fps: 20 });
  t.same(bursts, [{ at: 0, count: 3 }]);
});

t.test("at a low bitrate a frame still leaves within its frame interval", async (t) => {
  // 0.3 Mbit/s x 2.5 would take 640 ms for 60 KB; at 6 fps the frame must be out in 167 ms.
  const bursts = drain(50, { bitrate: 300_000, fps: 6 });
  t.equal(total(bursts), 50);
  t.ok(lastAt(bursts) <= 1_000 / 6, `out after ${lastAt(bursts)} ms`);
});

t.test("frames queue in order; a new frame's deadline moves the whole queue", async (t) => {
  const settings = { bitrate: 1_000_000, fps: 30 };
  const queue = new PacedQueue<string>(0);
  queue.push(["a1", "a2", "a3", "a4"], size, 0, settings);
  const sent = [...queue.take(0, settings)];
  queue.push(["b1", "b2"], size, 10, settings);
  let now = 10;
  for (let wait = queue.wait(now, settings); wait !== undefined; wait = queue.wait(now, settings)) {
    now += wait;
    sent.push(...queue.take(now, settings));
  }
  t.same(sent, ["a1", "a2", "a3", "a4", "b1", "b2"]);
  t.ok(now <= 10 + 1_000 / 30, `all out by the second frame's deadline (${now} ms)`);
  t.equal(queue.queuedBytes, 0);
});

t.test("clear() drops what is queued", async (t) => {
  const settings = { bitrate: 300_000, fps: 5 };
  const queue = new PacedQueue<number>(0);
  queue.push([1, 2, 3, 4, 5, 6, 7, 8], size, 0, settings);
  queue.take(0, settings);
  queue.clear();
  t.equal(queue.length, 0);
  t.equal(queue.wait(1, settings), undefined);
});
