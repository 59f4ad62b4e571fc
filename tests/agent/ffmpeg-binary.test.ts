/**
 * Which FFmpeg the agent runs (agent/media/ffmpeg-binary.ts): SOS_FFMPEG, or the build's
 * ffmpeg.json, whose SHA-256 is checked before the executable it names is run.
 */
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import t from "tap";
import { configuredFfmpeg, FFMPEG_ENV, verifiedFfmpeg } from "../../agent/media/ffmpeg-binary.ts";

const work = mkdtempSync(join(tmpdir(), "sos-ffmpeg-binary-"));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

/** An extraction folder as the Windows build leaves it: the bundle, ffmpeg.json, the executable. */
function extractionFolder(name: string, bytes: Buffer, recorded: Buffer = bytes): string {
  const folder = join(work, name);
  mkdirSync(join(folder, "node_modules", "ffmpeg"), { recursive: true });
  writeFileSync(join(folder, "node_modules", "ffmpeg", "ffmpeg.exe"), bytes);
  writeFileSync(join(folder, "capture-worker.mjs"), "");
  const sha256 = createHash("sha256").update(recorded).digest("hex");
  writeFileSync(
    join(folder, "ffmpeg.json"),
    JSON.stringify({ path: "node_modules/ffmpeg/ffmpeg.exe", sha256 }),
  );
  return folder;
}

t.test("the build's ffmpeg.json names the executable the agent runs, once its SHA-256 matches", async (t) => {
  const folder = extractionFolder("good", Buffer.from("MZ the real one"));
  const saved = process.env[FFMPEG_ENV];
  delete process.env[FFMPEG_ENV];
  t.teardown(() => {
    if (saved !== undefined) process.env[FFMPEG_ENV] = saved;
  });
  const bundleUrl = pathToFileURL(join(folder, "capture-worker.mjs")).href;
  t.same(configuredFfmpeg(bundleUrl), { file: join(folder, "node_modules", "ffmpeg", "ffmpeg.exe") });
  process.env[FFMPEG_ENV] = "/usr/bin/ffmpeg";
  t.same(configuredFfmpeg(bundleUrl), { file: "/usr/bin/ffmpeg" }, "SOS_FFMPEG comes first");
  delete process.env[FFMPEG_ENV];
  t.equal(configuredFfmpeg(pathToFileURL(join(work, "x.mjs")).href), undefined, "no manifest, no FFmpeg");
});

t.test("a damaged or replaced executable is refused with a message that says what to do", async (t) => {
  const folder = extractionFolder("bad", Buffer.from("MZ something else"), Buffer.from("MZ the real one"));
  t.throws(() => verifiedFfmpeg(join(folder, "ffmpeg.json")), {
    name: "AgentError",
    reason: "internal",
    message: new RegExp(`damaged or was replaced .*Delete the folder ${folder} and start the program again`),
  });
  rmSync(join(folder, "node_modules", "ffmpeg", "ffmpeg.exe"));
  t.throws(
    () => verifiedFfmpeg(join(folder, "ffmpeg.json")),
    { message: /SHA-256 missing/ },
    "a missing one too",
  );
});
