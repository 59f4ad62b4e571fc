/**
 * The agent's video encoder adapters (agent/media/video-encoder.ts) at 1920x1080, through the same
 * interface the capture worker uses, on the same I420 pictures, one frame at a time: the time from
 * encode() to the frame's chunk, the first frame (the encoder's start), a keyframe asked mid-stream,
 * and CPU per frame. Part of `npm run bench:win-encoder` (scripts/bench-windows-encoder.ts).
 *
 * Baseline: the WebCodecs adapter (@napi-rs/webcodecs, what Linux builds use). Against it the FFmpeg
 * adapter with Debian's ffmpeg, with the Linux FFmpeg 4.1 of @ffmpeg-installer/linux-x64 (the same
 * release as the Windows build's), and with the Windows build's ffmpeg.exe under Wine 8 (Wine is
 * not Windows: this says the executable works behind the adapter and roughly what it costs here).
 */
import { readFileSync } from "node:fs";
import type { ScreenFrame } from "../agent/media/capture.ts";
import { FrameEncoder } from "../agent/media/encoder.ts";
import { FfmpegEncoder } from "../agent/media/ffmpeg-encoder.ts";
import type { FfmpegCommand } from "../agent/media/ffmpeg-process.ts";
import { I420Picture } from "../agent/media/i420.ts";
import type { EncodedChunk, EncoderSettings, VideoFrameEncoder } from "../agent/media/video-encoder.ts";

export const WIDTH = 1920;
export const HEIGHT = 1080;
const FRAMES = 60;
/** Frames after which a keyframe is asked (each a restart for FFmpeg, taken by its spare). */
const KEYFRAMES_AT = new Set([20, 35, 50]);
const DISTINCT_PICTURES = 12;
const SETTINGS: EncoderSettings = { codec: "h264", bitrate: 3_000_000, framerate: 20 };

export type AdapterResult = {
  firstFrameMs: number;
  latencyMs: { p50: number; p95: number };
  keyframeMs: number;
  cpuMsPerFrame: number;
  bytesPerFrame: number;
};

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/**
 * Desktop-like pictures: a window with text-like rows on a gradient, a block moving across it, so
 * that consecutive frames differ in part, as a screen with a moving window does.
 */
function pictures(): I420Picture[] {
  const result: I420Picture[] = [];
  const data = Buffer.alloc(WIDTH * HEIGHT * 4);
  for (let step = 0; step < DISTINCT_PICTURES; step++) {
    for (let y = 0; y < HEIGHT; y++) {
      for (let x = 0; x < WIDTH; x++) {
        const at = (y * WIDTH + x) * 4;
        const inWindow = x > 200 && x < 1400 && y > 100 && y < 900;
        const text = inWindow && y % 20 < 12 && (x * 7 + y * 3 + step * 40) % 11 < 5;
        const block = Math.abs(x - 300 - step * 90) < 120 && Math.abs(y - 500) < 90;
        const [r, g, b] = block
          ? [200, 60, 40]
          : text
            ? [20, 20, 20]
            : inWindow
              ? [250, 250, 250]
              : [30, (y * 120) / HEIGHT, 120];
        data[at] = r;
        data[at + 1] = g;
        data[at + 2] = b;
        data[at + 3] = 255;
      }
    }
    const frame: ScreenFrame = { width: WIDTH, height: HEIGHT, data, order: "rgba" };
    const picture = new I420Picture(WIDTH, HEIGHT);
    picture.update(frame);
    result.push(picture);
  }
  return result;
}

/** CPU ms a Linux process (or a Windows one under Wine) has used, from /proc. */
function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

type Run = {
  encoder: VideoFrameEncoder;
  next: () => Promise<EncodedChunk>;
  /** CPU ms used by the encoder so far. */
  cpuMs: () => number;
};

function collector(): {
  onChunk: (chunk: EncodedChunk) => void;
  next: () => Promise<EncodedChunk>;
  fail: (e: Error) => void;
} {
  const queue: EncodedChunk[] = [];
  let waiter: { resolve: (chunk: EncodedChunk) => void; reject: (e: Error) => void } | undefined;
  let failed: Error | undefined;
  return {
    onChunk: (chunk) => {
      if (waiter !== undefined) {
        const { resolve } = waiter;
        waiter = undefined;
        resolve(chunk);
      } else queue.push(chunk);
    },
    fail: (error) => {
      failed = error;
      waiter?.reject(error);
    },
    next: () => {
      const ready = queue.shift();
      if (ready !== undefined) return Promise.resolve(ready);
      if (failed !== undefined) return Promise.reject(failed);
      return new Promise((resolve, reject) => {
        waiter = { resolve, reject };
      });
    },
  };
}

function webCodecsRun(): Run {
  const chunks = collector();
  const encoder = new FrameEncoder(SETTINGS, chunks.onChunk, chunks.fail);
  return {
    encoder,
    next: chunks.next,
    // In this process: what the encoder's threads and this loop used.
    cpuMs: () => {
      const usage = process.cpuUsage();
      return (usage.user + usage.system) / 1000;
    },
  };
}

