/**
 * The FFmpeg encoder adapter (agent/media/ffmpeg-encoder.ts) against Debian's ffmpeg: the contract
 * the Windows build relies on with its ffmpeg.exe (ffmpeg-encoder-wine.test.ts runs that one).
 */
import { readFileSync } from "node:fs";
import { constants } from "node:os";
import t from "tap";
import type { FfmpegCommand } from "../../agent/media/ffmpeg-process.ts";
import { isConstrainedBaseline, nalUnits, parseSps, sliceType } from "../helpers/h264.ts";
import { harness, ivfFile, probe, testPicture } from "./ffmpeg-contract.ts";

const FFMPEG: FfmpegCommand = { file: "ffmpeg" };
// 360 is not a multiple of 16: the SPS must crop the coded picture back to the picture's height.
const WIDTH = 640;
const HEIGHT = 360;

t.test("each frame in comes back as one access unit, in order, before the next frame is given", async (t) => {
  const h = harness(FFMPEG);
  t.teardown(() => h.encoder.close());
  for (let i = 0; i < 6; i++) {
    h.encoder.encode(testPicture(WIDTH, HEIGHT, i), 1_000 * (i + 1), false);
    t.equal(h.encoder.pending, 1, `frame ${i} is pending until its chunk is out`);
    const chunk = await h.chunk(i);
    t.equal(h.encoder.pending, 0);
    t.equal(chunk.timestampUs, 1_000 * (i + 1), `chunk ${i} carries frame ${i}'s timestamp`);
    t.same([chunk.width, chunk.height], [WIDTH, HEIGHT]);
    t.same([...chunk.data.subarray(0, 4)], [0, 0, 0, 1], "Annex B: starts with a start code");
  }
  t.same(
    h.chunks.map((chunk) => chunk.key),
    [true, false, false, false, false, false],
    "the first is a keyframe, the others are not",
  );
  const first = nalUnits(h.chunks[0]?.data ?? Buffer.alloc(0)).map((unit) => unit.type);
  t.same(first.slice(0, 2), [7, 8], "the keyframe carries SPS and PPS in front");
  t.ok(first.includes(5), "and an IDR slice");
  t.ok(
    h.chunks.slice(1).every((chunk) => chunk.data.buffer.byteLength === chunk.data.byteLength),
    "each chunk owns its buffer (the capture worker transfers it without a copy)",
  );
});

t.test("the stream is constrained baseline without B-frames, and ffprobe decodes every frame", async (t) => {
  const h = harness(FFMPEG);
  t.teardown(() => h.encoder.close());
  const frames = 12;
  for (let i = 0; i < frames; i++) {
    h.encoder.encode(testPicture(WIDTH, HEIGHT, i), i * 50_000, false);
    await h.chunk(i);
  }
  const stream = Buffer.concat(h.chunks.map((chunk) => chunk.data));
  const units = nalUnits(stream);
  const sps = units.find((unit) => unit.type === 7);
  if (sps === undefined) throw new Error("no SPS");
  const parsed = parseSps(sps);
  t.ok(
    isConstrainedBaseline(parsed),
    `constrained baseline (profile ${parsed.profileIdc}, ${parsed.constraints})`,
  );
  t.same([parsed.width, parsed.height], [WIDTH, HEIGHT], "the SPS gives the picture's size");
  const slices = units.filter((unit) => unit.type === 1 || unit.type === 5);
  t.ok(slices.length >= frames, "every frame has slices");
  t.notOk(
    slices.some((unit) => sliceType(unit) === 1),
    "no B slices",
  );
  const probed = await probe(stream, "h264");
  t.same(probed, { frames, width: WIDTH, height: HEIGHT, codec: "h264", profile: "Constrained Baseline" });
});

