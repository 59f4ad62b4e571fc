/**
 * Messages between the screen stream (main thread) and its capture worker. Both ends are ours and
 * messages are structured clones, not text: typed here, not decoded.
 */
import type { ExitReason } from "../exit.ts";
import type { MonitorCapture, MonitorGeometry } from "./capture.ts";
import type { EncoderLogEntry, VideoCodecName } from "./video-encoder.ts";

export type PipelineSettings = {
  readonly monitor: number;
  /** Changing it starts another encoder, with a keyframe. */
  readonly codec: VideoCodecName;
  readonly maxFps: number;
  readonly bitrate: number;
};

export type ToWorker =
  /** Capture and encode (true) or stay idle (false). */
  | { readonly type: "run"; readonly running: boolean }
  /** The next frame is a keyframe, even when the screen did not change. */
  | { readonly type: "keyframe" }
  /** Capture and encode one keyframe now, even while idle (a technician is about to connect). */
  | { readonly type: "prime" }
  /** Something is happening (input, pointer moved): poll the screen at full rate for a while. */
  | { readonly type: "activity" }
  | { readonly type: "settings"; readonly settings: Partial<PipelineSettings> }
  | { readonly type: "stats" }
  /**
   * The screen copy path (docs/screen-copy-path.md) on or off: on, the worker sends the lossless
   * tiles as records (a new stream first) and freezes them in the video; off, every tile goes back
   * to the video (a last record hides them for the consoles that drew them).
   */
  | { readonly type: "screenPath"; readonly on: boolean }
  /** A new screen stream for everyone: START, then a RESET record with every lossless tile whole. */
  | { readonly type: "screenRestart" }
  | { readonly type: "stop" };

export type PipelineStats = {
  /** Screens captured. */
  readonly captured: number;
  /** Captures that differed from the last encoded frame. */
  readonly changed: number;
  /** Frames handed to the encoder. */
  readonly encoded: number;
  /** Changed frames not encoded because the encoder was still busy. */
  readonly busy: number;
  /** Unchanged pictures encoded again to sharpen them once the screen is still (top-off.ts). */
  readonly topOffs: number;
  /** The unchanged picture encoded again because the video had no frame for a second (capture-worker.ts). */
  readonly repeats: number;
  /** Changed frames the screen copy path carried alone: only lossless tiles changed, no video frame. */
  readonly screenOnly: number;
  /** The frame rate the worker keeps to now: settings.maxFps, or less (frame-rate-limit.ts). */
  readonly fps: number;
  /**
   * The slowest stage's smoothed time per frame (capture, conversion or encoding: they overlap,
   * see frame-rate-limit.ts), ms; 0 before a frame. `fps` follows from it.
   */
  readonly workMs: number;
  /** Frames that went through the screen copy path, and the milliseconds it took them in all. */
  readonly screenFrames: number;
  readonly screenWorkMs: number;
  /** How the screen is captured now (see capture.ts); "none" before a monitor is open. */
  readonly backend: MonitorCapture["backend"] | "none";
};

/** One screen record as `screen` channel messages (docs/screen-copy-path.md, "Wire format"). */
export type ScreenMessages = {
  /** Each at most SCREEN_MESSAGE_BYTES, byte 0 the flags. */
  readonly messages: readonly Uint8Array[];
  /** The first message begins a new stream (SCREEN_START). */
  readonly start: boolean;
  readonly rtpTimestamp: number;
  /** When the frame was captured, ms since the epoch. */
  readonly capturedAt: number;
};

export type FromWorker =
  | {
      readonly type: "chunk";
      /** The codec it is in (the stream may switch: see settings.codec). */
      readonly codec: VideoCodecName;
      readonly data: Uint8Array;
      readonly key: boolean;
      readonly timestampUs: number;
      readonly width: number;
      readonly height: number;
      /** When the frame was captured, ms since the epoch (performance.timeOrigin + now). */
      readonly capturedAt: number;
    }
  /**
   * One screen record as `screen` channel messages (each <= SCREEN_MESSAGE_BYTES, their buffers
   * transferred), for every technician following; `start` when the first begins a new stream.
   */
  | ({ readonly type: "screen" } & ScreenMessages)
  /** The monitor being captured, after start and after each switch. */
  | { readonly type: "monitor"; readonly geometry: MonitorGeometry }
  | { readonly type: "stats"; readonly stats: PipelineStats }
  /** For the agent's log (the encoder's own messages: FFmpeg's stderr, restarts). */
  | { readonly type: "log"; readonly entry: EncoderLogEntry }
  | { readonly type: "error"; readonly reason: ExitReason; readonly message: string };
