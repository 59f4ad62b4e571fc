/**
 * One technician's WebRTC peer on the agent, the one module that talks to werift's
 * RTCPeerConnection. The agent is the offerer: a send-only video transceiver and the reliable,
 * ordered `control` data channel. Candidates trickle; ICE restarts when the connection fails.
 */
import { EventEmitter } from "node:events";
import {
  type RTCDataChannel,
  RTCPeerConnection,
  type RTCRtpSender,
  type RtcpPacket,
  RtcpPayloadSpecificFeedback,
  type RtpPacket,
} from "werift";
import {
  type AgentControl,
  CONTROL_CHANNEL_LABEL,
  type TechnicianControl,
  technicianControlSchema,
} from "../../shared/control.ts";
import { decodeMessage } from "../../shared/decode.ts";
import type { PersonRef } from "../../shared/model.ts";
import type { IceServer, SignalData } from "../../shared/signal.ts";
import type { AccessMode } from "../../shared/status.ts";
import type { VideoCodecName } from "../media/encoder.ts";
import type { ReceiverReport } from "./bitrate.ts";
import { holdEarlyDtls } from "./early-dtls.ts";
import { offeredCodecs, videoHeaderExtensions } from "./video-codec.ts";

export type TechnicianPeerEvents = {
  /** SDP or a candidate for the technician, to relay through the gateway. */
  signal: [SignalData];
  /** A validated control message from the technician (not yet checked against consent). */
  control: [TechnicianControl];
  /** The control channel opened: time to send the state. */
  controlOpen: [];
  /** DTLS is up: video sent now reaches the technician. */
  connected: [];
  /** The technician asked for a picture (PLI/FIR): the next frame must be a keyframe. */
  keyframeNeeded: [];
  /** A control message that failed validation (logged, dropped). */
  invalid: [string];
  closed: [reason: string];
};

export type TechnicianPeerOptions = {
  readonly peerId: string;
  readonly technician: PersonRef;
  readonly access: AccessMode;
  readonly codec: VideoCodecName;
  readonly iceServers: readonly IceServer[];
};

function toWeriftIceServer(server: IceServer): { urls: string[]; username?: string; credential?: string } {
  return {
    urls: [...server.urls],
    ...(server.username === undefined ? {} : { username: server.username }),
    ...(server.credential === undefined ? {} : { credential: server.credential }),
  };
}

/** The agent's side of a technician's connection: a send-only video m-line and the `control` channel. */
function agentPeerConnection(codec: VideoCodecName, iceServers: readonly IceServer[]) {
  const pc = new RTCPeerConnection({
    bundlePolicy: "max-bundle",
    codecs: { video: offeredCodecs(codec) },
    headerExtensions: { video: videoHeaderExtensions() },
    iceServers: iceServers.map(toWeriftIceServer),
  });
  const sender = pc.addTransceiver("video", { direction: "sendonly" }).sender;
  const channel = pc.createDataChannel(CONTROL_CHANNEL_LABEL, { ordered: true });
  return { pc, sender, channel };
}

/**
 * Sets up a throwaway peer (offer, local description, gathering) and closes it. werift creates its
 * DTLS certificate and compiles its SDP, ICE and DTLS code on first use; done while the agent waits
 * for a technician, that cost (about 80 ms here, several times more on a busy machine) is not paid
 * between the end user's consent and the first picture.
 */
export async function warmUpPeers(codec: VideoCodecName): Promise<void> {
  const { pc } = agentPeerConnection(codec, []);
  try {
    await pc.setLocalDescription(await pc.createOffer());
  } finally {
    await pc.close();
  }
}

/** ICE restarts tried after a failure before the peer gives up. */
const MAX_ICE_RESTARTS = 2;

export class TechnicianPeer extends EventEmitter<TechnicianPeerEvents> {
  readonly peerId: string;
  readonly technician: PersonRef;
  readonly access: AccessMode;
  readonly #pc: RTCPeerConnection;
  readonly #sender: RTCRtpSender;
  /** Packets sent, and packets the receiver asked for again (NACK), since the last receiverReport. */
  #packetsSent = 0;
  #nacked = 0;
  readonly #channel: RTCDataChannel;
  #localSet: Promise<unknown> = Promise.resolve();
  #restarts = 0;
  #iceConnected = false;
  #dtlsConnected = false;
  #closed = false;

  constructor(options: TechnicianPeerOptions) {
    super();
    this.peerId = options.peerId;
    this.technician = options.technician;
    this.access = options.access;
    const { pc, sender, channel } = agentPeerConnection(options.codec, options.iceServers);
    this.#pc = pc;
    this.#sender = sender;
    this.#channel = channel;
    this.#wire();
  }