function ffmpegRun(command: FfmpegCommand): Run {
  const chunks = collector();
  const encoder = new FfmpegEncoder(command, SETTINGS, {
    onChunk: chunks.onChunk,
    onError: chunks.fail,
    onLog: (entry) => {
      if (entry.level === "warn") process.stderr.write(`bench: ${entry.message} ${entry.detail ?? ""}\n`);
    },
  });
  // The processes that encoded, each counted once (the current one changes at each keyframe).
  const seen = new Map<number, number>();
  return {
    encoder,
    next: chunks.next,
    cpuMs: () => {
      const pid = encoder.process?.pid;
      if (pid !== undefined) {
        try {
          seen.set(pid, processCpuMs(pid));
        } catch {
          // Exited between the two lines.
        }
      }
      return [...seen.values()].reduce((sum, ms) => sum + ms, 0);
    },
  };
}

async function measure(run: Run, inputs: readonly I420Picture[]): Promise<AdapterResult> {
  const latencies: number[] = [];
  const keyframes: number[] = [];
  let firstFrameMs = Number.NaN;
  let bytes = 0;
  let cpuBefore = 0;
  // The WebCodecs addon's callbacks do not keep the event loop alive on their own.
  const keepAlive = setInterval(() => undefined, 1_000);
  try {
    for (let i = 0; i < FRAMES; i++) {
      const picture = inputs[i % inputs.length];
      if (picture === undefined) throw new Error("no picture");
      if (i === 1) cpuBefore = run.cpuMs();
      const key = KEYFRAMES_AT.has(i);
      const sent = performance.now();
      run.encoder.encode(picture, i * 50_000, key);
      const chunk = await run.next();
      const ms = performance.now() - sent;
      run.cpuMs();
      bytes += chunk.data.byteLength;
      if (i === 0) firstFrameMs = ms;
      else if (key) keyframes.push(ms);
      else latencies.push(ms);
    }
    const cpuMs = run.cpuMs() - cpuBefore;
    return {
      firstFrameMs,
      latencyMs: { p50: percentile(latencies, 50), p95: percentile(latencies, 95) },
      keyframeMs: percentile(keyframes, 50),
      cpuMsPerFrame: cpuMs / (FRAMES - 1),
      bytesPerFrame: bytes / FRAMES,
    };
  } finally {
    clearInterval(keepAlive);
    run.encoder.close();
  }
}

export type AdapterCandidate = { name: string; run: () => Run };

export function adapterCandidates(
  ffmpegs: ReadonlyArray<{ name: string; command: FfmpegCommand }>,
): AdapterCandidate[] {
  return [
    { name: "WebCodecs (baseline)", run: webCodecsRun },
    ...ffmpegs.map(({ name, command }) => ({
      name: `FFmpeg adapter: ${name}`,
      run: () => ffmpegRun(command),
    })),
  ];
}

/** Each candidate `runs` times, interleaved so that the machine's noise falls on all alike; medians. */
export async function benchAdapters(
  candidates: readonly AdapterCandidate[],
  runs: number,
  progress: (line: string) => void,
): Promise<Record<string, AdapterResult>> {
  const inputs = pictures();
  const results = new Map<string, AdapterResult[]>();
  for (let round = 0; round < runs; round++) {
    for (const candidate of candidates) {
      progress(`adapters: round ${round + 1}/${runs}: ${candidate.name}`);
      const result = await measure(candidate.run(), inputs);
      results.set(candidate.name, [...(results.get(candidate.name) ?? []), result]);
    }
  }
  const median = (list: AdapterResult[], pick: (r: AdapterResult) => number) =>
    percentile(list.map(pick), 50);
  return Object.fromEntries(
    [...results].map(([name, list]) => [
      name,
      {
        firstFrameMs: median(list, (r) => r.firstFrameMs),
        latencyMs: { p50: median(list, (r) => r.latencyMs.p50), p95: median(list, (r) => r.latencyMs.p95) },
        keyframeMs: median(list, (r) => r.keyframeMs),
        cpuMsPerFrame: median(list, (r) => r.cpuMsPerFrame),
        bytesPerFrame: median(list, (r) => r.bytesPerFrame),
      },
    ]),
  );
}

/** The table's lines, with each latency as a ratio to the baseline's. */
export function adapterTable(results: Record<string, AdapterResult>): string[] {
  const baseline = results["WebCodecs (baseline)"];
  const ratio = (value: number, base: number | undefined) =>
    base === undefined || !Number.isFinite(base) || base === 0 ? "" : ` (x${(value / base).toFixed(2)})`;
  return [
    `Encoder adapters, H.264 ${WIDTH}x${HEIGHT}, ${FRAMES} frames one at a time, keyframes asked at ${[...KEYFRAMES_AT].join(", ")}:`,
    ...Object.entries(results).map(
      ([name, r]) =>
        `  ${name.padEnd(46)} frame p50 ${r.latencyMs.p50.toFixed(1)} ms${ratio(r.latencyMs.p50, baseline?.latencyMs.p50)}, p95 ${r.latencyMs.p95.toFixed(1)} ms; ` +
        `asked keyframe ${r.keyframeMs.toFixed(1)} ms; first frame ${r.firstFrameMs.toFixed(0)} ms; ` +
        `CPU ${r.cpuMsPerFrame.toFixed(1)} ms/frame${ratio(r.cpuMsPerFrame, baseline?.cpuMsPerFrame)}; ${(r.bytesPerFrame / 1024).toFixed(1)} KiB/frame`,
    ),
  ];
}
