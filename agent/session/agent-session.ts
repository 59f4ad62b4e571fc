/**
 * One support session on the end user's computer: the gateway's messages (one handler per type),
 * the consent questions, a peer per consented technician fed from the one screen stream, their
 * input gated by consent, and the end user's commands. close() tears everything down once.
 */
import type { Logger } from "pino";
import type { ConsentDecision } from "../../shared/agent-protocol.ts";
import type { AgentControl, CursorShape, MonitorInfo, TechnicianControl } from "../../shared/control.ts";
import type { PersonRef } from "../../shared/model.ts";
import type { AccessMode } from "../../shared/status.ts";
import { type AgentOutcome, outcomeOf } from "../exit.ts";
import { ClipboardWatch } from "../input/clipboard-watch.ts";
import { CursorWatch } from "../input/cursor-watch.ts";
import type { Injector } from "../input/injector.ts";
import { isInput, RemoteInput } from "../input/remote-input.ts";
import type { CursorLook } from "../input/x11-cursor-shape.ts";
import { listMonitors } from "../media/capture.ts";
import type { VideoCodecName } from "../media/encoder.ts";
import type { ScreenStream } from "../media/screen-stream.ts";
import { frameRateFor, nextBitrate } from "../peer/bitrate.ts";
import { TechnicianPeer } from "../peer/technician-peer.ts";
import { VideoFanout } from "../peer/video-fanout.ts";
import { Consents } from "./consents.ts";
import type { Messages } from "./messages.ts";
import type { GatewayMessage, SignalingClient, Welcome } from "./signaling-client.ts";
import type { EndUserTerminal } from "./terminal.ts";

export type SessionDeps = {
  readonly client: SignalingClient;
  readonly welcome: Welcome;
  readonly stream: ScreenStream;
  readonly injector: Injector;
  readonly terminal: EndUserTerminal;
  readonly messages: Messages;
  readonly log: Logger;
  readonly codec: VideoCodecName;
  /** The highest video bitrate, bit/s; the technicians' receiver reports may lower it. */
  readonly maxBitrate: number;
  /** The end user's --max-fps: the frame rate never goes above it. */
  readonly maxFps: number;
};

/** How often the bitrate is fitted to the technicians' estimates. */
const BITRATE_CHECK_MS = 5_000;

type Connected = {
  readonly peer: TechnicianPeer;
  readonly input: RemoteInput;
  readonly technician: PersonRef;
  readonly access: AccessMode;
  /** The control channel is open (the clipboard is watched for controllers from then on). */
  channelOpen: boolean;
};

type Handlers = { [K in GatewayMessage["type"]]: (message: Extract<GatewayMessage, { type: K }>) => void };

export class AgentSession {
  readonly #deps: SessionDeps;
  readonly #consents = new Consents();
  readonly #peers = new Map<string, Connected>();
  readonly #questions = new Map<string, () => void>();
  readonly #fanout: VideoFanout;
  readonly #cursor: CursorWatch;
  /** The pointer's look as last reported, ready to send (to each technician whose channel opens). */
  #cursorShape: CursorShape | undefined;
  readonly #clipboard: ClipboardWatch;
  #iceServers: Welcome["iceServers"];
  readonly #bitrateTimer: NodeJS.Timeout;
  #closing: Promise<AgentOutcome> | undefined;
  #finished: ((outcome: AgentOutcome) => void) | undefined;
  readonly #done: Promise<AgentOutcome>;

