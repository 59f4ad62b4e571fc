/**
 * The FFmpeg encoder adapter's contract, driven for real: pictures in, chunks out, checked by
 * parsing the H.264 and by decoding it with Debian's ffprobe. Used with Debian's Linux ffmpeg
 * (ffmpeg-encoder.test.ts) and with the Windows ffmpeg.exe under Wine (ffmpeg-encoder-wine.test.ts).
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { ScreenFrame } from "../../agent/media/capture.ts";
import { FfmpegEncoder } from "../../agent/media/ffmpeg-encoder.ts";
import type { FfmpegCommand } from "../../agent/media/ffmpeg-process.ts";
import { I420Picture } from "../../agent/media/i420.ts";
import type { EncodedChunk, EncoderLogEntry, EncoderSettings } from "../../agent/media/video-encoder.ts";

const run = promisify(execFile);

/** A desktop-like RGBA picture: bands of colour, a block whose place depends on `step`. */
export function testPicture(width: number, height: number, step: number): I420Picture {
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const inBlock = Math.abs(x - ((step * 37) % width)) < 40 && Math.abs(y - ((step * 23) % height)) < 30;
      const at = (y * width + x) * 4;
      data[at] = inBlock ? 250 : (x * 255) / width;
      data[at + 1] = inBlock ? 20 : (y * 255) / height;
      data[at + 2] = inBlock ? 40 : 128;
      data[at + 3] = 255;
    }
  }
  const frame: ScreenFrame = { width, height, data, order: "rgba" };
  const picture = new I420Picture(width, height);
  picture.update(frame);
  return picture;
}

export type Harness = {
  readonly encoder: FfmpegEncoder;
  readonly chunks: EncodedChunk[];
  readonly logs: EncoderLogEntry[];
  readonly errors: Error[];
  /** Resolves with chunk number `index` (0-based) once it has come out. */
  chunk(index: number, timeoutMs?: number): Promise<EncodedChunk>;
  /** Resolves with the first error reported through onError. */
  error(timeoutMs?: number): Promise<Error>;
  /** Resolves with the first log entry matching `pattern` (message or detail). */
  log(pattern: RegExp, timeoutMs?: number): Promise<EncoderLogEntry>;
};

export function harness(command: FfmpegCommand, settings: Partial<EncoderSettings> = {}): Harness {
  const chunks: EncodedChunk[] = [];
  const logs: EncoderLogEntry[] = [];
  const errors: Error[] = [];
  const wakers = new Set<() => void>();
  const wake = () => {
    for (const waker of [...wakers]) waker();
  };
  const encoder = new FfmpegEncoder(
    command,
    { codec: "h264", bitrate: 2_000_000, framerate: 20, ...settings },
    {
      onChunk: (chunk) => {
        chunks.push(chunk);
        wake();
      },
      onError: (error) => {
        errors.push(error);
        wake();
      },
      onLog: (entry) => {
        logs.push(entry);
        wake();
      },
    },
  );
  const waitFor = <T>(what: string, find: () => T | undefined, timeoutMs: number) =>
    new Promise<T>((resolve, reject) => {
      const check = () => {
        const found = find();
        if (found === undefined) return;
        finish();
        resolve(found);
      };
      const timer = setTimeout(() => {
        finish();
        reject(
          new Error(`no ${what} in ${timeoutMs} ms; errors: ${errors.map((e) => e.message).join("; ")}`),
        );
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        wakers.delete(check);
      };
      wakers.add(check);
      check();
    });
  return {
    encoder,
    chunks,
    logs,
    errors,
    chunk: (index, timeoutMs = 20_000) => waitFor(`chunk ${index}`, () => chunks[index], timeoutMs),
    error: (timeoutMs = 20_000) => waitFor("error", () => errors[0], timeoutMs),
    log: (pattern, timeoutMs = 20_000) =>
      waitFor(
        `log ${pattern}`,
        () => logs.find((entry) => pattern.test(entry.message) || pattern.test(entry.detail ?? "")),
        timeoutMs,
      ),
  };
}

export type Probed = { frames: number; width: number; height: number; codec: string; profile: string };

/** Decodes an H.264 (Annex B) or VP8 (IVF) stream with Debian's ffprobe and counts its frames. */
export async function probe(stream: Buffer, format: "h264" | "ivf"): Promise<Probed> {
  const dir = mkdtempSync(join(tmpdir(), "sos-probe-"));
  try {
    const file = join(dir, `stream.${format}`);
    writeFileSync(file, stream);
    const { stdout } = await run("ffprobe", [
      ...["-v", "error", "-f", format, "-count_frames", "-select_streams", "v:0"],
      ...["-show_entries", "stream=codec_name,profile,width,height,nb_read_frames", "-of", "json", file],
    ]);
    const parsed = JSON.parse(stdout) as {
      streams: Array<{
        codec_name: string;
        profile?: string;
        width: number;
        height: number;
        nb_read_frames: string;
      }>;
    };
    const stream0 = parsed.streams[0];
    if (stream0 === undefined) throw new Error("ffprobe found no video stream");
    return {
      frames: Number(stream0.nb_read_frames),
      width: stream0.width,
      height: stream0.height,
      codec: stream0.codec_name,
      profile: stream0.profile ?? "",
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** An IVF file around VP8 frames, for ffprobe. */
export function ivfFile(frames: readonly EncodedChunk[], width: number, height: number): Buffer {
  const header = Buffer.alloc(32);
  header.write("DKIF", 0, "latin1");
  header.writeUInt16LE(0, 4);
  header.writeUInt16LE(32, 6);
  header.write("VP80", 8, "latin1");
  header.writeUInt16LE(width, 12);
  header.writeUInt16LE(height, 14);
  header.writeUInt32LE(20, 16);
  header.writeUInt32LE(1, 20);
  header.writeUInt32LE(frames.length, 24);
  const parts = frames.flatMap((frame, index) => {
    const frameHeader = Buffer.alloc(12);
    frameHeader.writeUInt32LE(frame.data.byteLength, 0);
    frameHeader.writeBigUInt64LE(BigInt(index), 4);
    return [frameHeader, frame.data];
  });
  return Buffer.concat([header, ...parts]);
}
