/**
 * `node scripts/bench-encoder-quality.ts`: bits against picture quality for settings of the
 * WebCodecs encoder (H.264 by default, or VP8, VP9, AV1) and of the system FFmpeg's AV1 and VP9
 * encoders on scrolling terminal text. Captures a sequence of 1920x1080 frames of the
 * `text` workload of bench:vs-vnc under Xvfb (MIT-SHM, converted to I420 as the agent does), then
 * encodes the same sequence with each setting, decodes it again with the addon's decoder and
 * prints kbit per frame, encode wall time per frame and the luma PSNR of the decoded pictures
 * against the captured ones (mean and worst frame). One frame in the encoder at a time, as in the
 * agent. Writes the decoded luma of one frame per setting to bench-results/quality-<label>.pgm
 * (label: codec-setting, e.g. h264-cbr-3M-20fps, or the ff-* setting's name), and first prints how
 * many captured frames changed (a workload that did not scroll measures nothing).
 *
 * Environment: PROBE_FRAMES (default 40), PROBE_INTERVAL_MS between captures (default 50: the
 * pace of a 20 fps capture), PROBE_CONFIGS (comma-separated names of the settings below; default all),
 * PROBE_TOPOFFS (default 3): after the sequence, the last picture is encoded again this many times
 * (as the capture worker's top-offs do once the screen is still, see agent/media/top-off.ts) and
 * the size and PSNR of each is printed ("topOffs"), PROBE_TOPOFF_GAP_MS apart (default 200);
 * PROBE_TOPOFF_KEY=1 makes them keyframes, =first the first of them; the last scrolled frame and
 * the last top-off are written to bench-results/quality-<label>-{still,topped}.pgm. The capture
 * starts once the terminal shows text, and PROBE_WARMUP_MS (default 1000) after that.
 *
 * PROBE_CODEC: h264 (default), vp8, vp9 or av1, with the addon's encoder (libx264, libvpx,
 * libvpx-vp9, libaom-av1 in 1.3.1; software only, hardwareAcceleration "prefer-software") and
 * decoder (libdav1d for AV1). The bitrate settings below apply to every codec; "qp-*" are H.264
 * quantizers (0-51), "q-*" the WebCodecs VP9/AV1 quantizer (0-255). PROBE_LATENCY=realtime|quality
 * overrides the latencyMode of the setting (VP8's default: realtime; VP9 and AV1: realtime).
 * An encoder that holds frames back (no chunk for a frame before the next goes in: a lookahead)
 * is detected after PROBE_FIRST_CHUNK_MS (default 20000) without a chunk for the first frame; the
 * rest are then fed without waiting and flushed at the end, and "heldFrames" says how many frames
 * went in before the first chunk came out (the latency an agent would add, in frames).
 *
 * The "ff-*" settings below send the same frames through the system's FFmpeg executable instead
 * (libaom-av1, libsvtav1 and libvpx-vp9 in realtime modes with their screen-content options; raw
 * I420 on stdin, IVF out, one process per setting; PROBE_FFMPEG=1: all of them by default),
 * decoded with the addon's decoder; "encodeMsP50" is then FFmpeg's whole run (start-up included)
 * divided by the frames, and "cpuMsPerFrame" its user + system CPU time (-benchmark) per frame
 * (for the addon: the process's CPU time over the run, all threads). They can be mixed with the
 * addon's settings in PROBE_CONFIGS, so that both encode the same captured frames.
 */
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import {
  EncodedVideoChunk,
  type EncodedVideoChunkType,
  VideoDecoder,
  VideoEncoder,
  type VideoEncoderConfig,
  type VideoEncoderEncodeOptions,
  VideoFrame,
} from "@napi-rs/webcodecs";
import { openMonitor } from "../agent/media/capture.ts";
import { I420Picture } from "../agent/media/i420.ts";
import { closeShmConnection, openShmMonitor } from "../agent/media/x11-capture.ts";
import { startXvfb, windowByName } from "../tests/helpers/xvfb.ts";
import { SCROLL_WORKLOADS } from "./bench-vnc-rig.ts";

