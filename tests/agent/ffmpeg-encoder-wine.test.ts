/**
 * The FFmpeg encoder adapter driving the Windows build's own ffmpeg.exe (@ffmpeg-installer/win32-x64,
 * FFmpeg 4.1) under Wine 8: a stand-in for a Windows PC, which this machine cannot be. It shows
 * that the adapter's arguments and framing work with the FFmpeg the build ships (4.1, not Debian's
 * 5.1 of ffmpeg-encoder.test.ts); Wine is not Windows, so it says nothing of speed on Windows.
 */
import { join } from "node:path";
import t from "tap";
import { packageDir } from "../../build/packages.ts";
import { PINNED_VERSIONS } from "../../build/targets.ts";
import { isConstrainedBaseline, nalUnits, parseSps, sliceType } from "../helpers/h264.ts";
import { startWine, wineAvailable } from "../helpers/wine.ts";
import { startXvfb } from "../helpers/xvfb.ts";
import { harness, probe, testPicture } from "./ffmpeg-contract.ts";

t.setTimeout(300_000);
const missing = await wineAvailable();
if (missing !== undefined) throw new Error(`Wine tests need ${missing}`);
const PACKAGE = "@ffmpeg-installer/win32-x64";
const dir = await packageDir(
  PACKAGE,
  PINNED_VERSIONS[PACKAGE] ?? "",
  join("node_modules", ".cache", "sos-build"),
);
const xvfb = await startXvfb({ width: 640, height: 480 });
t.teardown(() => xvfb.stop());
const wine = await startWine({ display: xvfb.display });
t.teardown(() => wine.stop());
const command = { file: "wine", leadingArgs: [join(dir, "ffmpeg.exe")], env: wine.env };
const WIDTH = 640;
const HEIGHT = 360;
/** Starting a Windows process under Wine takes seconds here. */
const SLOW_MS = 90_000;

t.test(
  "(under Wine, not Windows) ffmpeg.exe 4.1 behind the adapter: one access unit per frame, constrained baseline, no B-frames, decodable",
  async (t) => {
    const h = harness(command);
    t.teardown(() => h.encoder.close());
    const frames = 8;
    for (let i = 0; i < frames; i++) {
      h.encoder.encode(testPicture(WIDTH, HEIGHT, i), i * 50_000, i === 5);
      const chunk = await h.chunk(i, SLOW_MS);
      t.equal(chunk.timestampUs, i * 50_000, `chunk ${i} is frame ${i}, out before frame ${i + 1} goes in`);
    }
    t.same(
      h.chunks.map((chunk) => chunk.key),
      [true, false, false, false, false, true, false, false],
      "a keyframe first and where asked (frame 5), none elsewhere",
    );
    const stream = Buffer.concat(h.chunks.map((chunk) => chunk.data));
    const units = nalUnits(stream);
    const sps = units.find((unit) => unit.type === 7);
    if (sps === undefined) throw new Error("no SPS");
    t.ok(isConstrainedBaseline(parseSps(sps)), "constrained baseline");
    t.same([parseSps(sps).width, parseSps(sps).height], [WIDTH, HEIGHT]);
    t.notOk(
      units.filter((unit) => unit.type === 1 || unit.type === 5).some((unit) => sliceType(unit) === 1),
      "no B slices",
    );
    const probed = await probe(stream, "h264");
    t.same([probed.frames, probed.profile], [frames, "Constrained Baseline"], "Debian's ffprobe decodes all");
    t.equal(h.errors.length, 0);
  },
);

t.test(
  "(under Wine, not Windows) a crashed ffmpeg.exe is replaced and the next frame is a keyframe",
  async (t) => {
    const h = harness(command);
    t.teardown(() => h.encoder.close());
    h.encoder.encode(testPicture(WIDTH, HEIGHT, 0), 0, false);
    await h.chunk(0, SLOW_MS);
    h.encoder.process?.kill();
    await h.log(/stopped .*restarting it/, SLOW_MS);
    h.encoder.encode(testPicture(WIDTH, HEIGHT, 1), 1, false);
    t.equal((await h.chunk(1, SLOW_MS)).key, true);
    t.equal(h.errors.length, 0);
  },
);