  /** DTLS is up: RTP sent now reaches the technician. */
  get connected(): boolean {
    return this.#pc.connectionState === "connected";
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Creates the offer and emits it; candidates follow as they are gathered. */
  async start(): Promise<void> {
    await this.#offer(false);
  }

  async handleSignal(data: SignalData): Promise<void> {
    if (this.#closed) return;
    if (data.kind === "description") {
      if (data.type !== "answer") throw new Error("the agent offers; it takes answers only");
      await this.#localSet;
      await this.#pc.setRemoteDescription({ type: "answer", sdp: data.sdp });
      return;
    }
    await this.#pc.addIceCandidate({
      candidate: data.candidate,
      ...(data.sdpMid === null ? {} : { sdpMid: data.sdpMid }),
      ...(data.sdpMLineIndex === null ? {} : { sdpMLineIndex: data.sdpMLineIndex }),
    });
  }

  /** Sends one frame's packets; dropped while not connected. */
  sendRtp(packets: readonly RtpPacket[]): void {
    if (!this.connected) return;
    this.#packetsSent += packets.length;
    for (const packet of packets) {
      this.#sender.sendRtp(packet).catch(() => {
        // A packet lost on a closing transport: the receiver recovers with NACK/PLI.
      });
    }
  }

  sendControl(message: AgentControl): void {
    if (this.#channel.readyState !== "open") return;
    this.#channel.send(JSON.stringify(message));
  }

  /**
   * What the technician's receiver reported: REMB estimate (0 until one arrives), loss, and the
   * share of the packets sent since the previous call that it asked to have sent again (NACK).
   */
  receiverReport(): ReceiverReport {
    const nackRate = this.#packetsSent > 0 ? Math.min(1, this.#nacked / this.#packetsSent) : 0;
    this.#packetsSent = 0;
    this.#nacked = 0;
    let fractionLost = 0;
    for (const stat of this.#sender.collectStats(Date.now())) {
      if (
        stat.type === "remote-inbound-rtp" &&
        "fractionLost" in stat &&
        typeof stat.fractionLost === "number"
      ) {
        fractionLost = stat.fractionLost;
      }
    }
    return { estimate: Number(this.#sender.receiverEstimatedMaxBitrate), fractionLost, nackRate };
  }

  /** Closes the connection. Safe to call more than once; emits `closed` once. */
  async close(reason = "closed"): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.emit("closed", reason);
    this.removeAllListeners();
    await this.#pc.close().catch(() => undefined);
  }

  async #offer(iceRestart: boolean): Promise<void> {
    const offer = await this.#pc.createOffer({ iceRestart });
    if (this.#closed) return;
    this.emit("signal", { kind: "description", type: "offer", sdp: offer.sdp });
    this.#localSet = this.#pc.setLocalDescription(offer);
    await this.#localSet;
    if (!iceRestart) holdEarlyDtls(this.#pc);
  }

  #wire(): void {
    this.#pc.onIceCandidate.subscribe((candidate) => {
      if (candidate === undefined || this.#closed || candidate.candidate === "") return;
      this.emit("signal", {
        kind: "candidate",
        candidate: candidate.candidate,
        sdpMid: candidate.sdpMid ?? null,
        sdpMLineIndex: candidate.sdpMLineIndex ?? null,
      });
    });
    this.#pc.iceConnectionStateChange.subscribe((state) => {
      if (state === "connected" || state === "completed") this.#iceConnected = true;
    });
    this.#pc.connectionStateChange.subscribe((state) => {
      if (this.#closed) return;
      if (state === "connected") {
        this.#restarts = 0;
        this.#dtlsConnected = true;
        this.emit("connected");
      } else if (state === "failed") {
        if (this.#iceConnected && !this.#dtlsConnected) {
          // ICE worked but DTLS did not (a fingerprint that does not match the SDP): never retried.
          void this.close("dtls_failed");
          return;
        }
        if (this.#restarts >= MAX_ICE_RESTARTS) {
          void this.close("failed");
          return;
        }
        this.#restarts += 1;
        this.#offer(true).catch(() => void this.close("failed"));
      } else if (state === "closed") {
        void this.close("closed");
      }
    });
    this.#sender.onPictureLossIndication.subscribe(() => this.emit("keyframeNeeded"));
    this.#sender.onGenericNack.subscribe((feedback) => {
      this.#nacked += feedback.lost.length;
    });
    this.#sender.onRtcp.subscribe((packet: RtcpPacket) => {
      if (packet instanceof RtcpPayloadSpecificFeedback && "fir" in packet.feedback)
        this.emit("keyframeNeeded");
    });
    this.#channel.stateChanged.subscribe((state) => {
      if (state === "open") this.emit("controlOpen");
    });
    this.#channel.onMessage.subscribe((data) => {
      if (typeof data !== "string") {
        this.emit("invalid", "binary message on the control channel");
        return;
      }
      const decoded = decodeMessage(technicianControlSchema, data);
      if (decoded.ok) this.emit("control", decoded.value);
      else this.emit("invalid", decoded.error.message);
    });
  }
}
