/**
 * What the agent's video says on the wire besides the picture: every RTP packet asks the receiver
 * to show frames without a playout delay (the webrtc.org playout-delay extension, 0 and 0), under
 * the id the agent's offer gives that extension.
 */
import t from "tap";
import { RtpPacket } from "werift";
import { rtpTimestamp } from "../../agent/media/rtp-clock.ts";
import { agentPeerConnection } from "../../agent/peer/peer-connection.ts";
import {
  codecPreference,
  createPacketizer,
  PLAYOUT_DELAY_ID,
  PLAYOUT_DELAY_URI,
  sharedCodec,
} from "../../agent/peer/video-codec.ts";

/** A frame's worth of bytes (an IDR slice NAL, for H.264), large enough for several packets. */
function frameBytes(codec: "h264" | "vp8"): Buffer {
  const body = Buffer.alloc(4_000, 0x5a);
  return codec === "h264" ? Buffer.concat([Buffer.from([0, 0, 0, 1, 0x65]), body]) : body;
}

t.test("the agent's offer names the playout-delay extension under the id its packets use", async (t) => {
  for (const codec of ["h264", "vp8"] as const) {
    const { pc } = agentPeerConnection({ preferred: codec, h264Profile: "high" }, []);
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

t.test(
  "H.264 is offered only as the profiles the encoder can stand behind, VP8 always beside it",
  async (t) => {
    const h264Lines = async (h264Profile: "high" | "constrained-baseline") => {
      const { pc } = agentPeerConnection({ preferred: "h264", h264Profile }, []);
      t.teardown(() => pc.close());
      const sdp = (await pc.createOffer()).sdp;
      t.match(sdp, /a=rtpmap:\d+ VP8\/90000/, `${h264Profile}: VP8 offered as the fallback`);
      return [...sdp.matchAll(/profile-level-id=([0-9a-f]{6})/g)].map((m) => m[1]);
    };
    t.same(await h264Lines("high"), ["64001f", "4d001f"], "WebCodecs' High stream: never labelled baseline");
    t.same(await h264Lines("constrained-baseline"), ["42e01f"], "the FFmpeg adapter's baseline stream");
  },
);

t.test(
  "the stream's codec is the agent's first choice that every connected technician decodes",
  async (t) => {
    const prefersH264 = codecPreference({ preferred: "h264", h264Profile: "high" });
    t.same(prefersH264, ["h264", "vp8"]);
    t.equal(sharedCodec(prefersH264, []), "h264", "nobody connected: the preferred codec");
    t.equal(sharedCodec(prefersH264, [["h264", "vp8"]]), "h264");
    t.equal(
      sharedCodec(prefersH264, [["h264", "vp8"], ["vp8"]]),
      "vp8",
      "one technician without H.264: VP8 for all",
    );
    t.equal(sharedCodec(prefersH264, [["vp8", "h264"]]), "h264", "the agent's order, not the answer's");
    t.equal(sharedCodec(prefersH264, [["h264"], ["vp8"]]), "h264", "nothing shared: the preferred codec");
    t.equal(
      sharedCodec(codecPreference({ preferred: "vp8", h264Profile: "high" }), [["h264", "vp8"]]),
      "vp8",
    );
  },
);
