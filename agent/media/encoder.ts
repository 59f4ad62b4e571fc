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
 *
 * One frame in the addon at a time: while it encodes a frame, its encode() and encodeQueueSize
 * wait for that frame to finish (measured: encode() returned after 85-170 ms when called during
 * an encode; in the capture worker's profile at 1080p the two calls were a fifth of its time),
 * so capture and conversion stood still behind x264. Instead, a picture handed over while a frame
 * is in the addon waits here, the newest replacing an older one (the picture is updated in place,
 * so it already holds every change), and goes in when that frame's chunk is out.
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

/**
 * A frame in the addon longer than this is taken as lost (no chunk will come): the next picture
 * goes in anyway, so that a missing chunk cannot stop the stream.
 */
const IN_FLIGHT_LIMIT_MS = 1_000;

type Waiting = { picture: I420Picture; timestampUs: number; keyFrame: boolean };

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

  /** When the frame in the addon went in; undefined when none is. */
  #inFlightSince: number | undefined;
  /** The picture to encode once the frame in the addon is out. */
  #waiting: Waiting | undefined;

  /** Frames in the addon, not yet out (at most one: newer pictures wait, see encode). */
  get pending(): number {
    return this.#inFlightSince === undefined ? 0 : 1;
  }

  /**
   * Encodes one picture (copied as it goes in: the caller may update it right after); the chunk
   * arrives through onChunk. While a frame is in the addon, the picture waits and goes in once
   * that frame is out, replacing any picture waiting before it (a keyframe asked for by either
   * stays asked for). A new size (or new settings) restarts the encoder, which then starts with a
   * keyframe.
   */
  encode(picture: I420Picture, timestampUs: number, keyFrame: boolean): void {
    const since = this.#inFlightSince;
    if (since !== undefined && performance.now() - since < IN_FLIGHT_LIMIT_MS) {
      this.#waiting = { picture, timestampUs, keyFrame: keyFrame || (this.#waiting?.keyFrame ?? false) };
      return;
    }
    const waiting = this.#waiting;
    this.#waiting = undefined;
    this.#submit(picture, timestampUs, keyFrame || (waiting?.keyFrame ?? false));
  }

  #submit(picture: I420Picture, timestampUs: number, keyFrame: boolean): void {
    const encoder = this.#encoderFor(picture);
    const videoFrame = new VideoFrame(picture.data, {
      format: "I420",
      codedWidth: picture.width,
      codedHeight: picture.height,
      timestamp: timestampUs,
    });
    try {
      encoder.encode(videoFrame, { keyFrame });
      this.#inFlightSince = performance.now();
    } finally {
      videoFrame.close();
    }
  }

  /** The frame in the addon is out: the picture waiting, if any, goes in. */
  #out(): void {
    this.#inFlightSince = undefined;
    const waiting = this.#waiting;
    if (waiting === undefined) return;
    this.#waiting = undefined;
    this.#submit(waiting.picture, waiting.timestampUs, waiting.keyFrame);
  }

  /**
   * Changes bitrate or frame rate; takes effect from the next frame (with a keyframe). A picture
   * waiting goes into the new encoder at once. The encoder restarts: configure() again on the
   * addon's encoder (1.3.1) leaves it "configured" but it gives no chunk for any frame after that.
   */
  update(settings: Partial<Omit<EncoderSettings, "codec">>): void {
    this.#settings = { ...this.#settings, ...settings };
    this.#closeEncoder();
    this.#out();
  }

  close(): void {
    this.#waiting = undefined;
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
    this.#out();
  }

  #closeEncoder(): void {
    const encoder = this.#encoder;
    this.#encoder = undefined;
    this.#size = undefined;
    this.#inFlightSince = undefined;
    if (encoder !== undefined && encoder.state !== "closed") encoder.close();
  }
}
