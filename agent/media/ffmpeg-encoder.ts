/**
 * The video encoder adapter for an FFmpeg executable (the Windows build's ffmpeg.exe, FFmpeg 4.1
 * with libx264 and libvpx; any FFmpeg from 4.1 on works): the same interface as the WebCodecs
 * adapter (video-encoder.ts), with FFmpeg as a child process.
 *
 * - Raw I420 on stdin, one frame in, one frame out, nothing held back: libx264 with
 *   `-tune zerolatency` (no B-frames, no lookahead, sliced threads), constrained baseline; libvpx
 *   in realtime mode with no lag. `-flush_packets 1` writes each frame as soon as it is encoded, in
 *   a container that gives its length (ffmpeg-framing.ts).
 * - FFmpeg 4.1's command line has no way to ask for a keyframe, a bitrate or a size while it runs,
 *   so each of those starts a new process, whose first frame is a keyframe. Frames still inside
 *   the old one are dropped (the keyframe supersedes them). Starting a process is the slow part
 *   (loading a 64 MB executable; seconds under Wine), so once a process has encoded its first
 *   frame a spare one with the same settings is started and waits, idle, for the next keyframe
 *   request: a keyframe then costs about what a frame costs.
 * - Its stderr (warnings and errors only) goes to the agent's log. A process that stops on its own
 *   is restarted at the next frame; when that keeps happening (MAX_CRASHES within CRASH_WINDOW_MS)
 *   or the program cannot start at all, onError ends the stream with the reason FFmpeg gave.
 */
import { basename } from "node:path";
import { AgentError } from "../exit.ts";
import { type FfmpegCommand, type FfmpegExit, FfmpegProcess } from "./ffmpeg-process.ts";
import type { I420Picture } from "./i420.ts";
import type {
  EncoderCallbacks,
  EncoderSettings,
  VideoCodecName,
  VideoFrameEncoder,
} from "./video-encoder.ts";

const MAX_CRASHES = 3;
const CRASH_WINDOW_MS = 60_000;
/** Frames between periodic keyframes (as the WebCodecs adapter: x264's default). */
const KEYFRAME_INTERVAL = 250;

/** FFmpeg's arguments for one configuration (the same for FFmpeg 4.1 and later). */
export function ffmpegArguments(
  settings: EncoderSettings,
  size: { readonly width: number; readonly height: number },
): string[] {
  const input = [
    "-hide_banner",
    "-nostats",
    "-loglevel",
    "warning",
    // The input's parameters are all given: start encoding at the first frame, not after probing.
    "-probesize",
    "32",
    "-analyzeduration",
    "0",
    "-f",
    "rawvideo",
    "-pix_fmt",
    "yuv420p",
    "-video_size",
    `${size.width}x${size.height}`,
    "-framerate",
    String(settings.framerate),
    "-i",
    "pipe:0",
    "-an",
  ];
  const bitrate = String(settings.bitrate);
  const rate = ["-b:v", bitrate, "-maxrate", bitrate, "-bufsize", String(Math.round(settings.bitrate / 2))];
  const gop = ["-g", String(KEYFRAME_INTERVAL)];
  const output =
    settings.codec === "h264"
      ? [
          ...["-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency"],
          ...["-profile:v", "baseline", "-bf", "0", ...gop, ...rate],
          ...["-f", "flv", "-flvflags", "no_duration_filesize"],
        ]
      : [
          ...["-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-lag-in-frames", "0"],
          ...["-auto-alt-ref", "0", "-error-resilient", "1", ...gop, ...rate, "-f", "ivf"],
        ];
  return [...input, ...output, "-flush_packets", "1", "pipe:1"];
}

export class FfmpegEncoder implements VideoFrameEncoder {
  readonly #command: FfmpegCommand;
  readonly #callbacks: EncoderCallbacks;
  #settings: EncoderSettings;
  #process: FfmpegProcess | undefined;
  /** Started with the current settings and size, no frame written yet: the next keyframe's. */
  #spare: FfmpegProcess | undefined;
  /** When processes stopped on their own, within the last CRASH_WINDOW_MS. */
  #crashes: number[] = [];
  #closed = false;

