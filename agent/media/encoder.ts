/**
 * Video encoding, the one module that talks to @napi-rs/webcodecs: I420 pictures in (even sizes,
 * see i420.ts), H.264 (Annex B) or VP8 chunks out, a keyframe whenever asked.
 *
 * H.264 notes, measured with this addon (1.3.1, libx264 inside): the profile in the codec string
 * is ignored (the stream is High profile, level picked from the size), and `latencyMode: "realtime"`
 * forces keyint=10, a keyframe every ten frames. `latencyMode: "quality"` gives the same low-latency
 * settings (bframes=0, rc_lookahead=0, sliced threads, CBR) with keyint=250, so H.264 uses it;
 * keyframes come on demand (new technician, PLI/FIR) instead. VP8 keeps "realtime" (libvpx's
 * other deadline is several times slower).
 */
import {
  type EncodedVideoChunk,
  VideoEncoder,
  type VideoEncoderConfig,
  VideoFrame,
} from "@napi-rs/webcodecs";
import type { I420Picture } from "./i420.ts";
import type { EncodedChunk, EncoderSettings, VideoFrameEncoder } from "./video-encoder.ts";

// The codec names and chunk types live in video-encoder.ts (no addon import there, so a build
// without this addon can name them); re-exported for the modules that import them from here.
export {
  type EncodedChunk,
  type EncoderSettings,
  VIDEO_CODECS,
  type VideoCodecName,
} from "./video-encoder.ts";

type Size = { width: number; height: number };

function configFor(settings: EncoderSettings, size: Size): VideoEncoderConfig {
  const base = {
    width: size.width,
    height: size.height,
    bitrate: settings.bitrate,
    framerate: settings.framerate,
    bitrateMode: "constant" as const,
  };
  return settings.codec === "h264"
    ? { ...base, codec: "avc1.42e028", latencyMode: "quality", avc: { format: "annexb" } }
    : { ...base, codec: "vp8", latencyMode: "realtime" };
}

export class FrameEncoder implements VideoFrameEncoder {
  #settings: EncoderSettings;
  #size: Size | undefined;
  #encoder: VideoEncoder | undefined;
  readonly #onChunk: (chunk: EncodedChunk) => void;
  readonly #onError: (error: Error) => void;

  constructor(
    settings: EncoderSettings,
    onChunk: (chunk: EncodedChunk) => void,
    onError: (error: Error) => void,
  ) {
    this.#settings = settings;
    this.#onChunk = onChunk;
    this.#onError = onError;
  }

  /** Frames handed over and not yet encoded. */
  get pending(): number {
    return this.#encoder?.encodeQueueSize ?? 0;
  }

  /**
   * Queues one picture (copied: the caller may update it right after); the chunk arrives through
   * onChunk. A new size (or new settings) restarts the encoder, which then starts with a keyframe.
   */
  encode(picture: I420Picture, timestampUs: number, keyFrame: boolean): void {
    const encoder = this.#encoderFor(picture);
    const videoFrame = new VideoFrame(picture.data, {
      format: "I420",
      codedWidth: picture.width,
      codedHeight: picture.height,
      timestamp: timestampUs,
    });
    try {
      encoder.encode(videoFrame, { keyFrame });
    } finally {
      videoFrame.close();
    }
  }

  /** Changes bitrate or frame rate; takes effect from the next frame (with a keyframe). */
  update(settings: Partial<Omit<EncoderSettings, "codec">>): void {
    this.#settings = { ...this.#settings, ...settings };
    this.#closeEncoder();
  }

  close(): void {
    this.#closeEncoder();
  }

  #encoderFor(frame: Size): VideoEncoder {
    const size = { width: frame.width, height: frame.height };
    if (
      this.#encoder !== undefined &&
      this.#size?.width === size.width &&
      this.#size.height === size.height
    ) {
      return this.#encoder;
    }
    this.#closeEncoder();
    const encoder = new VideoEncoder({
      output: (chunk: EncodedVideoChunk) => this.#emit(chunk, size),
      error: (error: Error) => this.#onError(error),
    });
    encoder.configure(configFor(this.#settings, size));
    this.#encoder = encoder;
    this.#size = size;
    return encoder;
  }

  #emit(chunk: EncodedVideoChunk, size: Size): void {
    // An ArrayBuffer of its own (not Node's buffer pool), so the worker can transfer it.
    const bytes = new Uint8Array(chunk.byteLength);
    chunk.copyTo(bytes);
    const data = Buffer.from(bytes.buffer, 0, bytes.byteLength);
    const { width, height } = size;
    this.#onChunk({ data, key: chunk.type === "key", timestampUs: chunk.timestamp, width, height });
  }

  #closeEncoder(): void {
    const encoder = this.#encoder;
    this.#encoder = undefined;
    this.#size = undefined;
    if (encoder !== undefined && encoder.state !== "closed") encoder.close();
  }
}