t.test(
  "a keyframe on request: the next chunk is a keyframe with SPS and PPS, and the stream still decodes",
  async (t) => {
    const h = harness(FFMPEG);
    t.teardown(() => h.encoder.close());
    h.encoder.encode(testPicture(WIDTH, HEIGHT, 0), 0, true);
    await h.chunk(0);
    t.notOk(
      h.logs.some((entry) => /keyframe asked/.test(entry.message)),
      "the first frame is a keyframe anyway: no restart for it",
    );
    for (let i = 1; i < 4; i++) {
      h.encoder.encode(testPicture(WIDTH, HEIGHT, i), i, false);
      await h.chunk(i);
    }
    const spare = h.encoder.spare;
    t.ok(spare !== undefined && spare !== h.encoder.process, "a spare process waits for the next keyframe");
    h.encoder.encode(testPicture(WIDTH, HEIGHT, 4), 4, true);
    t.equal(h.encoder.process, spare, "the keyframe goes to the spare, already started");
    const key = await h.chunk(4);
    t.equal(key.key, true);
    t.equal(key.timestampUs, 4);
    t.same(
      nalUnits(key.data)
        .map((unit) => unit.type)
        .slice(0, 2),
      [7, 8],
    );
    h.encoder.encode(testPicture(WIDTH, HEIGHT, 5), 5, false);
    t.equal((await h.chunk(5)).key, false, "then it goes on with P frames");
    const probed = await probe(Buffer.concat(h.chunks.map((chunk) => chunk.data)), "h264");
    t.equal(probed.frames, 6, "all six frames decode, across the restart");
  },
);

t.test(
  "a new size or bitrate restarts the encoder: the next chunk is a keyframe of the new size",
  async (t) => {
    const h = harness(FFMPEG);
    t.teardown(() => h.encoder.close());
    h.encoder.encode(testPicture(WIDTH, HEIGHT, 0), 0, false);
    h.encoder.encode(testPicture(WIDTH, HEIGHT, 1), 1, false);
    await h.chunk(1);
    h.encoder.encode(testPicture(320, 240, 2), 2, false);
    const resized = await h.chunk(2);
    t.same([resized.key, resized.width, resized.height, resized.timestampUs], [true, 320, 240, 2]);
    const sps = nalUnits(resized.data).find((unit) => unit.type === 7);
    if (sps === undefined) throw new Error("no SPS in the keyframe");
    t.same([parseSps(sps).width, parseSps(sps).height], [320, 240], "its SPS says the new size");
    h.encoder.encode(testPicture(320, 240, 3), 3, false);
    t.equal((await h.chunk(3)).key, false);
    h.encoder.update({ bitrate: 500_000 });
    h.encoder.encode(testPicture(320, 240, 4), 4, false);
    t.equal((await h.chunk(4)).key, true, "a new bitrate starts with a keyframe");
  },
);

t.test(
  "a crashed FFmpeg is restarted at the next frame; when it keeps crashing the stream gets an encoder error",
  async (t) => {
    const h = harness(FFMPEG);
    t.teardown(() => h.encoder.close());
    h.encoder.encode(testPicture(WIDTH, HEIGHT, 0), 0, false);
    await h.chunk(0);
    h.encoder.process?.kill();
    const logged = await h.log(/stopped \(signal SIGKILL\); restarting it/);
    t.equal(logged.level, "warn", "the crash is in the agent's log");
    t.equal(h.encoder.pending, 0);
    h.encoder.encode(testPicture(WIDTH, HEIGHT, 1), 1, false);
    const after = await h.chunk(1);
    t.equal(after.key, true, "the new process starts with a keyframe");
    t.equal(h.errors.length, 0, "one crash is not an error");
    // Two more crashes within the minute: the third is an error.
    for (let i = 2; i < 4; i++) {
      h.encoder.encode(testPicture(WIDTH, HEIGHT, i), i, false);
      await h.chunk(i);
      h.logs.splice(0);
      h.encoder.process?.kill();
      if (i === 2) await h.log(/stopped/);
    }
    const error = await h.error();
    t.match(error, { name: "AgentError", reason: "internal" });
    t.match(error.message, /^The video encoder \(ffmpeg\) stopped \(signal SIGKILL\)/);
    h.encoder.encode(testPicture(WIDTH, HEIGHT, 9), 9, false);
    t.equal(h.encoder.process, undefined, "after the error it starts nothing more");
  },
);