  constructor(deps: SessionDeps) {
    this.#deps = deps;
    this.#iceServers = deps.welcome.iceServers;
    this.#fanout = new VideoFanout(deps.codec);
    this.#cursor = new CursorWatch(
      deps.injector,
      () => deps.stream.monitor,
      (position) => {
        this.#broadcast({ type: "cursor", ...position });
        deps.stream.activity();
      },
    );
    this.#clipboard = new ClipboardWatch(deps.injector, (text) => {
      for (const connected of this.#peers.values()) {
        if (this.#controls(connected)) connected.peer.sendControl({ type: "clipboard", text });
      }
    });
    this.#done = new Promise((resolve) => {
      this.#finished = resolve;
    });
    this.#bitrateTimer = setInterval(() => this.#fitBitrate(), BITRATE_CHECK_MS);
    this.#wire();
  }

  /** Resolves with how the session ended. */
  run(): Promise<AgentOutcome> {
    const { messages, terminal, welcome } = this.#deps;
    terminal.say(messages.waiting(welcome.session.name, welcome.organization.name));
    terminal.say(messages.howToStop);
    this.#deps.client.deliver();
    return this.#done;
  }

  /** The end user ends the session: the gateway and technicians are told. */
  end(): Promise<AgentOutcome> {
    this.#deps.client.send({ type: "end" });
    return this.close({ reason: "ended", message: this.#deps.messages.endedByUser });
  }

  /** The pointer's look changed (x11-cursor-shape.ts): every technician is shown the new one. */
  showCursorLook(look: CursorLook): void {
    const { width, height, hotX, hotY, rgba } = look;
    this.#cursorShape = { type: "cursorShape", width, height, hotX, hotY, rgba: rgba.toString("base64") };
    this.#broadcast(this.#cursorShape);
  }

  /** The end user withdraws every permission: input stops at once, peers close. */
  revoke(): void {
    this.#consents.revokeAll();
    this.#deps.client.send({ type: "revoke" });
    for (const peerId of [...this.#peers.keys()]) void this.#closePeer(peerId, "revoked", true);
    this.#deps.terminal.say(this.#deps.messages.revoked);
  }

  /** Tears everything down. Safe to call more than once; the first outcome wins. */
  close(outcome: AgentOutcome): Promise<AgentOutcome> {
    this.#closing ??= (async () => {
      const { terminal, stream, client, log } = this.#deps;
      clearInterval(this.#bitrateTimer);
      this.#cursor.running = false;
      this.#clipboard.running = false;
      for (const cancel of this.#questions.values()) cancel();
      terminal.close();
      await Promise.all([...this.#peers.keys()].map((peerId) => this.#closePeer(peerId, "ended", false)));
      await stream.close().catch((error: unknown) => log.warn({ err: error }, "closing the screen stream"));
      client.close();
      this.#finished?.(outcome);
      return outcome;
    })();
    return this.#closing;
  }

  #wire(): void {
    const { client, stream, terminal, log } = this.#deps;
    const handlers = this.#handlers();
    client.on("message", (message) => {
      const handle = handlers[message.type] as (message: GatewayMessage) => void;
      handle(message);
    });
    client.on("invalid", (reason) => log.warn({ reason }, "dropped an invalid message from the gateway"));
    client.on("state", (to, from) => log.debug({ from, to }, "signaling connection"));
    client.on("reconnecting", () => terminal.say(this.#deps.messages.reconnecting));
    client.on("reconnected", (welcome) => {
      this.#iceServers = welcome.iceServers;
      terminal.say(this.#deps.messages.reconnected);
    });
    client.on("failed", (error) => void this.close(outcomeOf(error)));
    stream.on("chunk", (chunk) => this.#fanout.send(chunk));
    stream.on("monitor", () => {
      for (const connected of this.#peers.values()) this.#sendState(connected);
    });
    stream.on("error", (error) => void this.close(outcomeOf(error)));
    terminal.on("end", () => void this.end());
    terminal.on("revoke", () => this.revoke());
  }

  #handlers(): Handlers {
    return {
      "consent.request": (message) => void this.#ask(message),
      "consent.cancel": (message) => this.#questions.get(message.requestId)?.(),
      "peer.open": (message) => void this.#openPeer(message.peerId, message.technician, message.access),
      "peer.close": (message) => void this.#closePeer(message.peerId, message.reason, false),
      signal: (message) => {
        const connected = this.#peers.get(message.peerId);
        if (connected === undefined) return;
        connected.peer.handleSignal(message.data).catch((error: unknown) => {
          this.#deps.log.warn({ err: error, peerId: message.peerId }, "bad signal from the technician");
        });
      },
      "session.ended": (message) => {
        const { messages } = this.#deps;
        const outcomes: Record<typeof message.reason, AgentOutcome> = {
          closed: { reason: "ended", message: messages.closedByTechnician },
          expired: { reason: "session_closed", message: messages.expired },
          deleted: { reason: "session_closed", message: messages.deleted },
          replaced: { reason: "refused", message: messages.replaced },
        };
        void this.close(outcomes[message.reason]);
      },
      error: (message) =>
        this.#deps.log.warn({ error: message.error, inReplyTo: message.inReplyTo }, "gateway error"),
    };
  }

  async #ask(request: Extract<GatewayMessage, { type: "consent.request" }>): Promise<void> {
    const { client, terminal, messages } = this.#deps;
    if (this.#closing !== undefined) return;
    const earlier = this.#consents.answerTo(request.requestId);
    if (earlier !== undefined) {
      client.send({ type: "consent", requestId: request.requestId, decision: earlier });
      return;
    }
    if (this.#questions.has(request.requestId)) return;
    // A question on screen: whatever a technician holds is let go, and their input waits.
    for (const connected of this.#peers.values()) await connected.input.releaseAll();
    const question = terminal.ask({
      technician: request.technician.name,
      organization: request.organization,
      access: request.access,
    });
    this.#questions.set(request.requestId, question.cancel);
    const answer = await question.answer;
    this.#questions.delete(request.requestId);
    if (answer === "cancelled") {
      if (this.#closing === undefined) terminal.say(messages.requestWithdrawn(request.technician.name));
      return;
    }
    const decision: ConsentDecision = answer === "timeout" ? "deny" : answer;
    this.#consents.record(request.requestId, request.technician.id, decision);
    client.send({ type: "consent", requestId: request.requestId, decision });
    if (decision !== "deny") {
      terminal.say(messages.granted(request.technician.name, decision));
      return;
    }
    terminal.say(
      answer === "timeout"
        ? messages.timedOut(request.technician.name)
        : messages.denied(request.technician.name),
    );
    if (!this.#consents.any && this.#peers.size === 0 && this.#questions.size === 0) {
      client.send({ type: "end" });
      void this.close({ reason: "consent_denied", message: messages.consentDenied });
    }
  }

  async #openPeer(peerId: string, technician: PersonRef, requested: AccessMode): Promise<void> {
    const { client, stream, log, terminal, messages, codec, injector } = this.#deps;
    const access = this.#consents.allow(technician.id, requested);
    if (access === undefined || this.#closing !== undefined) {
      log.warn({ peerId, technicianId: technician.id }, "refused a peer the end user did not allow");
      client.send({ type: "peer.closed", peerId });
      return;
    }
    await this.#closePeer(peerId, "replaced", false);
    // A picture is encoded while the connection is set up, ready to replay when it is up. The
    // capture loop itself waits for the connection: on two cores it would slow ICE and DTLS.
    stream.prime();
    const peer = new TechnicianPeer({ peerId, technician, access, codec, iceServers: this.#iceServers });
    const connected: Connected = {
      peer,
      input: new RemoteInput(injector),
      technician,
      access,
      channelOpen: false,
    };
    this.#peers.set(peerId, connected);
    log.debug({ peerId, technicianId: technician.id, access }, "peer open: offering");
    peer.on("signal", (data) => {
      if (data.kind === "description")
        log.debug({ peerId, type: data.type }, "description to the technician");
      client.send({ type: "signal", peerId, data });
    });
    peer.on("controlOpen", async () => {
      connected.channelOpen = true;
      this.#watch();
      // The clipboard as it is now stays private: only later copies are sent.
      if (this.#controls(connected)) await this.#clipboard.prime();
      this.#sendState(connected);
      if (this.#cursorShape !== undefined) connected.peer.sendControl(this.#cursorShape);
      this.#cursor.refresh();
    });
    peer.on("control", (message) => {
      this.#onControl(connected, message).catch((error: unknown) =>
        log.warn({ err: error, peerId, type: message.type }, "could not apply a control message"),
      );
    });
    peer.on("invalid", (reason) => log.warn({ peerId, reason }, "dropped an invalid control message"));
    peer.on("connected", () => {
      const replayed = this.#fanout.join(peer);
      log.debug({ peerId, replayed }, "peer connected");
      stream.run(true);
      if (!replayed) stream.requestKeyframe();
    });
    peer.on("keyframeNeeded", () => stream.requestKeyframe());
    peer.on("closed", (reason) => {
      // Closed by itself (ICE failed for good), not by #closePeer: tell the gateway.
      if (this.#peers.get(peerId) === connected) void this.#closePeer(peerId, reason, true);
    });
    terminal.say(messages.connected(technician.name, access));
    try {
      await peer.start();
    } catch (error) {
      log.warn({ err: error, peerId }, "could not start the peer");
      void this.#closePeer(peerId, "failed", true);
      return;
    }
    this.#watch();
  }

  async #closePeer(peerId: string, reason: string, tellGateway: boolean): Promise<void> {
    const connected = this.#peers.get(peerId);
    if (connected === undefined) return;
    this.#peers.delete(peerId);
    this.#fanout.remove(connected.peer);
    // Capture only while someone connected watches (one still connecting gets a primed frame).
    if (![...this.#peers.values()].some(({ peer }) => peer.connected)) this.#deps.stream.run(false);
    this.#watch();
    if (tellGateway) this.#deps.client.send({ type: "peer.closed", peerId });
    this.#deps.log.info({ peerId, reason }, "peer closed");
    await connected.input.releaseAll();
    await connected.peer.close(reason);
    if (this.#closing === undefined)
      this.#deps.terminal.say(this.#deps.messages.disconnected(connected.technician.name));
  }

  async #onControl(connected: Connected, message: TechnicianControl): Promise<void> {
    if (!this.#peers.has(connected.peer.peerId)) return;
    if (message.type === "monitor") {
      if (this.#consents.allow(connected.technician.id, connected.access) === undefined) return;
      const monitors = listMonitors();
      if (message.index < monitors.length) this.#deps.stream.update({ monitor: message.index });
      return;
    }
    const isClipboard = message.type === "clipboard";
    if (!isClipboard && !isInput(message)) return;
    // Dropped: view only, revoked, or a consent question on screen.
    if (!this.#controls(connected) || this.#deps.terminal.asking) return;
    if (isClipboard) {
      await this.#clipboard.write(message.text);
      return;
    }
    this.#deps.stream.activity();
    await connected.input.apply(message, this.#deps.stream.monitor);
  }

  /** Whether a technician may act on the desktop now (granted control, not revoked). */
  #controls(connected: Connected): boolean {
    return this.#consents.allow(connected.technician.id, connected.access) === "control";
  }

  /**
   * The pointer is watched while anyone looks, the clipboard while someone controls (from their
   * control channel's opening: starting the watcher forks the agent, which would slow the offer).
   */
  #watch(): void {
    const peers = [...this.#peers.values()];
    this.#cursor.running = peers.length > 0;
    this.#clipboard.running = peers.some((connected) => connected.channelOpen && this.#controls(connected));
  }

  #fitBitrate(): void {
    if (this.#peers.size === 0) return;
    const { stream, log, maxBitrate, maxFps } = this.#deps;
    const reports = [...this.#peers.values()].map(({ peer }) => peer.receiverReport());
    const current = stream.settings.bitrate;
    const bitrate = nextBitrate(current, reports, maxBitrate);
    log.debug({ current, reports }, "receiver reports");
    // The frame rate is checked too: the monitor (and so the bits a frame needs) may have changed.
    const { width, height } = stream.monitor;
    const fps = frameRateFor(bitrate, width * height, maxFps);
    if (bitrate === current && fps === stream.settings.maxFps) return;
    log.info(
      { from: current, to: bitrate, fps, reports },
      "video bitrate and frame rate fitted to the receivers",
    );
    stream.update({ bitrate, maxFps: fps });
  }

  #sendState(connected: Connected): void {
    const access = this.#consents.allow(connected.technician.id, connected.access) ?? "view";
    const monitors: MonitorInfo[] = listMonitors().map(({ index, name, width, height, primary }) => ({
      index,
      name,
      width,
      height,
      primary,
    }));
    connected.peer.sendControl({ type: "state", access, monitors, monitor: this.#deps.stream.monitor.index });
  }

  #broadcast(message: AgentControl): void {
    for (const connected of this.#peers.values()) connected.peer.sendControl(message);
  }
}
