/**
 * The video encoder of builds that carry an FFmpeg executable (win-x64), bundled in place of
 * encoder-backend.ts (build/bundle.ts): it never imports the WebCodecs adapter, whose addon such a
 * build does not have.
 */
import { AgentError } from "../exit.ts";
import { configuredFfmpeg, FFMPEG_MANIFEST } from "./ffmpeg-binary.ts";
import { FfmpegEncoder } from "./ffmpeg-encoder.ts";
import type { EncoderCallbacks, EncoderSettings, VideoFrameEncoder } from "./video-encoder.ts";

export function createVideoEncoder(
  settings: EncoderSettings,
  callbacks: EncoderCallbacks,
): VideoFrameEncoder {
  const ffmpeg = configuredFfmpeg(import.meta.url);
  if (ffmpeg === undefined) {
    throw new AgentError(
      "internal",
      `This build has no video encoder: ${FFMPEG_MANIFEST} is missing beside the program's files.`,
    );
  }
  callbacks.onLog({ level: "debug", message: `video encoder: ${ffmpeg.file}` });
  return new FfmpegEncoder(ffmpeg, settings, callbacks);
}
