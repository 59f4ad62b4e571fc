/**
 * One technician's WebRTC peer on the agent, the one module that talks to werift's
 * RTCPeerConnection. The agent is the offerer: a send-only video transceiver and the reliable,
 * ordered `control` data channel (beside `files` and `screen`: screen-link.ts). Candidates
 * trickle. ICE servers are exactly the gateway's, one TURN transport per attempt (ice-servers.ts);
 * which attempt, and when to restart ICE or end, is path-watch.ts's to say: before the first
 * connection each transport once, then the end; once connected, a path silent for 12 s restarts
 * on the transport that carried it, then on the others in turn (one the last restart already tried
 * left out) until it answers again or the consent timeout (30 s) ends the peer.
 */
import { EventEmitter } from "node:events";
import {
  ReceiverEstimatedMaxBitrate,
  type RTCDataChannel,
  type RTCPeerConnection,
  type RTCRtpSender,
  type RtcpPacket,
  RtcpPayloadSpecificFeedback,
  type RtpPacket,
} from "werift";
import { type AgentControl, type TechnicianControl, technicianControlSchema } from "../../shared/control.ts";
import { decodeMessage } from "../../shared/decode.ts";
import type { PersonRef } from "../../shared/model.ts";
import type { ScreenControl } from "../../shared/screen.ts";
import type { IceServer, SignalData } from "../../shared/signal.ts";
import type { AccessMode } from "../../shared/status.ts";
import type { FileLink } from "../files/file-link.ts";
import { EstimateWatch, nackRateOf, type ReceiverReport } from "./bitrate.ts";
import { keyObjectsForDtls } from "./dtls-keys.ts";
import { holdEarlyDtls } from "./early-dtls.ts";
import { attemptCovers, attemptTransport, iceAttempts, type WeriftIceServer } from "./ice-servers.ts";
import { PacedQueue, type PaceSettings } from "./pacer.ts";
import { PATH_DEFAULTS, type PathAction, PathWatch, PEER_END_REASONS } from "./path-watch.ts";
import { agentPeerConnection, fractionLostOf } from "./peer-connection.ts";
import { type ScreenLink, screenLinkOf } from "./screen-link.ts";
import { SenderCodec } from "./sender-codec.ts";
import type { VideoOffer } from "./video-codec.ts";

export type TechnicianPeerEvents = {
  /** SDP or a candidate for the technician (relayed by the gateway). */
  signal: [SignalData];
  /** A validated control message from the technician (not yet checked against consent). */
  control: [TechnicianControl];
  /** The control channel opened: time to send the state. */
  controlOpen: [];
  /** DTLS is up for the first time: video sent now reaches the technician. */
  connected: [];
  /** The first video packets went out on the connection: the technician sees the screen. */
  mediaFlowing: [];
  /** The path went quiet or failed after it had worked: ICE restarts (on `transport`). */
  interrupted: [transport: string];
  /** A further ICE restart (on `transport`): the previous attempt did not connect in time. */
  restarting: [transport: string];
  /** An ICE restart brought the path back (a keyframe is asked for at the same time). */
  restored: [];
  /** The technician asked for a picture (PLI/FIR): the next frame must be a keyframe. */
  keyframeNeeded: [];
  /** A control message that failed validation (logged, dropped), on `control` or `screen`. */
  invalid: [string];
  /** A valid message from the console on the `screen` channel (`screen.ready`, `screen.resync`). */
  screen: [ScreenControl];
  /** The `screen` channel closed. */
  screenClosed: [];
  /**
   * A control message for the technician not sent (sendControl): why, and whether werift refused
   * it on an open channel (`refused`: e.g. past max-message-size) rather than the channel having
   * closed meanwhile.
   */
  dropped: [reason: string, refused: boolean];
  closed: [reason: string];
};

