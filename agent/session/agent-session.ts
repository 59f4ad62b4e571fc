/**
 * One support session on the end user's computer: the gateway's messages (one handler per type),
 * the consent questions and the end user's commands. Who may connect is decided here; the
 * connected technicians' peers are technician-peers.ts. close() tears everything down once.
 */
import type { Logger } from "pino";
import type { ConsentDecision } from "../../shared/agent-protocol.ts";
import { ChatRate } from "../../shared/chat-rate.ts";
import type { ContinueAnswer } from "../../shared/continuation.ts";
import type { ReservedCombo } from "../../shared/control.ts";
import { MAX_CHAT_LINE_CHARS, MAX_FILE_BYTES } from "../../shared/limits.ts";
import { chatTextSchema, inertText } from "../../shared/plain-text.ts";
import { type AgentOutcome, outcomeOf } from "../exit.ts";
import type { ClipboardSource } from "../input/clipboard-source.ts";
import type { CursorSight } from "../input/cursor-look.ts";
import type { InputDesktopName } from "../input/desktop-watch.ts";
import type { Injector } from "../input/injector.ts";
import type { ScreenStream } from "../media/screen-stream.ts";
import type { VideoOffer } from "../peer/video-codec.ts";
import { Consents } from "./consents.ts";
import type { Messages } from "./messages.ts";
import type { GatewayMessage, SignalingClient, Welcome } from "./signaling-client.ts";
import { systemInfo } from "./system-info.ts";
import { type FilesSetting, TechnicianPeers } from "./technician-peers.ts";
import type { EndUserTerminal } from "./terminal.ts";

export type SessionDeps = {
  readonly client: SignalingClient;
  readonly welcome: Welcome;
  readonly stream: ScreenStream;
  readonly injector: Injector;
  readonly clipboardSource: ClipboardSource | undefined;
  readonly inputDesktop: (() => Promise<InputDesktopName>) | undefined;
  readonly reserved: readonly ReservedCombo[];
  readonly terminal: EndUserTerminal;
  readonly messages: Messages;
  readonly log: Logger;
  /** The codecs offered to each technician (the stream is in one they all decode). */
  readonly video: VideoOffer;
  /** The highest video bitrate, bit/s; the technicians' receiver reports may lower it. */
  readonly maxBitrate: number;
  /** The end user's --max-fps: the frame rate never goes above it. */
  readonly maxFps: number;
  /** Where files sent to the end user go, and whether they refuse them all (--no-files). */
  readonly files: FilesSetting;
  /** The screen copy path (docs/screen-copy-path.md); true unless --no-screen-copy. */
  readonly screenCopy?: boolean;
};

type Handlers = { [K in GatewayMessage["type"]]: (message: Extract<GatewayMessage, { type: K }>) => void };

export class AgentSession {
  readonly #deps: SessionDeps;
  readonly #consents = new Consents();
  /** The gateway's rate for the end user's chat, kept here: a pasted block is not sent as a flood. */
  readonly #chatRate = new ChatRate({ now: () => Date.now() });
  /** Whether the last line typed was refused by the chat rate (the end user was told then). */
  #chatRefusing = false;
  readonly #peers: TechnicianPeers;
  readonly #questions = new Map<string, () => void>();
  /** Recordings running now: id to the recording technician's name (the end user is reminded with the status line). */
  readonly #recordings = new Map<string, string>();
  /** The end user's answers to "may the session continue?", by id: one sent again after a resume is answered again. */
  readonly #continued = new Map<string, ContinueAnswer>();
  /** The technicians on the session as last told (undefined before the first list). */
  #onSession: Extract<GatewayMessage, { type: "technicians" }>["technicians"] | undefined;
  #iceServers: Welcome["iceServers"];
  #closing: Promise<AgentOutcome> | undefined;
  #finished: ((outcome: AgentOutcome) => void) | undefined;
  readonly #done: Promise<AgentOutcome>;

