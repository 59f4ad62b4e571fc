/**
 * `node scripts/bench-encoder-quality.ts`: bits against picture quality for H.264 settings of the
 * WebCodecs encoder on scrolling terminal text. Captures a sequence of 1920x1080 frames of the
 * `text` workload of bench:vs-vnc under Xvfb (MIT-SHM, converted to I420 as the agent does), then
 * encodes the same sequence with each setting, decodes it again with the addon's decoder and
 * prints kbit per frame, encode wall time per frame and the luma PSNR of the decoded pictures
 * against the captured ones (mean and worst frame). One frame in the encoder at a time, as in the
 * agent. Writes the decoded luma of one frame per setting to bench-results/quality-<name>.pgm.
 *
 * Environment: PROBE_FRAMES (default 40), PROBE_INTERVAL_MS between captures (default 50: the
 * pace of a 20 fps capture), PROBE_CONFIGS (comma-separated names of the settings below; default all),
 * PROBE_TOPOFFS (default 3): after the sequence, the last picture is encoded again this many times
 * (as the capture worker's top-offs do once the screen is still, see agent/media/top-off.ts) and
 * the size and PSNR of each is printed ("topOffs"), PROBE_TOPOFF_GAP_MS apart (default 200);
 * PROBE_TOPOFF_KEY=1 makes them keyframes, =first the first of them; the last scrolled frame and
 * the last top-off are written to bench-results/quality-<name>-{still,topped}.pgm. PROBE_WARMUP_MS (default 1000): the wait for the
 * terminal to start scrolling (under load it needed several seconds; a keyKbit near 10 means an
 * empty screen was measured). PROBE_CODEC=vp8 encodes with VP8 instead.
 */
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
/** "vp8": the settings' bitrates and frame rates with VP8 as the agent configures it (realtime). */
const CODEC = process.env.PROBE_CODEC ?? "h264";
const TOPOFFS = Number(process.env.PROBE_TOPOFFS ?? 3);
/** "1": every top-off a keyframe; "first": the first one only. */
const TOPOFF_KEY = process.env.PROBE_TOPOFF_KEY;
/** The time between top-offs (the capture worker's TOP_OFF_AFTER_MS; x264's rate control sees it). */
const TOPOFF_GAP_MS = Number(process.env.PROBE_TOPOFF_GAP_MS ?? 200);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Setting = {
  readonly config: Omit<VideoEncoderConfig, "codec" | "width" | "height">;
  /** Per-frame quantizer (bitrateMode "quantizer"). */
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
await sleep(Number(process.env.PROBE_WARMUP_MS ?? 1_000));

const fallback = openMonitor(0);
const monitor = (await openShmMonitor(fallback.geometry)) ?? fallback;
const source: Uint8Array[] = [];
let picture: I420Picture | undefined;
for (let i = 0; i < FRAMES; i += 1) {
  await sleep(INTERVAL_MS);
  const frame = await monitor.capture();
  picture ??= new I420Picture(frame.width, frame.height);
  picture.update(frame);
  source.push(picture.data.slice());
}
await closeShmConnection();
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

/** Captures INTERVAL_MS apart, then top-offs TOPOFF_GAP_MS apart. */
function timestampUs(index: number): number {
  const topOff = Math.max(0, index - (FRAMES - 1));
  return ((index - topOff) * INTERVAL_MS + topOff * TOPOFF_GAP_MS) * 1000;
}

async function encodeAll(setting: Setting): Promise<{ chunks: Chunk[]; wallMs: number[] }> {
  const chunks: Chunk[] = [];
  let out: (() => void) | undefined;
  const encoder = new VideoEncoder({
    output: (chunk) => {
      const data = new Uint8Array(chunk.byteLength);
      chunk.copyTo(data);
      chunks.push({ data, type: chunk.type, timestamp: chunk.timestamp });
      out?.();
    },
    error: (error) => {
      throw error;
    },
  });
  encoder.configure(
    CODEC === "vp8"
      ? { ...setting.config, codec: "vp8", latencyMode: "realtime", width, height }
      : { ...setting.config, codec: "avc1.42e028", width, height, avc: { format: "annexb" } },
  );
  const wallMs: number[] = [];
  const last = source.at(-1) ?? new Uint8Array();
  const sequence = [...source, ...Array.from({ length: TOPOFFS }, () => last)];
  for (const [index, data] of sequence.entries()) {
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
    };
    if (setting.quantizer !== undefined) options.avc = { quantizer: setting.quantizer };
    const done = new Promise<void>((resolve) => {
      out = resolve;
    });
    const start = performance.now();
    encoder.encode(frame, options);
    frame.close();
    await done;
    wallMs.push(performance.now() - start);
  }
  encoder.close();
  return { chunks, wallMs };
}

async function decodeAll(chunks: readonly Chunk[]): Promise<Uint8Array[]> {
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
  decoder.configure({
    codec: CODEC === "vp8" ? "vp8" : "avc1.42e028",
    codedWidth: width,
    codedHeight: height,
  });
  for (const chunk of chunks) decoder.decode(new EncodedVideoChunk(chunk));
  await decoder.flush();
  decoder.close();
  return Promise.all(pictures);
}

// The addon's callbacks do not keep Node running on their own.
const keepAlive = setInterval(() => undefined, 1_000);
mkdirSync("bench-results", { recursive: true });
const wanted = process.env.PROBE_CONFIGS?.split(",") ?? Object.keys(SETTINGS);
const shown = Math.floor(FRAMES / 2);
writeFileSync("bench-results/quality-source.pgm", pgm(source[shown] ?? new Uint8Array()));
function pgm(luma: Uint8Array): Buffer {
  return Buffer.concat([
    Buffer.from(`P5 ${width} ${height} 255\n`),
    Buffer.from(luma.subarray(0, lumaBytes)),
  ]);
}

for (const name of wanted) {
  const setting = SETTINGS[name];
  if (setting === undefined) throw new Error(`unknown setting ${name}`);
  const { chunks, wallMs } = await encodeAll(setting);
  const decoded = await decodeAll(chunks);
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
  writeFileSync(`bench-results/quality-${name}.pgm`, pgm(decoded[shown] ?? new Uint8Array()));
  if (TOPOFFS > 0) {
    // The last scrolled frame as decoded, and the same picture after its last top-off.
    writeFileSync(
      `bench-results/quality-${name}-still.pgm`,
      pgm(decoded[source.length - 1] ?? new Uint8Array()),
    );
    writeFileSync(`bench-results/quality-${name}-topped.pgm`, pgm(decoded.at(-1) ?? new Uint8Array()));
    writeFileSync("bench-results/quality-source-last.pgm", pgm(source.at(-1) ?? new Uint8Array()));
  }
  console.log(
    JSON.stringify({
      setting: name,
      keyKbit: ((chunks[0]?.data.byteLength ?? 0) * 8) / 1000,
      kbitPerFrame: kbitPerFrame.toFixed(1),
      mbpsAt20fps: ((kbitPerFrame * 20) / 1000).toFixed(2),
      psnrMean: (psnrs.reduce((a, b) => a + b, 0) / psnrs.length).toFixed(1),
      psnrWorst: Math.min(...psnrs).toFixed(1),
      encodeMsP50: wallMs[Math.floor(wallMs.length / 2)]?.toFixed(1),
      lastPsnr: psnrs.at(-1)?.toFixed(1),
      topOffs,
    }),
  );
}
clearInterval(keepAlive);
process.exit(0);