const FRAMES = Number(process.env.PROBE_FRAMES ?? 40);
const INTERVAL_MS = Number(process.env.PROBE_INTERVAL_MS ?? 50);
const CODECS = {
  h264: "avc1.42e028",
  vp8: "vp8",
  vp9: "vp09.00.10.08",
  av1: "av01.0.08M.08",
} as const;
type Codec = keyof typeof CODECS;
const isCodec = (name: string): name is Codec => Object.hasOwn(CODECS, name);
const CODEC_NAME = process.env.PROBE_CODEC ?? "h264";
if (!isCodec(CODEC_NAME)) throw new Error(`PROBE_CODEC: one of ${Object.keys(CODECS).join(", ")}`);
const CODEC: Codec = CODEC_NAME;
const LATENCY_ENV = process.env.PROBE_LATENCY;
if (LATENCY_ENV !== undefined && LATENCY_ENV !== "realtime" && LATENCY_ENV !== "quality") {
  throw new Error("PROBE_LATENCY: realtime or quality");
}
const LATENCY: "realtime" | "quality" | undefined = LATENCY_ENV;
const FIRST_CHUNK_MS = Number(process.env.PROBE_FIRST_CHUNK_MS ?? 20_000);
const FFMPEG = process.env.PROBE_FFMPEG === "1";
const TOPOFFS = Number(process.env.PROBE_TOPOFFS ?? 3);
/** "1": every top-off a keyframe; "first": the first one only. */
const TOPOFF_KEY = process.env.PROBE_TOPOFF_KEY;
/** The time between top-offs (the capture worker's TOP_OFF_AFTER_MS; x264's rate control sees it). */
const TOPOFF_GAP_MS = Number(process.env.PROBE_TOPOFF_GAP_MS ?? 200);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Setting = {
  readonly config: Omit<VideoEncoderConfig, "codec" | "width" | "height">;
  /** Per-frame quantizer (bitrateMode "quantizer"), in the codec's WebCodecs scale. */
  readonly quantizer?: number;
};

const h264 = (bitrate: number, framerate: number, bitrateMode: "constant" | "variable") => ({
  config: { bitrate, framerate, bitrateMode, latencyMode: "quality" as const },
});
const qp = (quantizer: number) => ({
  config: { framerate: 30, bitrateMode: "quantizer" as const, latencyMode: "quality" as const },
  quantizer,
});

const SETTINGS: Record<string, Setting> = {
  "cbr-300k-20fps": h264(300_000, 20, "constant"),
  "cbr-500k-20fps": h264(500_000, 20, "constant"),
  "cbr-1M-20fps": h264(1_000_000, 20, "constant"),
  "cbr-3M-20fps": h264(3_000_000, 20, "constant"),
  "cbr-3M-30fps": h264(3_000_000, 30, "constant"),
  "cbr-2M-30fps": h264(2_000_000, 30, "constant"),
  "cbr-1.5M-30fps": h264(1_500_000, 30, "constant"),
  "cbr-1M-30fps": h264(1_000_000, 30, "constant"),
  "cbr-500k-30fps": h264(500_000, 30, "constant"),
  "vbr-3M-30fps": h264(3_000_000, 30, "variable"),
  "vbr-1M-30fps": h264(1_000_000, 30, "variable"),
  "qp-20": qp(20),
  "qp-26": qp(26),
  "qp-30": qp(30),
  "qp-34": qp(34),
  "qp-38": qp(38),
  // VP9 / AV1 (WebCodecs scale 0-255; the addon divides by four for libvpx / libaom's 0-63).
  "q-80": qp(80),
  "q-120": qp(120),
  "q-160": qp(160),
  "q-200": qp(200),
};

/**
 * FFmpeg settings (PROBE_FFMPEG=1): codec options for the system's FFmpeg, for what the addon
 * cannot ask of its encoders (realtime usage, no lookahead, screen-content tools).
 */
