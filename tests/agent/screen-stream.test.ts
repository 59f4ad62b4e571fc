import { readdirSync, readFileSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";
import t, { type Test } from "tap";
import type { VideoCodecName } from "../../agent/media/encoder.ts";
import { type ScreenChunk, ScreenStream } from "../../agent/media/screen-stream.ts";
import { CAPTURE_NICE } from "../../agent/media/thread-priority.ts";
import { REPEAT_AFTER_MS, TOP_OFF_AFTER_MS, TOP_OFFS } from "../../agent/media/top-off.ts";
import { deadline } from "../helpers/security.ts";
import { decodeKeyframe, pixelAt } from "../helpers/technician-peer.ts";
import { colouredWindow, startXvfb, waitUntil, windowByName } from "../helpers/xvfb.ts";

const xvfb = await startXvfb({ width: 1280, height: 720 });
process.env.DISPLAY = xvfb.display;
t.teardown(() => xvfb.stop());
await colouredWindow(xvfb, { x: 100, y: 100, width: 400, height: 300, colour: "blue", name: "sos-blue" });

async function openStream(t: Test, codec: VideoCodecName): Promise<ScreenStream> {
  const stream = await ScreenStream.start({ monitor: 0, codec, maxFps: 20, bitrate: 2_000_000 });
  t.teardown(() => stream.close());
  stream.on("error", (error) => t.fail(`stream error: ${error.message}`));
  return stream;
}

function nextChunk(stream: ScreenStream, predicate: (chunk: ScreenChunk) => boolean = () => true) {
  return new Promise<ScreenChunk>((resolve) => {
    const listener = (chunk: ScreenChunk) => {
      if (!predicate(chunk)) return;
      stream.off("chunk", listener);
      resolve(chunk);
    };
    stream.on("chunk", listener);
  });
}

for (const codec of ["h264", "vp8"] as const) {
  t.test(`${codec}: the first chunk is a keyframe that decodes to the screen's pixels`, async (t) => {
    const stream = await openStream(t, codec);
    t.match(stream.monitor, { width: 1280, height: 720 });
    const first = nextChunk(stream);
    stream.run(true);
    const chunk = await first;
    t.equal(chunk.key, true);
    t.equal(chunk.width, 1280);
    t.equal(chunk.height, 720);
    const frame = await decodeKeyframe(codec, chunk);
    t.equal(frame.width, 1280);
    t.equal(frame.height, 720);
    const inside = pixelAt(frame, 300, 250);
    t.ok(
      inside.b > 200 && inside.r < 40 && inside.g < 40,
      `blue window decodes blue: ${JSON.stringify(inside)}`,
    );
    const outside = pixelAt(frame, 900, 600);
    t.ok(outside.r + outside.g + outside.b < 60, `root decodes black: ${JSON.stringify(outside)}`);
    t.equal((await stream.stats()).backend, "x11-shm", "captured through MIT-SHM");
  });
}

t.test("prime encodes one keyframe of the screen while idle, then captures nothing more", async (t) => {
  const stream = await openStream(t, "h264");
  const first = nextChunk(stream);
  stream.prime();
  const chunk = await first;
  t.equal(chunk.key, true, "the primed chunk is a keyframe");
  const frame = await decodeKeyframe("h264", chunk);
  const inside = pixelAt(frame, 300, 250);
  t.ok(inside.b > 200 && inside.r < 40, `it shows the screen: ${JSON.stringify(inside)}`);
  // A stats answer comes after every message sent before it: a second prime's capture would show.
  const again = nextChunk(stream);
  stream.prime();
  await again;
  const stats = await stream.stats();
  t.equal(stats.captured, 2, "one capture per prime, none in between");
  t.equal(stats.encoded, 2, "each prime is encoded (a keyframe even when unchanged)");
});

t.test(
  "an unchanged screen is encoded again for its top-offs, then only once a second (a repeat), all as delta chunks",
  async (t) => {
    const stream = await openStream(t, "h264");
    const first = nextChunk(stream);
    stream.run(true);
    await first;
    const chunks: ScreenChunk[] = [];
    stream.on("chunk", (chunk) => chunks.push(chunk));
    // The top-offs, then repeats: a browser that gets no frame for 3 s asks for a keyframe.
    await waitUntil(async () => (await stream.stats()).repeats >= 3, 10_000, "three repeats");
    const stats = await stream.stats();
    t.equal(stats.topOffs, TOP_OFFS);
    t.equal(stats.encoded, 1 + TOP_OFFS + stats.repeats, "the first frame, its top-offs and repeats");
    t.equal(stats.changed, 1, "only the first capture changed");
    t.notOk(
      chunks.some((chunk) => chunk.key),
      "the top-offs and repeats are delta chunks (no keyframe)",
    );
    const repeats = chunks.slice(TOP_OFFS);
    const gaps = repeats.slice(1).map((chunk, i) => chunk.capturedAt - (repeats[i]?.capturedAt ?? 0));
    t.ok(
      gaps.every((gap) => gap >= REPEAT_AFTER_MS - 1 && gap < REPEAT_AFTER_MS + 600),
      `a repeat about every ${REPEAT_AFTER_MS} ms: ${gaps.map((gap) => gap.toFixed(0)).join(", ")} ms apart`,
    );
  },
);

t.test(
  "a change on a still screen: its frame, then TOP_OFFS delta top-offs once still, then only repeats",
  async (t) => {
    const stream = await openStream(t, "h264");
    let chunks: ScreenChunk[] = [];
    stream.on("chunk", (chunk) => chunks.push(chunk));
    stream.run(true);
    // The first frame and its top-offs, chunks out (a stats answer can come before the last chunk).
    await waitUntil(async () => chunks.length >= 1 + TOP_OFFS, 10_000, "the first frame's top-offs");
    const before = await stream.stats();
    t.equal(before.encoded, 1 + TOP_OFFS + before.repeats, "the first frame, its top-offs (and repeats)");
    chunks = [];
    const blue = await windowByName(xvfb, "sos-blue");
    await xvfb.x("xdotool", ["windowmove", "--sync", blue, "150", "150"]);
    await waitUntil(
      async () => (await stream.stats()).topOffs >= before.topOffs + TOP_OFFS,
      10_000,
      "the change's top-offs",
    );
    const done = await stream.stats();
    // Two whole-screen checks after the last top-off: a further top-off would show.
    await waitUntil(
      async () => (await stream.stats()).captured >= done.captured + 2,
      10_000,
      "two more checks",
    );
    const after = await stream.stats();
    // Repeats may come before the change (the screen was still for a second); none between the
    // change and its top-offs (each frame restarts the second).
    const repeatsBefore = done.repeats - before.repeats;
    const changed = done.encoded - before.encoded - TOP_OFFS - repeatsBefore;
    t.ok(changed >= 1, `the change was encoded (${changed} frames)`);
    t.equal(after.topOffs - before.topOffs, TOP_OFFS, "exactly TOP_OFFS top-offs");
    t.equal(
      after.encoded - done.encoded,
      after.repeats - done.repeats,
      "once the top-offs are done, only repeats are encoded",
    );
    // One chunk per frame encoded (a stats answer can come before the last chunk).
    await waitUntil(async () => chunks.length >= after.encoded - before.encoded, 5_000, "a chunk per frame");
    t.notOk(
      chunks.some((chunk) => chunk.key),
      "all delta chunks",
    );
    const lastChange = chunks[repeatsBefore + changed - 1];
    const firstTopOff = chunks[repeatsBefore + changed];
    if (lastChange !== undefined && firstTopOff !== undefined) {
      const still = firstTopOff.capturedAt - lastChange.capturedAt;
      t.ok(still >= TOP_OFF_AFTER_MS - 1, `the first top-off came once still for ${still.toFixed(0)} ms`);
    }
  },
);

t.test("a keyframe request on an unchanged screen yields a key chunk at once", async (t) => {
  const stream = await openStream(t, "h264");
  const first = nextChunk(stream);
  stream.run(true);
  await first;
  // Idle for a while the worker polls slowly; the request must wake it.
  await waitUntil(async () => (await stream.stats()).captured >= 3, 10_000, "three captures");
  const asked = performance.now();
  const key = nextChunk(stream, (chunk) => chunk.key);
  stream.requestKeyframe();
  await key;
  t.ok(performance.now() - asked < 500, "the keyframe came within half a second");
});

t.test("a changed screen is encoded again", async (t) => {
  const stream = await openStream(t, "h264");
  const first = nextChunk(stream);
  stream.run(true);
  await first;
  // The first frame's top-offs are delta chunks too: the change's must come after them.
  await waitUntil(async () => (await stream.stats()).topOffs >= TOP_OFFS, 10_000, "the top-offs");
  const delta = nextChunk(stream, (chunk) => !chunk.key);
  stream.activity();
  await colouredWindow(xvfb, { x: 700, y: 400, width: 200, height: 100, colour: "green", name: "sos-green" });
  const chunk = await delta;
  t.ok(chunk.data.length > 0);
});

t.test(
  "where X reports drawing, input alone captures nothing: each drawing is captured once drawn, a still screen is not polled",
  async (t) => {
    const stream = await openStream(t, "h264");
    const first = nextChunk(stream);
    stream.run(true);
    await first;
    const blue = await windowByName(xvfb, "sos-blue");
    const before = await stream.stats();
    const started = performance.now();
    const drawings = 10;
    for (let i = 1; i <= drawings; i += 1) {
      const delta = nextChunk(stream, (chunk) => !chunk.key);
      // Input arrives first, as when a technician types; then the X server draws its effect.
      stream.activity();
      await xvfb.x("xdotool", ["windowmove", "--sync", blue, String(100 + i * 30), "100"]);
      await delta;
    }
    const after = await stream.stats();
    const seconds = (performance.now() - started) / 1000;
    const captures = after.captured - before.captured;
    // A drawing that took longer than TOP_OFF_AFTER_MS lets the one before it be topped off: one
    // unchanged capture each.
    const topOffs = after.topOffs - before.topOffs;
    const unchanged = captures - (after.changed - before.changed) - topOffs;
    // Besides the captures of the drawings, the whole-screen check (once a second) and perhaps a
    // drawing reported as damage that changed no pixel. A capture on input (before its effect is
    // drawn) or polling at the frame rate (20 a second here) would show more.
    t.ok(
      unchanged <= Math.ceil(seconds) + 1,
      `${captures} captures for ${drawings} drawings in ${seconds.toFixed(1)} s, ${unchanged} of them unchanged (and ${topOffs} top-offs)`,
    );
    t.equal(after.backend, "x11-shm");
    // The frame-rate limit (frame-rate-limit.ts) learns from each delta frame, within the cap.
    t.ok(
      after.workMs > 0,
      `the slowest stage (capture, conversion or encoding) measured: ${after.workMs.toFixed(1)} ms`,
    );
    t.ok(after.fps >= 5 && after.fps <= 20, `the limit stays within [5, --max-fps]: ${after.fps}`);
  },
);

/** The event loop's delay p99 (ms) over `ms` with nothing of ours running: what the machine adds. */
async function idleDelayP99(ms: number): Promise<number> {
  const idle = monitorEventLoopDelay({ resolution: 5 });
  idle.enable();
  await new Promise((resolve) => setTimeout(resolve, ms));
  idle.disable();
  return idle.percentile(99) / 1e6;
}

t.test("capture and encode do not block the main event loop", async (t) => {
  const stream = await openStream(t, "h264");
  // A loaded machine delays every timer; the bound is 30 ms above what it adds with the stream
  // idle (an encode on the main thread blocks it for 85-170 ms per 1080p keyframe).
  const machine = await idleDelayP99(1_000);
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  let keyframes = 0;
  stream.on("chunk", (chunk) => {
    if (!chunk.key) return;
    keyframes += 1;
    if (keyframes < 15) stream.requestKeyframe();
  });
  histogram.enable();
  const done = nextChunk(stream, () => keyframes >= 15);
  stream.run(true);
  await done;
  histogram.disable();
  const p99 = histogram.percentile(99) / 1e6;
  t.ok(
    p99 < 30 + machine,
    `event loop delay p99 ${p99.toFixed(1)} ms while encoding 15 keyframes (idle: ${machine.toFixed(1)} ms)`,
  );
});

/** Nice value of each thread of this process, by thread id (Linux: /proc/self/task/<tid>/stat). */
function threadNiceValues(): Map<number, number> {
  const nice = new Map<number, number>();
  for (const tid of readdirSync("/proc/self/task")) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
    } catch {
      continue; // the thread ended since the listing (an earlier stream's encoder thread)
    }
    // After the command name's closing parenthesis: state is field 3, nice field 19.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    nice.set(Number(tid), Number(fields[19 - 3]));
  }
  return nice;
}