export type TechnicianPeerOptions = {
  readonly peerId: string;
  readonly technician: PersonRef;
  readonly access: AccessMode;
  readonly video: VideoOffer;
  readonly iceServers: readonly IceServer[];
  /** False when files go over a connection of their own (files-peer.ts): no `files` channel here. */
  readonly filesChannel?: boolean;
  /** False when the screen copy path is off (--no-screen-copy): no `screen` channel. */
  readonly screenChannel?: boolean;
  /** Time for the technician's answer to the first offer; none, and the peer ends ("no_answer"). */
  readonly answerTimeoutMs?: number;
  /** Time for one connection attempt; then the next (an ICE restart), or the peer ends ("failed"). */
  readonly attemptTimeoutMs?: number;
  /** Time for each ICE restart of a path that had worked; then the next one. */
  readonly retryTimeoutMs?: number;
  /** RFC 7675: a path without a consent response for this long ends the peer ("consent_expired"). */
  readonly consentTimeoutMs?: number;
  /** The stream's bitrate and frame rate now, which the video's packets are paced by (pacer.ts). */
  readonly pace?: () => PaceSettings;
};

/** The pace without a stream to follow: the agent's default maximum bitrate and a fast frame rate. */
const DEFAULT_PACE: PaceSettings = { bitrate: 3_000_000, fps: 30 };

const wireSize = (packet: RtpPacket) => packet.header.serializeSize + packet.payload.length;

const WATCH_MS = 1_000;

export class TechnicianPeer extends EventEmitter<TechnicianPeerEvents> {
  readonly peerId: string;
  readonly technician: PersonRef;
  readonly access: AccessMode;
  readonly #pc: RTCPeerConnection;
  readonly #sender: RTCRtpSender;
  /** Which of the codecs the technician accepted the video goes out in. */
  readonly codec: SenderCodec;
  /**
   * Packets sent, and the packets the receiver asked for again (NACK; each once: a packet it does
   * not get is asked for again every round trip), since the last receiverReport.
   */
  #packetsSent = 0;
  readonly #nacked = new Set<number>();
  /** The receiver's REMB estimates since the last receiverReport. */
  readonly #estimates = new EstimateWatch();
  /** The video's packets on their way out, spread over time (pacer.ts). */
  readonly #paced = new PacedQueue<RtpPacket>(performance.now());
  readonly #pace: () => PaceSettings;
  #paceTimer: NodeJS.Timeout | undefined;
  /** Bytes sent since the last receiverReport, and when that was. */
  #bytesSent = 0;
  #reportedAt = performance.now();
  readonly #channel: RTCDataChannel;
  /** The `files` channel, as the file transfers see it (none with `filesChannel: false`). */
  readonly files: FileLink | undefined;
  /** The `screen` channel (none with `screenChannel: false`). */
  readonly screen: ScreenLink | undefined;
  #localSet: Promise<unknown> = Promise.resolve();
  /** The ICE server list of each attempt (the one under way: #path.attempt). */
  #attempts: WeriftIceServer[][];
  #iceConnected = false;
  #flowing = false;
  readonly #path: PathWatch;
  readonly #watch: NodeJS.Timeout;
  #closed = false;

