/**
 * `npm run bench:win-encoder`: what the Windows encoder candidates cost, measured here.
 *
 * - Bytes each adds to the download (size and gzip size) and the FFmpeg configure flags that decide
 *   the licence (GPL, nonfree), for @ffmpeg-installer/win32-x64 and @seydx/node-av-win32-x64-msvc.
 * - Latency and CPU per 1920x1080 frame of @ffmpeg-installer/win32-x64's ffmpeg.exe under Wine 8,
 *   against the Linux ffmpeg of the same kind of build (@ffmpeg-installer/linux-x64, also 4.1):
 *   libx264 ultrafast, zerolatency, constrained baseline, raw frames on stdin one at a time, the
 *   time from a frame's first byte written to its encoded frame read (an access unit delimiter
 *   marks each), so it includes moving the raw frame through the pipe.
 * - The agent's encoder adapters through the encoder interface (scripts/bench-encoder-adapters.ts):
 *   the FFmpeg adapter with Debian's ffmpeg, the Linux FFmpeg 4.1 and ffmpeg.exe under Wine,
 *   against the WebCodecs adapter measured in the same run.
 * Wine is not Windows: the Wine column says the executable runs and roughly what x264 costs; a
 * Windows machine (and its hardware encoders) will differ. Needs wine and ffmpeg
 * (scripts/setup-system.sh). `--adapters-only` skips the first two parts.
 * Writes bench-results/windows-encoder-<time>.json.
 */
