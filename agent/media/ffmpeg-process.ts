/**
 * One FFmpeg child encoding one fixed configuration (size, codec, bitrate, frame rate): raw I420
 * frames on stdin, one encoded frame back on stdout for each, in order (see ffmpeg-arguments.ts for
 * the settings that make it one in, one out). ffmpeg-encoder.ts restarts it for anything that
 * needs a new configuration or a keyframe.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { constants, setPriority } from "node:os";
import { type ContainerFrame, FlvH264Reader, type FrameReader, IvfReader } from "./ffmpeg-framing.ts";
import type { VideoCodecName } from "./video-encoder.ts";

/** How to start FFmpeg: the program and any arguments before FFmpeg's own (e.g. `wine ffmpeg.exe`). */
export type FfmpegCommand = {
  readonly file: string;
  readonly leadingArgs?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
};

export type FfmpegExit = {
  readonly code: number | null;
  readonly signal: string | null;
  readonly stderr: string;
  /** The program could not be started at all (missing, not executable). */
  readonly spawnFailed: boolean;
};

/** Lines of stderr kept for the message when FFmpeg stops unexpectedly. */
const STDERR_LINES_KEPT = 8;
/** How long a retired process may take to exit after its stdin closes before it is killed. */
const EXIT_GRACE_MS = 2_000;

export type FfmpegProcessEvents = {
  /** A frame came back: the timestamp it was written with, and its bytes. */
  readonly onFrame: (frame: ContainerFrame, timestampUs: number) => void;
  /** A line FFmpeg wrote on stderr (warnings and errors: it runs with -loglevel warning). */
  readonly onStderr: (line: string) => void;
  /** It stopped without being asked (a crash, a refused option, unreadable output). */
  readonly onExit: (exit: FfmpegExit) => void;
};

export class FfmpegProcess {
  readonly width: number;
  readonly height: number;
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #reader: FrameReader;
  /** Timestamps of frames written and not yet back, oldest first. */
  readonly #pending: number[] = [];
  readonly #stderr: string[] = [];
  #partialLine = "";
  #written = 0;
  #retired = false;
  /** Resolves when the process has exited (asked to or not). */
  readonly exited: Promise<void>;

  constructor(
    command: FfmpegCommand,
    args: readonly string[],
    codec: VideoCodecName,
    size: { width: number; height: number },
    events: FfmpegProcessEvents,
  ) {
    this.width = size.width;
    this.height = size.height;
    this.#reader = codec === "h264" ? new FlvH264Reader() : new IvfReader();
    this.#child = spawn(command.file, [...(command.leadingArgs ?? []), ...args], {
      env: command.env ?? process.env,
      stdio: ["pipe", "pipe", "pipe"],
      windowsHide: true,
    });
    const child = this.#child;
    // Below normal, as the capture worker's thread (thread-priority.ts): when the CPU is short, the
    // agent's input and signaling and the user's own programs come first, the video gives way. On
    // Windows this is the only way to get there (a priority there is the whole process's), which
    // is one reason to encode in a process of its own.
    if (child.pid !== undefined) {
      try {
        setPriority(child.pid, constants.priority.PRIORITY_BELOW_NORMAL);
      } catch {
        // Gone already (its exit is reported below), or not permitted: it runs at normal priority.
      }
    }
    this.exited = new Promise((resolve) => child.once("close", () => resolve()));
    // A dead encoder closes its stdin; the exit (below) says why.
    child.stdin.on("error", () => undefined);
    child.stdout.on("data", (bytes: Buffer) => this.#onStdout(bytes, events));
    child.stderr.on("data", (bytes: Buffer) => this.#onStderr(bytes, events));
    child.on("error", (error) =>
      this.#fail(events, { code: null, signal: null, spawnFailed: child.pid === undefined }, error.message),
    );
    child.on("close", (code, signal) => {
      if (!this.#retired) this.#fail(events, { code, signal, spawnFailed: false });
    });
  }

  /** The operating system's process id (undefined when it could not start). */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Frames written and not yet back. */
  get pending(): number {
    return this.#pending.length;
  }

  /** Whether a frame was written (the first frame of a process is a keyframe). */
  get started(): boolean {
    return this.#written > 0;
  }

  /** Writes one raw frame (the bytes are FFmpeg's from here on). */
  write(frame: Uint8Array, timestampUs: number): void {
    if (this.#retired) return;
    this.#pending.push(timestampUs);
    this.#written += 1;
    this.#child.stdin.write(frame);
  }

  /**
   * Stops it: nothing more is reported, its stdin closes (FFmpeg finishes and exits) and it is
   * killed if it has not exited after a grace period. Safe to call more than once.
   */
  retire(): void {
    if (this.#retired) return;
    this.#retired = true;
    this.#pending.length = 0;
    const child = this.#child;
    child.stdout.removeAllListeners("data");
    child.stderr.removeAllListeners("data");
    child.stdout.resume();
    child.stderr.resume();
    child.stdin.end();
    if (child.exitCode === null && child.signalCode === null) {
      const timer = setTimeout(() => child.kill("SIGKILL"), EXIT_GRACE_MS);
      timer.unref();
      child.once("exit", () => clearTimeout(timer));
    }
  }

  /** Kills it now (a test stands in for a crash with this). */
  kill(): void {
    this.#child.kill("SIGKILL");
  }

  #onStdout(bytes: Buffer, events: FfmpegProcessEvents): void {
    let frames: ContainerFrame[];
    try {
      frames = this.#reader.push(bytes);
    } catch (error) {
      this.#fail(
        events,
        { code: null, signal: null, spawnFailed: false },
        error instanceof Error ? error.message : String(error),
      );
      return;
    }
    for (const frame of frames) {
      const timestampUs = this.#pending.shift();
      if (timestampUs === undefined) {
        this.#fail(
          events,
          { code: null, signal: null, spawnFailed: false },
          "the encoder sent a frame it was not given",
        );
        return;
      }
      events.onFrame(frame, timestampUs);
      if (this.#retired) return;
    }
  }

  #onStderr(bytes: Buffer, events: FfmpegProcessEvents): void {
    const lines = (this.#partialLine + bytes.toString("utf8")).split(/\r?\n|\r/);
    this.#partialLine = lines.pop() ?? "";
    for (const line of lines) {
      if (line.trim() === "") continue;
      this.#stderr.push(line);
      if (this.#stderr.length > STDERR_LINES_KEPT) this.#stderr.shift();
      events.onStderr(line);
    }
  }

  #fail(events: FfmpegProcessEvents, exit: Omit<FfmpegExit, "stderr">, reason?: string): void {
    if (this.#retired) return;
    const stderr = [...this.#stderr, this.#partialLine, reason ?? ""].filter((line) => line !== "");
    this.retire();
    this.#child.kill("SIGKILL");
    events.onExit({ ...exit, stderr: stderr.join("\n") });
  }
}