t.test(
  "what FFmpeg writes on stderr reaches the agent's log, and its last line is in the error",
  async (t) => {
    // A frame rate of 0 is one FFmpeg refuses, with a message on stderr and exit code 1.
    const h = harness(FFMPEG, { framerate: 0 });
    t.teardown(() => h.encoder.close());
    for (let i = 0; i < 3; i++) {
      h.encoder.encode(testPicture(WIDTH, HEIGHT, i), i, false);
      if (i < 2) await h.log(/stopped \(exit code 1\).*restarting/s);
      h.logs.splice(0);
    }
    const error = await h.error();
    t.match(error.message, /^The video encoder \(ffmpeg\) stopped \(exit code 1\): .+/);
    t.equal(h.chunks.length, 0);
  },
);

t.test("an FFmpeg that cannot start is an encoder error at once, not an agent crash", async (t) => {
  const h = harness({ file: "/nonexistent/ffmpeg.exe" });
  t.teardown(() => h.encoder.close());
  h.encoder.encode(testPicture(WIDTH, HEIGHT, 0), 0, false);
  const error = await h.error();
  t.match(error.message, /^The video encoder \(ffmpeg\.exe\) stopped: .*ENOENT/);
});

t.test("close() ends FFmpeg: its processes exit and no chunk comes after", async (t) => {
  const h = harness(FFMPEG);
  h.encoder.encode(testPicture(WIDTH, HEIGHT, 0), 0, false);
  await h.chunk(0);
  h.encoder.encode(testPicture(WIDTH, HEIGHT, 1), 1, false);
  const running = h.encoder.process;
  const spare = h.encoder.spare;
  if (running === undefined || spare === undefined) throw new Error("no process, or no spare");
  h.encoder.close();
  h.encoder.close();
  await Promise.all([running.exited, spare.exited]);
  t.pass("both the process and its spare exited");
  t.equal(h.chunks.length, 1, "the frame queued at close is dropped");
  t.equal(h.errors.length, 0, "a close is not a crash");
  t.equal(h.encoder.pending, 0);
});

t.test("VP8: frames come back one for one, the first a keyframe, and ffprobe decodes them", async (t) => {
  const h = harness(FFMPEG, { codec: "vp8" });
  t.teardown(() => h.encoder.close());
  for (let i = 0; i < 5; i++) {
    h.encoder.encode(testPicture(WIDTH, HEIGHT, i), i, i === 3);
    await h.chunk(i);
  }
  t.same(
    h.chunks.map((chunk) => chunk.key),
    [true, false, false, true, false],
  );
  const probed = await probe(ivfFile(h.chunks, WIDTH, HEIGHT), "ivf");
  t.same([probed.codec, probed.frames, probed.width, probed.height], ["vp8", 5, WIDTH, HEIGHT]);
});

t.test(
  "FFmpeg runs below normal priority, so input and signaling come first when the CPU is short",
  async (t) => {
    const h = harness(FFMPEG);
    t.teardown(() => h.encoder.close());
    h.encoder.encode(testPicture(WIDTH, HEIGHT, 0), 0, false);
    await h.chunk(0);
    const pid = h.encoder.process?.pid;
    if (pid === undefined) throw new Error("no process");
    // /proc/<pid>/task/<tid>/stat: the nice value is field 19; fields after the name in parentheses.
    const tasks = readFileSync(`/proc/${pid}/stat`, "utf8");
    const nice = Number(tasks.slice(tasks.lastIndexOf(")") + 2).split(" ")[16]);
    t.equal(nice, constants.priority.PRIORITY_BELOW_NORMAL, "its main thread");
  },
);