  constructor(options: TechnicianPeerOptions) {
    super();
    this.peerId = options.peerId;
    this.technician = options.technician;
    this.access = options.access;
    this.#pace = options.pace ?? (() => DEFAULT_PACE);
    this.#attempts = iceAttempts(options.iceServers);
    const { pc, transceiver, sender, channel, files, screen } = agentPeerConnection(
      options.video,
      this.#attempts[0] ?? [],
      options.filesChannel ?? true,
      options.screenChannel ?? true,
    );
    this.#pc = pc;
    this.#sender = sender;
    this.codec = new SenderCodec(transceiver, options.video.preferred);
    this.#channel = channel;
    this.files = files === undefined ? undefined : fileLinkOf(files);
    this.screen =
      screen === undefined
        ? undefined
        : screenLinkOf(screen, {
            control: (message) => this.#emitOpen("screen", message),
            invalid: (reason) => this.#emitOpen("invalid", reason),
            closed: () => this.#emitOpen("screenClosed"),
          });
    this.#path = new PathWatch(
      {
        answer: options.answerTimeoutMs ?? PATH_DEFAULTS.answer,
        attempt: options.attemptTimeoutMs ?? PATH_DEFAULTS.attempt,
        consent: options.consentTimeoutMs ?? PATH_DEFAULTS.consent,
        quiet: PATH_DEFAULTS.quiet,
        retry: options.retryTimeoutMs ?? PATH_DEFAULTS.retry,
      },
      this.#attempts.length,
      attemptCovers(this.#attempts),
    );
    this.#watch = setInterval(() => this.#watchPath(), WATCH_MS);
    this.#wire();
  }