const rate = (bitrate: number) => {
  const b = String(bitrate);
  return ["-b:v", b, "-maxrate", b, "-bufsize", String(bitrate / 2)];
};
/** libaom speeds 9 and 10 (realtime only) are past FFmpeg 5.1's -cpu-used range: set through aom-params. */
const aom = (bitrate: number, speed: number, tuning = ["-tiles", "2x2", "-aq-mode", "3"]) => [
  ...["-c:v", "libaom-av1", "-usage", "realtime", "-lag-in-frames", "0"],
  ...["-row-mt", "1", ...tuning, "-g", "250", ...rate(bitrate)],
  ...["-aom-params", `tune-content=screen:cpu-used=${speed}`],
];
const svt = (bitrate: number, preset: number) => [
  ...["-c:v", "libsvtav1", "-preset", String(preset), "-g", "250", "-b:v", String(bitrate)],
  ...["-svtav1-params", "scm=1:pred-struct=1:rc=2:lookahead=0"],
];
const vp9 = (bitrate: number, screen: boolean) => [
  ...["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-lag-in-frames", "0"],
  ...["-row-mt", "1", "-tile-columns", "2", "-g", "250", ...rate(bitrate)],
  ...(screen ? ["-tune-content", "screen"] : []),
];
const FFMPEG_SETTINGS: Record<string, { codec: Codec; args: string[] }> = {
  "ff-aom-300k-s8": { codec: "av1", args: aom(300_000, 8) },
  "ff-aom-300k-s9": { codec: "av1", args: aom(300_000, 9) },
  "ff-aom-1M-s10": { codec: "av1", args: aom(1_000_000, 10) },
  /** One tile, no cyclic-refresh AQ: what tiles and AQ cost in bits. */
  "ff-aom-300k-s10-plain": { codec: "av1", args: aom(300_000, 10, ["-aq-mode", "0"]) },
  "ff-aom-300k-s8-plain": { codec: "av1", args: aom(300_000, 8, ["-aq-mode", "0"]) },
  "ff-aom-600k-s8-plain": { codec: "av1", args: aom(600_000, 8, ["-aq-mode", "0"]) },
  "ff-aom-1M-s8-plain": { codec: "av1", args: aom(1_000_000, 8, ["-aq-mode", "0"]) },
  "ff-aom-300k-s10": { codec: "av1", args: aom(300_000, 10) },
  "ff-aom-150k-s10": { codec: "av1", args: aom(150_000, 10) },
  "ff-aom-600k-s10": { codec: "av1", args: aom(600_000, 10) },
  "ff-svt-300k-p12": { codec: "av1", args: svt(300_000, 12) },
  "ff-svt-300k-p10": { codec: "av1", args: svt(300_000, 10) },
  "ff-vp9-300k-screen": { codec: "vp9", args: vp9(300_000, true) },
  "ff-vp9-600k-screen": { codec: "vp9", args: vp9(600_000, true) },
  "ff-vp9-300k": { codec: "vp9", args: vp9(300_000, false) },
};

const xvfb = await startXvfb({ width: 1920, height: 1080 });
process.env.DISPLAY = xvfb.display;
xvfb.client("xterm", [
  "-geometry",
  "318x52+0+400",
  "-T",
  "sos-scrolling",
  "-e",
  "sh",
  "-c",
  SCROLL_WORKLOADS.text,
]);
await windowByName(xvfb, "sos-scrolling");

const fallback = openMonitor(0);
const monitor = (await openShmMonitor(fallback.geometry)) ?? fallback;
let picture: I420Picture | undefined;
/**
 * The workload's shell lists all of /usr with find before its first line (seconds when loaded or
 * with a cold cache): wait until the terminal (white, from row 400 down) shows text (dark pixels
 * in a tenth of its rows at least), at most 60 s.
 */
const textBy = performance.now() + 60_000;
for (;;) {
  const frame = await monitor.capture();
  picture ??= new I420Picture(frame.width, frame.height);
  picture.update(frame);
  const { width: w, height: h, data } = picture;
  let rowsWithText = 0;
  for (let y = 420; y < h; y += 1) {
    // Left of the terminal's right edge (the dark root window shows beyond it).
    for (let x = 8; x < 1800; x += 1) {
      if ((data[y * w + x] ?? 255) < 128) {
        rowsWithText += 1;
        break;
      }
    }
  }
  if (rowsWithText > (h - 420) / 10) break;
  if (performance.now() > textBy) throw new Error("the terminal showed no text within 60 s");
  await sleep(200);
}
await sleep(Number(process.env.PROBE_WARMUP_MS ?? 1_000));
const source: Uint8Array[] = [];
for (let i = 0; i < FRAMES; i += 1) {
  await sleep(INTERVAL_MS);
  const frame = await monitor.capture();
  picture ??= new I420Picture(frame.width, frame.height);
  picture.update(frame);
  source.push(picture.data.slice());
}
await closeShmConnection();
/** Rows of the luma that differ from the frame before: how much of the workload moved. */
function changedRows(a: Uint8Array, b: Uint8Array, w: number, h: number): number {
  let rows = 0;
  for (let y = 0; y < h; y += 1) {
    for (let x = 0; x < w; x += 1) {
      if (a[y * w + x] !== b[y * w + x]) {
        rows += 1;
        break;
      }
    }
  }
  return rows;
}
if (picture !== undefined) {
  const moved = source
    .slice(1)
    .map((frame, index) =>
      changedRows(frame, source[index] ?? new Uint8Array(), picture?.width ?? 0, picture?.height ?? 0),
    );
  console.log(
    JSON.stringify({
      source: `${source.length} frames`,
      framesChanged: moved.filter((rows) => rows > 0).length,
      changedRowsMean: Math.round(moved.reduce((a, b) => a + b, 0) / moved.length),
    }),
  );
}
await xvfb.stop();
if (picture === undefined) throw new Error("no frame captured");
const { width, height } = picture;
const lumaBytes = width * height;