  constructor(deps: SessionDeps) {
    this.#deps = deps;
    this.#iceServers = deps.welcome.iceServers;
    this.#peers = new TechnicianPeers({ ...deps, consents: this.#consents });
    this.#done = new Promise((resolve) => {
      this.#finished = resolve;
    });
    this.#wire();
  }

  /** Resolves with how the session ended. */
  run(): Promise<AgentOutcome> {
    const { messages, terminal, welcome } = this.#deps;
    terminal.say(messages.waiting(welcome.session.name, welcome.organization.name));
    terminal.say(messages.howToStop);
    terminal.say(messages.chatHint);
    this.#deps.client.deliver();
    return this.#done;
  }

  /** The end user ends the session: the gateway and technicians are told. */
  end(): Promise<AgentOutcome> {
    this.#deps.client.send({ type: "end" });
    return this.close({ reason: "ended", message: this.#deps.messages.endedByUser });
  }

  /** The pointer's look changed, or it was hidden or shown (cursor-look.ts): every technician sees it. */
  showCursor(sight: CursorSight): void {
    this.#peers.showCursor(sight);
  }

  /** The end user withdraws every permission: input stops at once, peers close. */
  revoke(): void {
    this.#consents.revokeAll();
    this.#deps.client.send({ type: "revoke" });
    void this.#peers.closeEach("revoked", true);
    this.#deps.terminal.say(this.#deps.messages.revoked);
  }

  /** Tears everything down. Safe to call more than once; the first outcome wins. */
  close(outcome: AgentOutcome): Promise<AgentOutcome> {
    this.#closing ??= (async () => {
      const { terminal, stream, client, log } = this.#deps;
      for (const cancel of this.#questions.values()) cancel();
      terminal.close();
      await this.#peers.closeAll();
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
      if (welcome.recordings !== undefined) this.#recordingsRunning(welcome.recordings);
    });
    client.on("failed", (error) => void this.close(outcomeOf(error)));
    stream.on("error", (error) => void this.close(outcomeOf(error)));
    terminal.on("end", () => void this.end());
    terminal.on("revoke", () => this.revoke());
    terminal.on("chat", (text) => this.#chat(text));
    terminal.on("offerFile", (path) => this.#peers.offerFile(path));
    terminal.on("cancelFiles", () => this.#peers.cancelFiles());
  }

  /**
   * The end user's chat line to the technicians: checked here against the shared rule and rate
   * first (a pasted block of hundreds of lines would otherwise flood the socket, which the gateway
   * closes: MAX_QUEUED_SOCKET_MESSAGES).
   */
  #chat(typed: string): void {
    const { client, terminal, messages } = this.#deps;
    // What a terminal let through (a tab, a pasted control character) goes as visible text.
    const text = inertText(typed, Number.MAX_SAFE_INTEGER);
    if (!chatTextSchema.safeParse(text).success) {
      terminal.say(messages.chatTooLong(MAX_CHAT_LINE_CHARS));
      return;
    }
    try {
      this.#chatRate.take("enduser");
    } catch {
      // Told once per run of refused lines: a pasted log gets one notice, not one per line.
      if (!this.#chatRefusing) terminal.say(messages.chatNotSent("CHAT_TOO_FAST"));
      this.#chatRefusing = true;
      return;
    }
    this.#chatRefusing = false;
    client.send({ type: "chat", text });
  }

  /** A technician asks for this computer's facts: only one the end user allowed gets them, and the end user is told. */
  #systemInfo(message: Extract<GatewayMessage, { type: "system.request" }>): void {
    const { client, terminal, messages, log } = this.#deps;
    if (this.#consents.allow(message.technician.id, "view") === undefined) {
      log.warn(
        { technicianId: message.technician.id },
        "refused system information to a technician the end user did not allow",
      );
      return;
    }
    client.send({ type: "system.info", requestId: message.requestId, info: systemInfo() });
    terminal.say(messages.systemInfoSent(message.technician.name));
  }

  /** Who is on the session changed: who joined or left, then who is connected now with what rights. */
  #technicians(message: Extract<GatewayMessage, { type: "technicians" }>): void {
    const { terminal, messages } = this.#deps;
    const now = message.technicians;
    const before = this.#onSession;
    // The same list again (a new connection after a reconnect is told it anew): nothing changed.
    if (before !== undefined && JSON.stringify(before) === JSON.stringify(now)) return;
    this.#onSession = now;
    if (before !== undefined) {
      for (const gone of before.filter((b) => !now.some((n) => n.id === b.id)))
        terminal.say(messages.chatLeft(gone.name));
      for (const came of now.filter((n) => !before.some((b) => b.id === n.id)))
        terminal.say(messages.chatJoined(came.name));
    }
    if (now.length > 0) terminal.say(messages.connectedNow(now));
    if (this.#recordings.size > 0)
      terminal.say(messages.recordingNow([...new Set(this.#recordings.values())]));
    else if (now.length === 0 && before !== undefined && before.length > 0) terminal.say(messages.allLeft);
  }

  /** After a resume: a recording the end user was told about that is no longer running ended meanwhile. */
  #recordingsRunning(running: ReadonlyArray<{ recordingId: string }>): void {
    for (const [id, technician] of this.#recordings) {
      if (running.some((r) => r.recordingId === id)) continue;
      this.#recordings.delete(id);
      this.#deps.terminal.say(this.#deps.messages.recordingStopped(technician));
    }
  }

  #handlers(): Handlers {
    return {
      "consent.request": (message) => void this.#ask(message),
      "consent.cancel": (message) => this.#questions.get(message.requestId)?.(),
      "continue.request": (message) => void this.#askContinue(message),
      chat: (message) =>
        this.#deps.terminal.say(
          this.#deps.messages.chatFrom(message.from.name, message.text, clockTime(message.at)),
        ),
      technicians: (message) => this.#technicians(message),
      "system.request": (message) => this.#systemInfo(message),
      "recording.start": (message) => {
        // Sent again after a resume: a recording the end user was told about is the same one (its
        // confirm already reached the gateway, the status line already reminds).
        if (this.#recordings.has(message.recordingId)) return;
        // The end user reads it first; only then may the technician's console record.
        this.#recordings.set(message.recordingId, message.technician.name);
        this.#deps.terminal.say(this.#deps.messages.recordingStarted(message.technician.name));
        this.#deps.client.send({ type: "recording.confirm", recordingId: message.recordingId });
      },
      "recording.stop": (message) => {
        if (!this.#recordings.delete(message.recordingId)) return;
        this.#deps.terminal.say(this.#deps.messages.recordingStopped(message.technician.name));
      },
      "peer.open": (message) => this.#openPeer(message),
      "peer.ice": (message) => this.#peers.renewIceServers(message.peerId, message.iceServers),
      "peer.close": (message) => void this.#peers.close(message.peerId, message.reason, false),
      signal: (message) => this.#peers.signal(message.peerId, message.data),
      "session.ended": (message) => {
        const { messages } = this.#deps;
        const outcomes: Record<typeof message.reason, AgentOutcome> = {
          closed: { reason: "ended", message: messages.closedByTechnician },
          expired: { reason: "session_closed", message: messages.expired },
          deleted: { reason: "session_closed", message: messages.deleted },
          replaced: { reason: "refused", message: messages.replaced },
          declined: { reason: "consent_denied", message: messages.continueDeclined },
          unconfirmed: { reason: "consent_denied", message: messages.continueUnanswered },
        };
        void this.close(outcomes[message.reason]);
      },
      error: (message) => {
        if (message.inReplyTo === "chat")
          this.#deps.terminal.say(this.#deps.messages.chatNotSent(message.error.code));
        this.#deps.log.warn({ error: message.error, inReplyTo: message.inReplyTo }, "gateway error");
      },
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
    await this.#peers.releaseAll();
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
    this.#consents.record(request.requestId, request.technician.id, decision, !question.withoutFiles);
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

  /**
   * The session has run for its channel's interval: may it continue? The gateway keeps the
   * deadline (it ends the session with `unconfirmed`); a question sent again after a reconnect
   * (same id) is not shown twice. A no ends the session here at once, as `q` would.
   */
  async #askContinue(request: Extract<GatewayMessage, { type: "continue.request" }>): Promise<void> {
    const { client, terminal, messages } = this.#deps;
    if (this.#closing !== undefined || this.#questions.has(request.requestId)) return;
    // Answered, but the answer was lost with the connection: the same answer again.
    const earlier = this.#continued.get(request.requestId);
    if (earlier !== undefined) {
      client.send({ type: "continue", requestId: request.requestId, answer: earlier });
      return;
    }
    await this.#peers.releaseAll();
    const question = terminal.askContinue({ minutes: request.minutes, seconds: request.seconds });
    this.#questions.set(request.requestId, question.cancel);
    const answer = await question.answer;
    this.#questions.delete(request.requestId);
    if (answer === "cancelled") return;
    this.#continued.set(request.requestId, answer);
    client.send({ type: "continue", requestId: request.requestId, answer });
    if (answer === "yes") {
      terminal.say(messages.continueConfirmed);
      return;
    }
    void this.close({ reason: "consent_denied", message: messages.continueDeclined });
  }

  /** A peer for a technician the end user allowed, with the ICE servers minted for that peer when given. */
  #openPeer(message: Extract<GatewayMessage, { type: "peer.open" }>): void {
    const { peerId, technician } = message;
    const { client, log } = this.#deps;
    const access = this.#consents.allow(technician.id, message.access);
    if (access === undefined || this.#closing !== undefined) {
      log.warn({ peerId, technicianId: technician.id }, "refused a peer the end user did not allow");
      client.send({ type: "peer.closed", peerId });
      return;
    }
    void this.#peers.open(
      peerId,
      technician,
      access,
      message.iceServers ?? this.#iceServers,
      message.maxFileBytes ?? MAX_FILE_BYTES,
      message.filesConnection === true,
    );
  }
}

/** The local time of an ISO date, HH:MM (what the end user's clock shows). */
function clockTime(at: string): string {
  const date = new Date(at);
  if (Number.isNaN(date.getTime())) return "--:--";
  return `${String(date.getHours()).padStart(2, "0")}:${String(date.getMinutes()).padStart(2, "0")}`;
}