  /** The TURN transport of the attempt under way ("none": direct and STUN only). */
  get transport(): string {
    return attemptTransport(this.#attempts[this.#path.attempt] ?? []);
  }

  /** DTLS is up: RTP sent now reaches the technician. */
  get connected(): boolean {
    return this.#pc.connectionState === "connected";
  }

  /** Video went out on the connection (the technician sees the screen). */
  get flowing(): boolean {
    return this.#flowing;
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
      try {
        await this.#pc.setRemoteDescription({ type: "answer", sdp: data.sdp });
        this.codec.answered();
      } finally {
        // Answered, even if werift refused the answer: the next restart is the remedy then.
        this.#path.answered();
      }
      if (this.#path.connected) this.#startChecks();
      return;
    }
    await this.#pc.addIceCandidate({
      candidate: data.candidate,
      ...(data.sdpMid === null ? {} : { sdpMid: data.sdpMid }),
      ...(data.sdpMLineIndex === null ? {} : { sdpMLineIndex: data.sdpMLineIndex }),
    });
  }

  /**
   * Sends one frame's packets, paced (pacer.ts); dropped while not connected or in a codec the
   * technician lacks.
   */
  sendRtp(packets: readonly RtpPacket[]): void {
    if (!this.connected || !this.codec.usable || packets.length === 0) return;
    if (!this.#flowing) {
      this.#flowing = true;
      this.emit("mediaFlowing");
    }
    this.#paced.push(packets, wireSize, performance.now(), this.#pace());
    this.#sendPaced();
  }

  /** Sends what the pace allows now, and comes back when more may go. */
  #sendPaced(): void {
    if (this.#paceTimer !== undefined) return;
    const now = performance.now();
    const pace = this.#pace();
    for (const packet of this.#paced.take(now, pace)) {
      this.#packetsSent += 1;
      this.#bytesSent += wireSize(packet);
      this.#sender.sendRtp(packet).catch(() => {
        // A packet lost on a closing transport: the receiver recovers with NACK/PLI.
      });
    }
    const wait = this.#paced.wait(now, pace);
    if (wait === undefined || this.#closed) return;
    this.#paceTimer = setTimeout(() => {
      this.#paceTimer = undefined;
      this.#sendPaced();
    }, wait);
  }

  /**
   * Sends on the `control` channel; never throws (the callers are watchers whose callbacks nothing
   * catches). Before the channel opened the message is dropped silently (the state goes out on
   * `controlOpen`); once it is closing or closed (the technician went meanwhile), or when werift
   * refuses it (past the technician's max-message-size), it is dropped and told as `dropped`.
   */
  sendControl(message: AgentControl): void {
    const state = this.#channel.readyState;
    if (state === "connecting") return;
    if (state !== "open") {
      this.emit("dropped", `${message.type}: the control channel is ${state}`, false);
      return;
    }
    try {
      this.#channel.send(JSON.stringify(message));
    } catch (error) {
      this.emit(
        "dropped",
        `${message.type}: ${error instanceof Error ? error.message : String(error)}`,
        true,
      );
    }
  }

  /**
   * What the technician's receiver reported: REMB estimate (0 until one arrives), loss, and the
   * share of the packets sent since the previous call that it asked to have sent again (NACK);
   * and the bit rate sent to it since the previous call.
   */
  receiverReport(): ReceiverReport {
    const nackRate = nackRateOf(this.#nacked.size, this.#packetsSent);
    const now = performance.now();
    const seconds = Math.max(0.001, (now - this.#reportedAt) / 1000);
    const sentBitrate = (this.#bytesSent * 8) / seconds;
    this.#packetsSent = 0;
    this.#nacked.clear();
    this.#bytesSent = 0;
    this.#reportedAt = now;
    const fractionLost = fractionLostOf(this.#sender);
    return { ...this.#estimates.take(), fractionLost, nackRate, sentBitrate };
  }

  /**
   * The gateway's fresh TURN credential (`peer.ice`): same URLs, so the same attempts in the same
   * order with the new username and password. The running connection keeps its allocation (werift
   * refreshes it with the credential it was made with); the next ICE restart hands these to the
   * gatherers (#offer: setConfiguration), so a restart after the first credential expired still
   * allocates on the relay.
   */
  renewIceServers(iceServers: readonly IceServer[]): void {
    if (this.#closed) return;
    const attempts = iceAttempts(iceServers);
    if (attempts.length === 0) return;
    this.#attempts = attempts;
    this.#path.attemptsChanged(attempts.length, attemptCovers(attempts));
  }

  /** Emits while the peer is open (a closed one has no listeners left anyway). */
  #emitOpen<K extends keyof TechnicianPeerEvents>(event: K, ...args: TechnicianPeerEvents[K]): void {
    if (!this.#closed) this.emit(event, ...(args as never));
  }

  /** Closes the connection. Safe to call more than once; emits `closed` once. */
  async close(reason = "closed"): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#watch);
    clearTimeout(this.#paceTimer);
    this.#paced.clear();
    this.emit("closed", reason);
    this.removeAllListeners();
    await this.#pc.close().catch(() => undefined);
  }

  async #offer(iceRestart: boolean): Promise<void> {
    this.#path.attemptStarted(Date.now());
    const offer = await this.#pc.createOffer({ iceRestart });
    if (this.#closed) return;
    // werift resets its gatherers to "new" on restart, and setConfiguration then hands the new
    // servers to them for the gathering setLocalDescription starts (secureTransportManager.js,
    // updateIceServers). Set before the offer goes out: its candidates come from this gathering.
    if (iceRestart) this.#pc.setConfiguration({ iceServers: this.#attempts[this.#path.attempt] ?? [] });
    this.emit("signal", { kind: "description", type: "offer", sdp: offer.sdp });
    this.#localSet = this.#pc.setLocalDescription(offer);
    await this.#localSet;
    if (!iceRestart) holdEarlyDtls(this.#pc);
  }

  /**
   * After an ICE restart's answer: werift's RTCPeerConnection starts ICE checks only on a transport
   * whose DTLS is not connected (connect(): it returns early otherwise), so on a restart of a
   * connected peer it would only answer the technician's checks and never send its own. Its new
   * relay candidate would then never get a permission on the relay, and a network that lets the
   * agent reach only the relay's TURN port would stay dark (seen in the relay tests). The checks
   * start here, on exactly the transports werift skipped.
   */
  #startChecks(): void {
    for (const dtls of this.#pc.dtlsTransports) {
      if (dtls.state !== "connected" || dtls.iceTransport.state === "connected") continue;
      dtls.iceTransport.start().catch(() => {
        // A restart whose checks all fail: PathWatch moves on to the next attempt.
      });
    }
  }

  /** What PathWatch says to do: end, restart ICE on its attempt, or show the picture again. */
  #act(action: PathAction): void {
    if (this.#closed) return;
    if (action === "no_answer") void this.close(PEER_END_REASONS.noAnswer);
    else if (action === "failed") void this.close(PEER_END_REASONS.failed);
    else if (action === "consent_expired") void this.close(PEER_END_REASONS.consentExpired);
    else if (action === "restored") this.#restored();
    else if (action === "interrupted" || action === "restart") {
      if (action === "interrupted") this.emit("interrupted", this.transport);
      else if (this.#path.interrupted) this.emit("restarting", this.transport);
      this.#offer(true).catch(() => void this.close(PEER_END_REASONS.failed));
    }
  }

  /** The path answered again after an interruption (PathWatch heard it): picture back at once. */
  #restored(): void {
    this.emit("restored");
    this.emit("keyframeNeeded");
  }

  #watchPath(): void {
    if (this.#closed) return;
    const pair = this.#pc.iceTransports[0]?.connection.nominated;
    this.#act(this.#path.check(Date.now(), pair));
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
      if (this.#closed) return;
      if (state === "connected" || state === "completed") this.#iceConnected = true;
    });
    this.#pc.connectionStateChange.subscribe((state) => {
      if (this.#closed) return;
      if (state === "connected") {
        // After the first time, whether the path is back is PathWatch's to say (#watchPath).
        if (this.#path.connected) return;
        keyObjectsForDtls(this.#pc);
        this.#path.up(Date.now());
        this.emit("connected");
      } else if (state === "failed") {
        if (this.#iceConnected && !this.#path.connected) {
          // ICE worked but DTLS did not (a fingerprint that does not match the SDP): never retried.
          void this.close(PEER_END_REASONS.dtlsFailed);
          return;
        }
        this.#act(this.#path.failed());
      } else if (state === "closed") {
        void this.close("closed");
      }
    });
    this.#sender.onPictureLossIndication.subscribe(() => this.emit("keyframeNeeded"));
    this.#sender.onGenericNack.subscribe((feedback) => {
      for (const sequenceNumber of feedback.lost) this.#nacked.add(sequenceNumber);
    });
    this.#sender.onRtcp.subscribe((packet: RtcpPacket) => {
      if (!(packet instanceof RtcpPayloadSpecificFeedback)) return;
      if ("fir" in packet.feedback) this.emit("keyframeNeeded");
      else if (packet.feedback instanceof ReceiverEstimatedMaxBitrate)
        this.#estimates.observe(Number(packet.feedback.bitrate));
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

/** werift's data channel as a FileLink (file-link.ts). */
export function fileLinkOf(channel: RTCDataChannel): FileLink {
  return {
    get open() {
      return channel.readyState === "open";
    },
    get bufferedAmount() {
      return channel.bufferedAmount;
    },
    send(data) {
      if (channel.readyState !== "open") return;
      try {
        channel.send(data);
      } catch {
        // The association went between the check and the send: dropped (FileLink).
      }
    },
    whenLow(threshold, listener) {
      if (channel.bufferedAmount <= threshold) {
        listener();
        return;
      }
      channel.bufferedAmountLowThreshold = threshold;
      const { unSubscribe } = channel.bufferedAmountLow.subscribe(() => {
        unSubscribe();
        listener();
      });
      // Closed while waiting: the sender finds the channel shut and stops.
      const closed = channel.stateChanged.subscribe((state) => {
        if (state !== "closed") return;
        closed.unSubscribe();
        unSubscribe();
        listener();
      });
    },
    onMessage: (listener) => void channel.onMessage.subscribe(listener),
    onClose: (listener) =>
      void channel.stateChanged.subscribe((state) => {
        if (state === "closed") listener();
      }),
    onOpen(listener) {
      if (channel.readyState === "open") {
        queueMicrotask(listener);
        return;
      }
      const { unSubscribe } = channel.stateChanged.subscribe((state) => {
        if (state !== "open") return;
        unSubscribe();
        listener();
      });
    },
  };
}
