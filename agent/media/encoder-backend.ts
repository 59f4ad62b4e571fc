/**
 * Picks the video encoder adapter (one interface: video-encoder.ts). This module is what the agent
 * runs from source and in builds that carry @napi-rs/webcodecs (linux-x64): WebCodecs, unless an
 * FFmpeg executable is configured (SOS_FFMPEG, or a build's ffmpeg.json; see ffmpeg-binary.ts).
 * Builds that carry an FFmpeg executable instead (win-x64) bundle encoder-backend-ffmpeg.ts in
 * its place (build/bundle.ts), so they never load the WebCodecs addon.
 */
import { FrameEncoder } from "./encoder.ts";
import { configuredFfmpeg } from "./ffmpeg-binary.ts";
import { FfmpegEncoder } from "./ffmpeg-encoder.ts";
import type { EncoderCallbacks, EncoderSettings, VideoFrameEncoder } from "./video-encoder.ts";

export function createVideoEncoder(
  settings: EncoderSettings,
  callbacks: EncoderCallbacks,
): VideoFrameEncoder {
  const ffmpeg = configuredFfmpeg(import.meta.url);
  if (ffmpeg !== undefined) {
    callbacks.onLog({ level: "debug", message: `video encoder: ${ffmpeg.file}` });
    return new FfmpegEncoder(ffmpeg, settings, callbacks);
  }
  return new FrameEncoder(settings, callbacks.onChunk, callbacks.onError);
}
