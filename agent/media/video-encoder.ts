/**
 * The one video encoder interface of the agent, for every platform: I420 pictures in (even sizes,
 * see i420.ts), H.264 (Annex B) or VP8 chunks out in the order the pictures went in, a keyframe
 * whenever asked. Two adapters implement it: WebCodecs (encoder.ts, @napi-rs/webcodecs, Linux) and
 * an FFmpeg executable driven as a child process (ffmpeg-encoder.ts, the Windows build's
 * ffmpeg.exe). encoder-backend.ts picks one; nothing else imports an adapter.
 *
 * Nothing here imports an encoder, so the command line and the protocol can name codecs in a build
 * that carries only one of them.
 */
import type { I420Picture } from "./i420.ts";

export const VIDEO_CODECS = ["h264", "vp8"] as const;
export type VideoCodecName = (typeof VIDEO_CODECS)[number];

export type EncodedChunk = {
  readonly data: Buffer;
  readonly key: boolean;
  /** Capture time in microseconds, as handed to encode(). */
  readonly timestampUs: number;
  readonly width: number;
  readonly height: number;
};

export type EncoderSettings = {
  readonly codec: VideoCodecName;
  readonly bitrate: number;
  readonly framerate: number;
};

/** What an adapter tells the agent's log (the capture worker forwards it to the main thread). */
export type EncoderLogEntry = {
  readonly level: "warn" | "info" | "debug";
  readonly message: string;
  readonly detail?: string;
};

export type VideoFrameEncoder = {
  /** Frames handed over and not yet encoded. */
  readonly pending: number;
  /**
   * Queues one picture (copied: the caller may update it right after); its chunk arrives through
   * the adapter's onChunk. A new size restarts the encoder, which then starts with a keyframe.
   */
  encode(picture: I420Picture, timestampUs: number, keyFrame: boolean): void;
  /** Changes bitrate or frame rate; takes effect from the next frame (with a keyframe). */
  update(settings: Partial<Omit<EncoderSettings, "codec">>): void;
  /** Stops the encoder; safe to call more than once. Chunks of frames still queued are dropped. */
  close(): void;
};

/** What every adapter is built from. */
export type EncoderCallbacks = {
  readonly onChunk: (chunk: EncodedChunk) => void;
  /** The encoder cannot go on (the stream ends with this error). */
  readonly onError: (error: Error) => void;
  readonly onLog: (entry: EncoderLogEntry) => void;
};
