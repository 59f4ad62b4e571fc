/**
 * The werift RTCPeerConnection the agent offers with: a send-only video m-line, the `control`
 * channel, the `files` channel and the `screen` channel (docs/screen-copy-path.md), with exactly the ICE servers it is given (ice-servers.ts keeps werift's default STUN
 * server out), and the warm-up that pays werift's first-use costs early.
 */
import { RTCPeerConnection, type RTCRtpSender } from "werift";
import { CONTROL_CHANNEL_LABEL } from "../../shared/control.ts";
import { FILES_CHANNEL_LABEL } from "../../shared/file-transfer.ts";
import { SCREEN_CHANNEL_LABEL } from "../../shared/screen.ts";
import { type WeriftIceServer, withoutDefaultStun } from "./ice-servers.ts";
import { offeredCodecs, type VideoOffer, videoHeaderExtensions } from "./video-codec.ts";

/**
 * Seconds werift waits for a TCP or TLS connection to the relay (its `iceTurnConnectTimeout`, 8 by
 * default): also its fallback after a TURN/UDP allocation got no answer (6.35 s of retries), which
 * ICE restarts wait for. A relay that answers connects within a round trip or two (one SYN lost
 * and resent after 1 s still fits); 8 s of waiting for a blocked port left a strict firewall's TLS
 * restart too late for the 30 s consent timeout (path-watch.ts).
 */
export const TURN_CONNECT_TIMEOUT_S = 3;

/**
 * The agent's side of a technician's connection: a send-only video m-line, the `control` channel,
 * the `files` channel unless files go over a connection of their own (files-peer.ts), and the
 * `screen` channel unless the screen copy path is off (--no-screen-copy).
 */
export function agentPeerConnection(
  video: VideoOffer,
  iceServers: WeriftIceServer[],
  withFiles = true,
  withScreen = true,
) {
  const pc = new RTCPeerConnection({
    bundlePolicy: "max-bundle",
    iceTurnConnectTimeout: TURN_CONNECT_TIMEOUT_S,
    codecs: { video: offeredCodecs(video) },
    headerExtensions: { video: videoHeaderExtensions() },
    iceServers,
  });
  const transceiver = pc.addTransceiver("video", { direction: "sendonly" });
  const channel = pc.createDataChannel(CONTROL_CHANNEL_LABEL, { ordered: true });
  // File transfers have their own channel, so a file's data never holds up input or the pointer.
  const files = withFiles ? pc.createDataChannel(FILES_CHANNEL_LABEL, { ordered: true }) : undefined;
  // The lossless tiles' records: reliable and ordered (one deflate stream), beside the video.
  const screen = withScreen ? pc.createDataChannel(SCREEN_CHANNEL_LABEL, { ordered: true }) : undefined;
  // The transports exist from the first transceiver on; gathering starts at setLocalDescription.
  withoutDefaultStun(pc);
  return { pc, transceiver, sender: transceiver.sender, channel, files, screen };
}

/**
 * Sets up a throwaway peer (offer, local description, gathering) and closes it. werift creates its
 * DTLS certificate and compiles its SDP, ICE and DTLS code on first use; done while the agent waits
 * for a technician, that cost (about 80 ms here, several times more on a busy machine) is not paid
 * between the end user's consent and the first picture.
 */
export async function warmUpPeers(video: VideoOffer): Promise<void> {
  const { pc } = agentPeerConnection(video, []);
  try {
    await pc.setLocalDescription(await pc.createOffer());
  } finally {
    await pc.close();
  }
}

/** The fraction of packets lost in the technician's last receiver report (0 before one). */
export function fractionLostOf(sender: RTCRtpSender): number {
  let fractionLost = 0;
  for (const stat of sender.collectStats(Date.now())) {
    if (
      stat.type === "remote-inbound-rtp" &&
      "fractionLost" in stat &&
      typeof stat.fractionLost === "number"
    ) {
      fractionLost = stat.fractionLost;
    }
  }
  return fractionLost;
}
