/**
 * One encoded stream to every technician: each chunk is packetized once and the same RTP goes to
 * each connected peer's sender (werift rewrites SSRC, payload type and sequence per sender).
 */
import type { VideoCodecName } from "../media/encoder.ts";
import type { ScreenChunk } from "../media/screen-stream.ts";
import type { TechnicianPeer } from "./technician-peer.ts";
import { createPacketizer, type RtpPacketizer, rtpTimestamp } from "./video-codec.ts";

export class VideoFanout {
  readonly #packetizer: RtpPacketizer;
  readonly #peers = new Set<TechnicianPeer>();

  constructor(codec: VideoCodecName) {
    this.#packetizer = createPacketizer(codec);
  }

  add(peer: TechnicianPeer): void {
    this.#peers.add(peer);
  }

  remove(peer: TechnicianPeer): void {
    this.#peers.delete(peer);
  }

  get size(): number {
    return this.#peers.size;
  }

  send(chunk: ScreenChunk): void {
    if (this.#peers.size === 0) return;
    const packets = this.#packetizer.packetize(chunk.data, rtpTimestamp(chunk.timestampUs));
    for (const peer of this.#peers) peer.sendRtp(packets);
  }
}
