/**
 * What each video codec means on the wire: the SDP codec entries the agent offers and the werift
 * packetizer that turns an encoded chunk into RTP packets.
 *
 * H.264: the encoder emits High profile whatever is asked (see media/encoder.ts), so the offer names
 * High first (64001f) and keeps constrained baseline (42e01f) as a fallback for answerers that only
 * list that; software decoders (Chromium's, FFmpeg's) decode either. Packetization mode 1.
 *
 * Every packet carries the playout-delay header extension (webrtc.org) with a minimum and maximum
 * of 0: the receiver shows each frame as soon as it is decoded instead of scheduling it through its
 * jitter buffer's smoothing delay, which on a remote desktop (frames only when something changes,
 * often one alone after a pause) held a key's echo for up to 1.5 s in Chromium.
 */
import {
  H264Packetizer,
  type RTCRtpCodecParameters,
  RTCRtpHeaderExtensionParameters,
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

export const PLAYOUT_DELAY_URI = "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay";
/**
 * The extension's id: werift numbers the offered extensions from 1 in order, and the answerer
 * keeps the offerer's ids.
 */
export const PLAYOUT_DELAY_ID = 2;
/** 12 bits minimum, 12 bits maximum, in 10 ms units: 0 and 0, "no delay". */
const NO_PLAYOUT_DELAY = Buffer.alloc(3);

/** abs-send-time lets Chromium estimate bandwidth and answer with REMB; playout-delay, see above. */
export const videoHeaderExtensions = () => [
  useAbsSendTime(),
  new RTCRtpHeaderExtensionParameters({ uri: PLAYOUT_DELAY_URI }),
];

export type RtpPacketizer = { packetize(data: Buffer, rtpTimestamp: number): RtpPacket[] };

export function createPacketizer(codec: VideoCodecName): RtpPacketizer {
  const packetizer = codec === "vp8" ? new Vp8Packetizer() : new H264Packetizer({ inputFormat: "annexb" });
  return {
    packetize(data, timestamp) {
      const packets = packetizer.packetize(data, timestamp);
      for (const packet of packets) {
        packet.header.extensions.push({ id: PLAYOUT_DELAY_ID, payload: NO_PLAYOUT_DELAY });
      }
      return packets;
    },
  };
}

/** The 90 kHz RTP clock from a capture timestamp in microseconds. */
export function rtpTimestamp(timestampUs: number): number {
  return Math.round((timestampUs * 9) / 100) >>> 0;
}