  constructor(command: FfmpegCommand, settings: EncoderSettings, callbacks: EncoderCallbacks) {
    this.#command = command;
    this.#settings = settings;
    this.#callbacks = callbacks;
  }

  get pending(): number {
    return this.#process?.pending ?? 0;
  }

  encode(picture: I420Picture, timestampUs: number, keyFrame: boolean): void {
    if (this.#closed) return;
    let current = this.#process;
    const resized =
      current !== undefined && (current.width !== picture.width || current.height !== picture.height);
    if (current !== undefined && (resized || (keyFrame && current.started))) {
      this.#callbacks.onLog({
        level: "debug",
        message: resized ? "ffmpeg: new size, new process" : "ffmpeg: keyframe asked, next process",
      });
      current.retire();
      current = undefined;
      this.#process = undefined;
    }
    if (resized) this.#retireSpare();
    current ??= this.#takeSpare() ?? this.#start(picture);
    // A copy: FFmpeg reads it later, and the caller updates the picture in place.
    current.write(Buffer.from(picture.data), timestampUs);
  }

  update(settings: Partial<Omit<EncoderSettings, "codec">>): void {
    this.#settings = { ...this.#settings, ...settings };
    this.#process?.retire();
    this.#process = undefined;
    this.#retireSpare();
  }

  close(): void {
    this.#closed = true;
    this.#process?.retire();
    this.#process = undefined;
    this.#retireSpare();
  }

  /** The running process, if any (tests stop it to stand in for a crash). */
  get process(): FfmpegProcess | undefined {
    return this.#process;
  }

  /** The spare process waiting for the next keyframe, if any. */
  get spare(): FfmpegProcess | undefined {
    return this.#spare;
  }

  #takeSpare(): FfmpegProcess | undefined {
    const spare = this.#spare;
    this.#spare = undefined;
    this.#process = spare;
    return spare;
  }

  #retireSpare(): void {
    this.#spare?.retire();
    this.#spare = undefined;
  }

  /** Starts a process for `size` with the current settings: the current one, or the spare. */
  #start(size: { width: number; height: number }, spare = false): FfmpegProcess {
    const { onChunk, onLog } = this.#callbacks;
    const codec: VideoCodecName = this.#settings.codec;
    let first = true;
    const started = new FfmpegProcess(this.#command, ffmpegArguments(this.#settings, size), codec, size, {
      onFrame: (frame, timestampUs) => {
        onChunk({ data: frame.data, key: frame.key, timestampUs, width: size.width, height: size.height });
        // These settings work: have the next keyframe's process ready.
        if (first && this.#process === started && this.#spare === undefined && !this.#closed) {
          this.#start(size, true);
        }
        first = false;
      },
      onStderr: (line) => onLog({ level: "warn", message: "ffmpeg", detail: line }),
      onExit: (exit) => this.#stopped(started, exit),
    });
    if (spare) this.#spare = started;
    else this.#process = started;
    return started;
  }

  #stopped(stopped: FfmpegProcess, exit: FfmpegExit): void {
    if (this.#process === stopped) this.#process = undefined;
    if (this.#spare === stopped) this.#spare = undefined;
    if (this.#closed) return;
    const now = performance.now();
    this.#crashes = [...this.#crashes.filter((at) => now - at < CRASH_WINDOW_MS), now];
    const how =
      exit.code !== null ? `exit code ${exit.code}` : exit.signal !== null ? `signal ${exit.signal}` : "";
    const lastLine = exit.stderr.split("\n").at(-1) ?? "";
    const summary = `The video encoder (${basename(this.#command.file)}) stopped${how === "" ? "" : ` (${how})`}${lastLine === "" ? "" : `: ${lastLine}`}`;
    if (exit.spawnFailed || this.#crashes.length >= MAX_CRASHES) {
      this.#closed = true;
      this.#callbacks.onError(new AgentError("internal", summary));
      return;
    }
    this.#callbacks.onLog({ level: "warn", message: `${summary}; restarting it`, detail: exit.stderr });
  }
}
