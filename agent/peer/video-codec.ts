/**
 * What each video codec means on the wire: the SDP codec entries the agent offers and the werift
 * packetizer that turns an encoded chunk into RTP packets.
 *
 * H.264: the encoder emits High profile whatever is asked (see media/encoder.ts), so the offer names
 * High first (64001f) and keeps constrained baseline (42e01f) as a fallback for answerers that only
 * list that; software decoders (Chromium's, FFmpeg's) decode either. Packetization mode 1.
 */
import {
  H264Packetizer,
  type RTCRtpCodecParameters,
  type RtpPacket,
  useAbsSendTime,
  useH264,
  useVP8,
  Vp8Packetizer,
} from "werift";
import type { VideoCodecName } from "../media/encoder.ts";

const H264_FMTP = "packetization-mode=1;level-asymmetry-allowed=1";

export function offeredCodecs(codec: VideoCodecName): RTCRtpCodecParameters[] {
  if (codec === "vp8") return [useVP8()];
  return [
    useH264({ parameters: `profile-level-id=64001f;${H264_FMTP}` }),
    useH264({ parameters: `profile-level-id=42e01f;${H264_FMTP}` }),
  ];
}

/** abs-send-time lets Chromium estimate bandwidth and answer with REMB. */
export const videoHeaderExtensions = () => [useAbsSendTime()];

export type RtpPacketizer = { packetize(data: Buffer, rtpTimestamp: number): RtpPacket[] };

export function createPacketizer(codec: VideoCodecName): RtpPacketizer {
  return codec === "vp8" ? new Vp8Packetizer() : new H264Packetizer({ inputFormat: "annexb" });
}

/** The 90 kHz RTP clock from a capture timestamp in microseconds. */
export function rtpTimestamp(timestampUs: number): number {
  return Math.round((timestampUs * 9) / 100) >>> 0;
}
