/**
 * What each video codec means on the wire: the SDP codec entries the agent offers, which codec a
 * session's technicians can all decode, and the werift packetizer that turns an encoded chunk into
 * RTP packets.
 *
 * The agent offers both codecs, its preferred one first: H.264 where the browser decodes it, VP8
 * for one that does not (VP8 is mandatory in every WebRTC browser, RFC 7742; Debian's Firefox ESR
 * has no H.264 without Cisco's OpenH264). H.264 is offered for what the encoder emits:
 * - the FFmpeg adapter: constrained baseline (42e01f), which every H.264 browser decodes;
 * - WebCodecs' libx264, which emits High whatever is asked (media/encoder.ts; no B-frames): High
 *   (64001f, Safari lists it) and Main (4d001f), the best Chromium lists. Chromium decodes
 *   with FFmpeg or the platform's decoder, which read the stream's own profile; a browser whose
 *   decoder reads constrained baseline only (Firefox with OpenH264) lists neither, answers without
 *   H.264 and gets VP8 rather than a stream it cannot read. It is never labelled baseline.
 * Packetization mode 1.
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
import { VIDEO_CODECS, type VideoCodecName } from "../media/video-encoder.ts";

const H264_FMTP = "packetization-mode=1;level-asymmetry-allowed=1";

/** The H.264 the agent's encoder emits (see above), and the SDP profile-level-ids offered for it. */
export const H264_PROFILES = {
  high: ["64001f", "4d001f"],
  "constrained-baseline": ["42e01f"],
} as const;
export type H264Profile = keyof typeof H264_PROFILES;

/** What the agent offers: its preferred codec, and the H.264 profile its encoder emits. */
export type VideoOffer = { readonly preferred: VideoCodecName; readonly h264Profile: H264Profile };

/** The codecs in the agent's order of preference: the preferred one, then the other. */
export function codecPreference(offer: VideoOffer): VideoCodecName[] {
  return [offer.preferred, ...VIDEO_CODECS.filter((codec) => codec !== offer.preferred)];
}

export function offeredCodecs(offer: VideoOffer): RTCRtpCodecParameters[] {
  return codecPreference(offer).flatMap((codec) =>
    codec === "vp8"
      ? [useVP8()]
      : H264_PROFILES[offer.h264Profile].map((id) =>
          useH264({ parameters: `profile-level-id=${id};${H264_FMTP}` }),
        ),
  );
}

/** Our name of a negotiated codec's MIME type ("video/H264"), if it is one the agent encodes. */
export function codecNameOf(mimeType: string): VideoCodecName | undefined {
  const name = mimeType.toLowerCase().replace(/^video\//, "");
  return VIDEO_CODECS.find((codec) => codec === name);
}

/**
 * The codec to encode for a session's technicians: the first in the agent's preference that every
 * one of them accepted; the preferred one while nobody is connected (or, as no WebRTC browser lacks
 * VP8, never in practice, when no codec suits everyone).
 */
export function sharedCodec(
  preference: readonly VideoCodecName[],
  accepted: readonly (readonly VideoCodecName[])[],
): VideoCodecName {
  const preferred = preference[0] ?? "h264";
  return preference.find((codec) => accepted.every((codecs) => codecs.includes(codec))) ?? preferred;
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