function psnr(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < lumaBytes; i += 1) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    sum += d * d;
  }
  const mse = sum / lumaBytes;
  return mse === 0 ? 99 : 10 * Math.log10((255 * 255) / mse);
}

type Chunk = { data: Uint8Array; type: EncodedVideoChunkType; timestamp: number };
type Encoded = {
  chunks: Chunk[];
  /** Wall time per frame (the whole run divided by the frames when they were not one at a time). */
  wallMs: number[];
  /** Frames that went in before the first chunk came out (0: one in, one out). */
  heldFrames: number;
  /** CPU time (user + system, all threads) per frame: less sensitive to the machine's load. */
  cpuMs: number;
};

/** Captures INTERVAL_MS apart, then top-offs TOPOFF_GAP_MS apart. */
function timestampUs(index: number): number {
  const topOff = Math.max(0, index - (FRAMES - 1));
  return ((index - topOff) * INTERVAL_MS + topOff * TOPOFF_GAP_MS) * 1000;
}

/** The captured frames, then the last one again TOPOFFS times. */
function sequence(): Uint8Array[] {
  const last = source.at(-1) ?? new Uint8Array();
  return [...source, ...Array.from({ length: TOPOFFS }, () => last)];
}

function configFor(setting: Setting): VideoEncoderConfig {
  const size = { width, height, hardwareAcceleration: "prefer-software" as const };
  if (CODEC === "h264") {
    return { ...setting.config, ...size, codec: CODECS.h264, avc: { format: "annexb" } };
  }
  // VP8 as the agent configures it; VP9 and AV1 realtime unless PROBE_LATENCY says otherwise.
  return { ...setting.config, ...size, codec: CODECS[CODEC], latencyMode: LATENCY ?? "realtime" };
}

function quantizerOptions(quantizer: number): VideoEncoderEncodeOptions {
  if (CODEC === "h264") return { avc: { quantizer } };
  if (CODEC === "vp9") return { vp9: { quantizer } };
  if (CODEC === "av1") return { av1: { quantizer } };
  return {};
}