import { type ChildProcessWithoutNullStreams, execFile, spawn } from "node:child_process";
import {
  closeSync,
  createReadStream,
  mkdirSync,
  mkdtempSync,
  openSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";
import { createGzip } from "node:zlib";
import { packageDir } from "../build/packages.ts";
import { adapterCandidates, adapterTable, benchAdapters } from "./bench-encoder-adapters.ts";

const run = promisify(execFile);
const WIDTH = 1920;
const HEIGHT = 1080;
const FRAMES = 40;
const RUNS = 3;
const cache = join("node_modules", ".cache", "sos-build");

type Candidate = { name: string; version: string; file: string };
const CANDIDATES: readonly Candidate[] = [
  { name: "@ffmpeg-installer/win32-x64", version: "4.1.0", file: "ffmpeg.exe" },
  { name: "@seydx/node-av-win32-x64-msvc", version: "6.1.1", file: "node-av.node" },
];

async function gzipSize(file: string): Promise<number> {
  let size = 0;
  await pipeline(
    createReadStream(file),
    createGzip({ level: 6 }),
    new Writable({
      write: (chunk: Buffer, _enc, done) => {
        size += chunk.byteLength;
        done();
      },
    }),
  );
  return size;
}

/** The licence-deciding FFmpeg configure flags found in a binary. */
async function licenceFlags(file: string): Promise<string[]> {
  const { stdout } = await run("strings", ["-n", "12", file], { maxBuffer: 512 * 1024 * 1024 });
  const flags = new Set(
    stdout.match(/--enable-(gpl|nonfree|version3|libx264|libfdk-aac|nvenc|amf|libmfx|libvpl)\b/g),
  );
  return [...flags].sort();
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** Renders `count` frames of FFmpeg's moving test picture as raw `pixelFormat` into `file`. */
async function makeFrames(ffmpeg: string, pixelFormat: string, file: string): Promise<void> {
  await run(ffmpeg, [
    "-hide_banner",
    "-loglevel",
    "error",
    "-f",
    "lavfi",
    "-i",
    `testsrc2=size=${WIDTH}x${HEIGHT}:rate=20`,
    "-frames:v",
    String(FRAMES),
    "-pix_fmt",
    pixelFormat,
    "-f",
    "rawvideo",
    "-y",
    file,
  ]);
}

type Result = { latencyMs: { p50: number; p95: number }; cpuMsPerFrame: number };

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** Feeds the frames one at a time and times each until its first encoded bytes come back. */
async function encode(
  command: readonly string[],
  pixelFormat: string,
  frames: string,
  env: NodeJS.ProcessEnv,
) {
  const frameBytes = statSync(frames).size / FRAMES;
  const args = [
    ...command.slice(1),
    "-hide_banner",
    "-benchmark",
    "-f",
    "rawvideo",
    "-pix_fmt",
    pixelFormat,
    "-s",
    `${WIDTH}x${HEIGHT}`,
    "-r",
    "20",
    "-i",
    "-",
    "-c:v",
    "libx264",
    "-preset",
    "ultrafast",
    "-tune",
    "zerolatency",
    "-profile:v",
    "baseline",
    "-pix_fmt",
    "yuv420p",
    "-b:v",
    "3M",
    "-bsf:v",
    "h264_metadata=aud=insert",
    "-flush_packets",
    "1",
    "-f",
    "h264",
    "-",
  ];
  const child: ChildProcessWithoutNullStreams = spawn(command[0] ?? "", args, { env });
  let stderr = "";
  child.stderr.on("data", (data: Buffer) => {
    stderr += data.toString();
  });
  // Each encoded frame starts with an access unit delimiter (inserted by h264_metadata), so the
  // count of delimiters read says how many frames came back.
  const delimiter = Buffer.from([0, 0, 0, 1, 9]);
  let tail = Buffer.alloc(0);
  let encoded = 0;
  const wakers = new Set<() => void>();
  child.stdout.on("data", (data: Buffer) => {
    const view = Buffer.concat([tail, data]);
    for (let at = view.indexOf(delimiter); at !== -1; at = view.indexOf(delimiter, at + 1)) encoded++;
    tail = view.subarray(Math.max(0, view.byteLength - (delimiter.byteLength - 1)));
    for (const wake of wakers) wake();
  });
  const exited = new Promise<number | null>((resolve) => child.once("close", resolve));
  // An encoder that dies mid-run closes its stdin; its exit code and stderr say why (below).
  child.stdin.on("error", () => undefined);
  const frameBack = (count: number) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (encoded < count && child.exitCode === null) return;
        wakers.delete(check);
        resolve();
      };
      wakers.add(check);
      void exited.then(check);
      check();
    });
  const fd = openSync(frames, "r");
  const frame = Buffer.alloc(frameBytes);
  const latencies: number[] = [];
  try {
    for (let i = 0; i < FRAMES; i++) {
      readSync(fd, frame, 0, frameBytes, i * frameBytes);
      const sent = performance.now();
      child.stdin.write(frame);
      await frameBack(i + 1);
      latencies.push(performance.now() - sent);
    }
  } finally {
    closeSync(fd);
  }
  child.stdin.end();
  const code = await exited;
  if (code !== 0) throw new Error(`${command.join(" ")} exited with ${code}: ${stderr.slice(-2000)}`);
  const bench = /bench: utime=([\d.]+)s stime=([\d.]+)s/.exec(stderr);
  const cpu = bench === null ? Number.NaN : (Number(bench[1]) + Number(bench[2])) * 1000;
  // The first frame includes the process's and x264's start-up; latency is taken over the others.
  const steady = latencies.slice(1);
  return {
    latencyMs: { p50: percentile(steady, 50), p95: percentile(steady, 95) },
    cpuMsPerFrame: cpu / FRAMES,
  } satisfies Result;
}

async function median(runs: number, once: () => Promise<Result>): Promise<Result> {
  const results: Result[] = [];
  for (let i = 0; i < runs; i++) results.push(await once());
  const pick = (f: (r: Result) => number) => percentile(results.map(f), 50);
  return {
    latencyMs: { p50: pick((r) => r.latencyMs.p50), p95: pick((r) => r.latencyMs.p95) },
    cpuMsPerFrame: pick((r) => r.cpuMsPerFrame),
  };
}

