/**
 * What the agent's video says on the wire besides the picture: every RTP packet asks the receiver
 * to show frames without a playout delay (the webrtc.org playout-delay extension, 0 and 0), under
 * the id the agent's offer gives that extension.
 */
import t from "tap";
import { RtpPacket } from "werift";
import { agentPeerConnection } from "../../agent/peer/peer-connection.ts";
import {
  createPacketizer,
  PLAYOUT_DELAY_ID,
  PLAYOUT_DELAY_URI,
  rtpTimestamp,
} from "../../agent/peer/video-codec.ts";

/** A frame's worth of bytes (an IDR slice NAL, for H.264), large enough for several packets. */
function frameBytes(codec: "h264" | "vp8"): Buffer {
  const body = Buffer.alloc(4_000, 0x5a);
  return codec === "h264" ? Buffer.concat([Buffer.from([0, 0, 0, 1, 0x65]), body]) : body;
}

t.test("the agent's offer names the playout-delay extension under the id its packets use", async (t) => {
  for (const codec of ["h264", "vp8"] as const) {
    const { pc } = agentPeerConnection(codec, []);
    t.teardown(() => pc.close());
    const offer = await pc.createOffer();
    t.match(offer.sdp, `a=extmap:${PLAYOUT_DELAY_ID} ${PLAYOUT_DELAY_URI}`, `${codec} offer`);
  }
});

t.test("every packet of a frame asks for no playout delay (minimum 0, maximum 0), on the wire", async (t) => {
  for (const codec of ["h264", "vp8"] as const) {
    const packets = createPacketizer(codec).packetize(frameBytes(codec), rtpTimestamp(1_000));
    t.ok(packets.length > 1, `${codec}: ${packets.length} packets`);
    for (const packet of packets) {
      const wire = RtpPacket.deSerialize(packet.serialize());
      const extension = wire.header.extensions.find((e) => e.id === PLAYOUT_DELAY_ID);
      t.same([...(extension?.payload ?? [])], [0, 0, 0], `${codec}: packet ${wire.header.sequenceNumber}`);
    }
  }
});