async function encodeAll(setting: Setting): Promise<Encoded> {
  const chunks: Chunk[] = [];
  let out: (() => void) | undefined;
  let submitted = 0;
  let heldFrames = 0;
  const encoder = new VideoEncoder({
    output: (chunk) => {
      const data = new Uint8Array(chunk.byteLength);
      chunk.copyTo(data);
      if (chunks.length === 0) heldFrames = submitted - 1;
      chunks.push({ data, type: chunk.type, timestamp: chunk.timestamp });
      out?.();
    },
    error: (error) => {
      throw error;
    },
  });
  const config = configFor(setting);
  if (LATENCY !== undefined) config.latencyMode = LATENCY;
  encoder.configure(config);
  const cpuBefore = process.cpuUsage();
  const wallMs: number[] = [];
  // One frame at a time as in the agent, until the encoder shows it holds frames back.
  let pipelined = false;
  /** When frames started going in without waiting (after the first frame's wait). */
  let pipelineStart = 0;
  for (const [index, data] of sequence().entries()) {
    const frame = new VideoFrame(data, {
      format: "I420",
      codedWidth: width,
      codedHeight: height,
      timestamp: timestampUs(index),
    });
    const options: VideoEncoderEncodeOptions = {
      keyFrame:
        index === 0 ||
        (TOPOFF_KEY === "1" && index >= source.length) ||
        (TOPOFF_KEY === "first" && index === source.length),
      ...(setting.quantizer === undefined ? {} : quantizerOptions(setting.quantizer)),
    };
    const done = new Promise<boolean>((resolve) => {
      out = () => resolve(true);
      if (index === 0) setTimeout(() => resolve(false), FIRST_CHUNK_MS);
    });
    const start = performance.now();
    encoder.encode(frame, options);
    submitted += 1;
    frame.close();
    if (pipelined) {
      // Until the encoder has taken the frame (so a chunk it gives for it has come out by then).
      while (encoder.encodeQueueSize > 0) await sleep(2);
      await sleep(0);
      continue;
    }
    if (!(await done)) {
      pipelined = true;
      pipelineStart = performance.now();
      console.error(`${CODEC}: no chunk ${FIRST_CHUNK_MS} ms after the first frame; feeding the rest`);
      continue;
    }
    wallMs.push(performance.now() - start);
  }
  if (pipelined) {
    await encoder.flush();
    // The frames after the first, to the end of the flush: the encoder's throughput.
    const perFrame = (performance.now() - pipelineStart) / (submitted - 1);
    wallMs.splice(0, wallMs.length, ...Array.from({ length: submitted }, () => perFrame));
  }
  const cpu = process.cpuUsage(cpuBefore);
  encoder.close();
  const cpuMs = (cpu.user + cpu.system) / 1000 / submitted;
  return { chunks, wallMs, heldFrames: pipelined ? heldFrames : 0, cpuMs };
}

/** IVF (32-byte file header, then a 12-byte header before each frame: 4 bytes of size, 8 of pts). */
function ivfFrames(file: Buffer): Uint8Array[] {
  const frames: Uint8Array[] = [];
  let at = file.readUInt16LE(6);
  while (at + 12 <= file.byteLength) {
    const size = file.readUInt32LE(at);
    frames.push(new Uint8Array(file.subarray(at + 12, at + 12 + size)));
    at += 12 + size;
  }
  return frames;
}

