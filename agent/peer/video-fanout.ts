/**
 * One encoded stream to every technician: each chunk is packetized once and the same RTP goes to
 * each connected peer's sender (werift rewrites SSRC, payload type and sequence per sender).
 *
 * The packets since the last keyframe are kept, so a technician who has just connected gets the
 * current picture at once (replayed in order) instead of waiting for a new capture and keyframe.
 *
 * The stream is in one codec at a time (the one every technician decodes); after a switch, chunks
 * still in the old codec (encoded before the switch) are dropped.
 */
import type { RtpPacket } from "werift";
import { trace, tracing } from "../media/latency-trace.ts";
import { rtpTimestamp } from "../media/rtp-clock.ts";
import type { ScreenChunk } from "../media/screen-stream.ts";
import type { VideoCodecName } from "../media/video-encoder.ts";
import type { TechnicianPeer } from "./technician-peer.ts";
import { createPacketizer, type RtpPacketizer } from "./video-codec.ts";

/** Frames after a keyframe worth replaying; a longer run asks for a fresh keyframe instead. */
const MAX_REPLAY_FRAMES = 30;
const MAX_REPLAY_BYTES = 4 * 1024 * 1024;

export class VideoFanout {
  #codec: VideoCodecName;
  #packetizer: RtpPacketizer;
  /** Peers that have received a keyframe (or the replay) and follow the stream. */
  readonly #following = new Set<TechnicianPeer>();
  #sinceKeyframe: RtpPacket[][] = [];
  #replayBytes = 0;

  constructor(codec: VideoCodecName) {
    this.#codec = codec;
    this.#packetizer = createPacketizer(codec);
  }

  get codec(): VideoCodecName {
    return this.#codec;
  }

  /** The stream switches codec: nothing of the old one is replayed or sent from now on. */
  switchTo(codec: VideoCodecName): void {
    if (codec === this.#codec) return;
    this.#codec = codec;
    this.#packetizer = createPacketizer(codec);
    this.#sinceKeyframe = [];
    this.#replayBytes = 0;
  }

  /**
   * Starts sending to a connected peer. Returns false when there is no picture to replay: the
   * caller asks for a keyframe (the peer follows from then on either way).
   */
  join(peer: TechnicianPeer): boolean {
    this.#following.add(peer);
    for (const packets of this.#sinceKeyframe) peer.sendRtp(packets);
    return this.#sinceKeyframe.length > 0;
  }

  remove(peer: TechnicianPeer): void {
    this.#following.delete(peer);
  }

  send(chunk: ScreenChunk): void {
    if (chunk.codec !== this.#codec) return;
    const packets = this.#packetizer.packetize(chunk.data, rtpTimestamp(chunk.timestampUs));
    this.#remember(chunk, packets);
    for (const peer of this.#following) peer.sendRtp(packets);
    if (tracing) trace({ event: "sent", ts: chunk.timestampUs, packets: packets.length });
  }

  #remember(chunk: ScreenChunk, packets: RtpPacket[]): void {
    if (chunk.key) {
      this.#sinceKeyframe = [];
      this.#replayBytes = 0;
    } else if (this.#sinceKeyframe.length === 0) {
      return;
    }
    this.#sinceKeyframe.push(packets);
    this.#replayBytes += chunk.data.length;
    if (this.#sinceKeyframe.length > MAX_REPLAY_FRAMES || this.#replayBytes > MAX_REPLAY_BYTES) {
      this.#sinceKeyframe = [];
      this.#replayBytes = 0;
    }
  }
}