const work = mkdtempSync(join(tmpdir(), "sos-win-encoder-"));
const prefix = join(work, "prefix");
const wineEnv: NodeJS.ProcessEnv = {
  PATH: process.env.PATH ?? "/usr/bin:/bin",
  HOME: work,
  WINEPREFIX: prefix,
  WINEARCH: "win64",
  WINEDEBUG: "-all",
  WINEDLLOVERRIDES: "mscoree,mshtml=",
};
const adaptersOnly = process.argv.includes("--adapters-only");
try {
  const sizes = [];
  for (const candidate of adaptersOnly ? [] : CANDIDATES) {
    process.stderr.write(`bench: fetching ${candidate.name}@${candidate.version}\n`);
    const dir = await packageDir(candidate.name, candidate.version, cache);
    const file = join(dir, candidate.file);
    sizes.push({
      package: `${candidate.name}@${candidate.version}`,
      file: candidate.file,
      size: statSync(file).size,
      gzipSize: await gzipSize(file),
      flags: await licenceFlags(file),
    });
  }
  const linux = join(await packageDir("@ffmpeg-installer/linux-x64", "4.1.0", cache), "ffmpeg");
  const windows = join(await packageDir("@ffmpeg-installer/win32-x64", "4.1.0", cache), "ffmpeg.exe");
  process.stderr.write("bench: preparing a Wine prefix (no display needed for ffmpeg.exe)\n");
  await run("wineboot", ["-i"], { env: wineEnv, timeout: 180_000 });

  const results: Record<string, Result> = {};
  for (const pixelFormat of adaptersOnly ? [] : ["yuv420p", "bgra"]) {
    const frames = join(work, `frames-${pixelFormat}.raw`);
    await makeFrames(linux, pixelFormat, frames);
    process.stderr.write(`bench: ${pixelFormat}: Linux ffmpeg 4.1\n`);
    results[`linux ffmpeg 4.1, ${pixelFormat} in`] = await median(RUNS, () =>
      encode([linux], pixelFormat, frames, process.env),
    );
    process.stderr.write(`bench: ${pixelFormat}: ffmpeg.exe 4.1 under Wine\n`);
    results[`ffmpeg.exe 4.1 under Wine, ${pixelFormat} in`] = await median(RUNS, () =>
      encode(["wine", windows], pixelFormat, frames, wineEnv),
    );
    rmSync(frames);
  }

  const adapters = await benchAdapters(
    adapterCandidates([
      { name: "Debian ffmpeg", command: { file: "ffmpeg" } },
      { name: "Linux FFmpeg 4.1", command: { file: linux } },
      { name: "ffmpeg.exe 4.1 under Wine", command: { file: "wine", leadingArgs: [windows], env: wineEnv } },
    ]),
    RUNS,
    (line) => process.stderr.write(`bench: ${line}\n`),
  );

  const candidateLines = [
    "Bytes added to the win-x64 download:",
    ...sizes.map(
      (s) => `  ${s.package}  ${s.file}  ${mib(s.size)}, gzip ${mib(s.gzipSize)}  ${s.flags.join(" ")}`,
    ),
    `x264 ultrafast/zerolatency/baseline, ${WIDTH}x${HEIGHT} testsrc2, ${FRAMES} frames one at a time, median of ${RUNS} runs:`,
    ...Object.entries(results).map(
      ([name, r]) =>
        `  ${name.padEnd(36)} latency p50 ${r.latencyMs.p50.toFixed(1)} ms, p95 ${r.latencyMs.p95.toFixed(1)} ms; CPU ${r.cpuMsPerFrame.toFixed(1)} ms/frame`,
    ),
  ];
  const lines = [
    ...(adaptersOnly ? [] : candidateLines),
    ...adapterTable(adapters),
    "Wine is not Windows; the machine is shared and noisy. WebCodecs CPU is this whole process's, FFmpeg's its own process's.",
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
  mkdirSync("bench-results", { recursive: true });
  const out = join("bench-results", `windows-encoder-${new Date().toISOString().replaceAll(":", "-")}.json`);
  writeFileSync(out, JSON.stringify({ sizes, results, adapters, frames: FRAMES, runs: RUNS }, null, 2));
  process.stderr.write(`bench: wrote ${out}\n`);
} finally {
  await run("wineserver", ["-k"], { env: wineEnv }).catch(() => undefined);
  rmSync(work, { recursive: true, force: true });
}