/** The sequence through the system's FFmpeg in one run. */
async function encodeWithFfmpeg(args: readonly string[]): Promise<Encoded> {
  const frames = sequence();
  const started = performance.now();
  const child = spawn(
    "ffmpeg",
    [
      ...["-hide_banner", "-nostats", "-loglevel", "info", "-benchmark"],
      ...["-f", "rawvideo", "-pix_fmt", "yuv420p", "-video_size", `${width}x${height}`],
      ...["-framerate", String(1000 / INTERVAL_MS), "-i", "pipe:0", "-an", ...args],
      ...["-f", "ivf", "pipe:1"],
    ],
    { stdio: ["pipe", "pipe", "pipe"] },
  );
  const stdout: Buffer[] = [];
  let stderr = "";
  child.stdout.on("data", (bytes: Buffer) => stdout.push(bytes));
  child.stderr.on("data", (bytes: Buffer) => {
    stderr += bytes.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  for (const data of frames) {
    if (!child.stdin.write(data)) await new Promise((resolve) => child.stdin.once("drain", resolve));
  }
  child.stdin.end();
  const code = await exited;
  if (code !== 0) throw new Error(`ffmpeg exited with ${code}: ${stderr}`);
  const rtime = performance.now() - started;
  const bench = /utime=([\d.]+)s stime=([\d.]+)s/.exec(stderr);
  const cpuMs =
    ((Number(bench?.[1] ?? Number.NaN) + Number(bench?.[2] ?? Number.NaN)) * 1000) / frames.length;
  const data = ivfFrames(Buffer.concat(stdout));
  const chunks = data.map((bytes, index) => ({
    data: bytes,
    type: (index === 0 ? "key" : "delta") as EncodedVideoChunkType,
    timestamp: timestampUs(index),
  }));
  return { chunks, wallMs: frames.map(() => rtime / frames.length), heldFrames: 0, cpuMs };
}

async function decodeAll(chunks: readonly Chunk[], codec: Codec): Promise<Uint8Array[]> {
  const pictures: Promise<Uint8Array>[] = [];
  const decoder = new VideoDecoder({
    output: (frame) => {
      const bytes = new Uint8Array(frame.allocationSize());
      pictures.push(
        frame.copyTo(bytes).then(() => {
          frame.close();
          return bytes;
        }),
      );
    },
    error: (error) => {
      throw error;
    },
  });
  decoder.configure({ codec: CODECS[codec], codedWidth: width, codedHeight: height });
  for (const chunk of chunks) decoder.decode(new EncodedVideoChunk(chunk));
  await decoder.flush();
  decoder.close();
  return Promise.all(pictures);
}

// The addon's callbacks do not keep Node running on their own.
const keepAlive = setInterval(() => undefined, 1_000);
mkdirSync("bench-results", { recursive: true });
const table: Record<string, unknown> = FFMPEG ? FFMPEG_SETTINGS : SETTINGS;
const wanted = process.env.PROBE_CONFIGS?.split(",") ?? Object.keys(table);
const shown = Math.floor(FRAMES / 2);
writeFileSync("bench-results/quality-source.pgm", pgm(source[shown] ?? new Uint8Array()));
function pgm(luma: Uint8Array): Buffer {
  return Buffer.concat([
    Buffer.from(`P5 ${width} ${height} 255\n`),
    Buffer.from(luma.subarray(0, lumaBytes)),
  ]);
}

for (const name of wanted) {
  const ffmpegSetting = FFMPEG_SETTINGS[name];
  const setting = SETTINGS[name];
  if (ffmpegSetting === undefined && setting === undefined) throw new Error(`unknown setting ${name}`);
  const codec = ffmpegSetting?.codec ?? CODEC;
  const { chunks, wallMs, heldFrames, cpuMs } =
    ffmpegSetting !== undefined
      ? await encodeWithFfmpeg(ffmpegSetting.args)
      : await encodeAll(setting ?? { config: {} });
  const decoded = await decodeAll(chunks, codec);
  const label = ffmpegSetting !== undefined ? name : `${codec}-${name}`;
  // The first frame is the keyframe: bits and quality are reported for the frames after it.
  const topOffChunks = chunks.slice(source.length);
  const topOffs = decoded.slice(source.length).map((luma, index) => ({
    kbit: (((topOffChunks[index]?.data.byteLength ?? 0) * 8) / 1000).toFixed(1),
    key: topOffChunks[index]?.type === "key",
    psnr: psnr(luma, source.at(-1) ?? new Uint8Array()).toFixed(1),
  }));
  const deltas = chunks.slice(1, source.length);
  const kbitPerFrame =
    deltas.reduce((sum, chunk) => sum + chunk.data.byteLength * 8, 0) / deltas.length / 1000;
  const psnrs = decoded
    .slice(1, source.length)
    .map((luma, index) => psnr(luma, source[index + 1] ?? new Uint8Array()));
  wallMs.sort((a, b) => a - b);
  writeFileSync(`bench-results/quality-${label}.pgm`, pgm(decoded[shown] ?? new Uint8Array()));
  if (TOPOFFS > 0) {
    // The last scrolled frame as decoded, and the same picture after its last top-off.
    writeFileSync(
      `bench-results/quality-${label}-still.pgm`,
      pgm(decoded[source.length - 1] ?? new Uint8Array()),
    );
    writeFileSync(`bench-results/quality-${label}-topped.pgm`, pgm(decoded.at(-1) ?? new Uint8Array()));
    writeFileSync("bench-results/quality-source-last.pgm", pgm(source.at(-1) ?? new Uint8Array()));
  }
  console.log(
    JSON.stringify({
      setting: label,
      frames: `${chunks.length} chunks, ${decoded.length} decoded, ${source.length + TOPOFFS} in`,
      keys: chunks.filter((chunk) => chunk.type === "key").length,
      heldFrames,
      keyKbit: ((chunks[0]?.data.byteLength ?? 0) * 8) / 1000,
      kbitPerFrame: kbitPerFrame.toFixed(1),
      mbpsAt20fps: ((kbitPerFrame * 20) / 1000).toFixed(2),
      psnrMean: (psnrs.reduce((a, b) => a + b, 0) / psnrs.length).toFixed(1),
      psnrWorst: Math.min(...psnrs).toFixed(1),
      encodeMsP50: wallMs[Math.floor(wallMs.length / 2)]?.toFixed(1),
      cpuMsPerFrame: cpuMs.toFixed(1),
      lastPsnr: psnrs.at(-1)?.toFixed(1),
      topOffs,
    }),
  );
}
clearInterval(keepAlive);
process.exit(0);