t.test("capture and encode run below normal priority; the main thread keeps its own", async (t) => {
  const before = threadNiceValues();
  const mainNice = before.get(process.pid);
  const stream = await openStream(t, "h264");
  const first = nextChunk(stream);
  stream.run(true);
  await first;
  const started = [...threadNiceValues()].filter(([tid]) => !before.has(tid));
  const lowered = started.filter(([, nice]) => nice === CAPTURE_NICE);
  // The worker itself and the encoder's threads (x264 starts several on two cores).
  t.ok(lowered.length >= 2, `${lowered.length} of ${started.length} new threads at nice ${CAPTURE_NICE}`);
  t.equal(threadNiceValues().get(process.pid), mainNice, "the main thread keeps its nice value");
});

t.test("close() stops the worker and is safe to call twice", async (t) => {
  const stream = await ScreenStream.start({ monitor: 0, codec: "h264", maxFps: 20, bitrate: 2_000_000 });
  stream.run(true);
  await Promise.all([stream.close(), stream.close()]);
  await stream.close();
  t.pass("closed");
});

t.test("stats() rejects once the stream is closed: asked after close, and asked just before", async (t) => {
  const stream = await ScreenStream.start({ monitor: 0, codec: "h264", maxFps: 20, bitrate: 2_000_000 });
  const before = stream.stats().then(
    () => "answered",
    () => "rejected",
  );
  const closing = stream.close();
  const after = stream.stats().then(
    () => "answered",
    (error: unknown) => error,
  );
  t.match(await deadline(after, "stats() after close", 5_000), {
    name: "AgentError",
    message: "The screen stream is closed.",
  });
  await closing;
  t.match(await deadline(before, "stats() asked before close", 5_000), /^(answered|rejected)$/);
});
