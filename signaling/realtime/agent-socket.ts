import type { Logger } from "pino";
import type { RawData, WebSocket } from "ws";
import { type AgentMessage, agentMessageSchema } from "../../shared/agent-protocol.ts";
import { remoteCloseReasonOf } from "../../shared/console-protocol.ts";
import { SosError, TRANSIENT_ERROR_CODES } from "../../shared/errors.ts";
import { AGENT_RESUME_GRACE_MS, PROTOCOL_VERSION } from "../../shared/limits.ts";
import type { IceServer } from "../../shared/signal.ts";
import type { Chat } from "../domain/chat.ts";
import type { Continuation } from "../domain/continuation.ts";
import type { Recordings } from "../domain/recordings.ts";
import type { Supportee } from "../domain/supportee.ts";
import type { SystemInformation } from "../domain/system-info.ts";
import type { Viewing } from "../domain/viewing.ts";
import { type Jobs, jobName } from "../jobs.ts";
import type { RelayDirection } from "../metrics/gateway-metrics.ts";
import { joinMark } from "./agents.ts";
import { type GatewaySocket, gatewaySocket } from "./gateway-socket.ts";
import type { AgentConnection, ConsoleConnection, Hub } from "./hub.ts";
import { timedRelay } from "./relay-timing.ts";
import { CLOSE, dispatch, type HandlerMap, protocolListener, send, sendError, toSosError } from "./wire.ts";

export type AgentSocketDeps = {
  hub: Hub;
  supportee: Supportee;
  chat: Chat;
  systemInfo: SystemInformation;
  recordings: Recordings;
  continuation: Continuation;
  viewing: Viewing<ConsoleConnection>;
  organizationName: () => Promise<string>;
  iceServers: () => IceServer[];
  log: Logger;
  jobs: Jobs;
  helloTimeoutMs: number;
  resumeGraceMs?: number;
  /** A signal was relayed (the relay-latency metric); `startedAt` is when its handler took it. */
  relayed: (direction: RelayDirection, startedAt: number) => void;
};

/**
 * Where an agent socket is (GatewaySocket.agent): waiting for its hello (again, after the user
 * ended the session), its hello being stored (a second one is refused), or joined as this agent.
 */
export type AgentSocketState = "waiting" | "joining" | AgentConnection;

/** The socket's agent once it joined, else undefined. */
function joinedAgent(socket: GatewaySocket): AgentConnection | undefined {
  return typeof socket.agent === "object" ? socket.agent : undefined;
}

/** The hello timer of a socket (one function for all: no closure per socket). */
function helloTimedOut(socket: GatewaySocket): void {
  socket.helloTimer = undefined;
  if (joinedAgent(socket) === undefined) {
    sendError(socket, new SosError("NOT_JOINED", "No hello in time."), undefined);
    socket.close(CLOSE.helloTimeout, "no hello");
  }
}

/**
 * The agent socket: the first message must be `hello` (join by PIN, link or resume secret);
 * after that one handler per message type. A dropped agent keeps its session Active for a grace
 * period so it can resume; its peers with technicians keep running meanwhile.
 */
export class AgentSockets {
  readonly #d: AgentSocketDeps;
  /** Cancels the grace job of each session whose agent is away. */
  readonly #grace = new Map<string, () => void>();
  readonly #handlers: HandlerMap<AgentMessage, GatewaySocket>;
  readonly #onMessage: (this: WebSocket, data: RawData, isBinary: boolean) => void;
  readonly #onClose: (this: WebSocket) => void;

  constructor(deps: AgentSocketDeps) {
    this.#d = deps;
    this.#handlers = {
      hello: (socket, message) => this.#hello(socket, message),
      consent: (socket, message) => {
        const agent = this.#joined(socket);
        return deps.supportee.consent(agent.sessionId, message.requestId, message.decision, agent.address);
      },
      revoke: (socket, message) => {
        const agent = this.#joined(socket);
        return deps.supportee.revoke(agent.sessionId, message.technicianId, agent.address);
      },
      signal: (socket, message) => {
        const agent = this.#joined(socket);
        deps.hub.routing.signalToConsole(agent.sessionId, message.peerId, message.data);
      },
      "peer.closed": (socket, message) => {
        const agent = this.#joined(socket);
        deps.hub.routing.agentClosedPeer(
          agent.sessionId,
          message.peerId,
          remoteCloseReasonOf(message.reason),
        );
      },
      chat: (socket, message) => {
        const agent = this.#joined(socket);
        return deps.chat.fromEndUser(agent.sessionId, message.text, agent.address);
      },
      "system.info": (socket, message) => {
        const agent = this.#joined(socket);
        return deps.systemInfo.received(agent.sessionId, message.requestId, message.info, agent.address);
      },
      "recording.confirm": (socket, message) => {
        const agent = this.#joined(socket);
        return deps.recordings.confirmed(agent.sessionId, message.recordingId, agent.address);
      },
      continue: (socket, message) => {
        const agent = this.#joined(socket);
        return deps.continuation.answer(agent.sessionId, message.requestId, message.answer, agent.address);
      },
      "file.transferred": (socket, message) => {
        const agent = this.#joined(socket);
        const { type: _type, technicianId, ...file } = message;
        return deps.viewing.reportFile(agent, technicianId, file, (sessionId, technician) =>
          deps.hub.routing.viewOf(sessionId, technician),
        );
      },
      end: (socket) => {
        const agent = this.#joined(socket);
        const { sessionId, address } = agent;
        deps.hub.detachAgent(agent);
        socket.agent = "waiting";
        socket.close(CLOSE.normal, "ended by the user");
        // The end user's word is final: retried while the store fails, unless an agent came back.
        deps.jobs.untilDone(jobName("agent ended", sessionId), async () => {
          if (!deps.hub.isConnected(sessionId)) await deps.supportee.left(sessionId, "ended", address);
        });
      },
    };
    this.#handlers.signal = timedRelay(this.#handlers.signal, (startedAt) =>
      deps.relayed("agent_to_console", startedAt),
    );
    // One listener of each kind for every agent socket (see GatewaySocket).
    this.#onMessage = protocolListener(agentMessageSchema, (socket, message) =>
      dispatch(this.#handlers, socket, message, (error, type) => this.#fail(socket, error, type)),
    );
    const sockets = this;
    this.#onClose = function onClose(this: WebSocket) {
      const socket = gatewaySocket(this);
      clearTimeout(socket.helloTimer);
      const agent = joinedAgent(socket);
      // A hello still being stored sees the socket closed once it attaches (see #hello).
      sockets.#d.jobs.safely("agent socket closed", () => {
        if (agent !== undefined) sockets.#gone(agent);
      });
    };
  }

  /** Takes an upgraded agent socket (its address is set): it has `helloTimeoutMs` to say hello. */
  accept(socket: GatewaySocket): void {
    socket.agent = "waiting";
    socket.helloTimer = setTimeout(helloTimedOut, this.#d.helloTimeoutMs, socket);
    socket.on("message", this.#onMessage);
    socket.on("close", this.#onClose);
  }

  /** A session that was Active when the gateway stopped: its agent gets the grace period to resume. */
  orphaned(sessionId: string): void {
    if (!this.#d.hub.isConnected(sessionId) && !this.#grace.has(sessionId)) {
      this.#startGrace({ socket: undefined, sessionId, address: "gateway-restart" });
    }
  }

  /** Stops the grace timers (shutdown). */
  stop(): void {
    for (const cancel of this.#grace.values()) cancel();
    this.#grace.clear();
  }

  #fail(socket: GatewaySocket, error: unknown, inReplyTo: string): void {
    const sosError = toSosError(error);
    if (TRANSIENT_ERROR_CODES.has(sosError.code)) this.#d.log.error({ err: error }, "agent message failed");
    sendError(socket, sosError, inReplyTo);
    // A failed hello ends the connection: there is nothing else it may do. A fault of the gateway's
    // own (its store unavailable) closes with "try again", so a resuming agent keeps trying.
    if (inReplyTo === "hello" && socket.agent === "waiting") {
      const code = TRANSIENT_ERROR_CODES.has(sosError.code) ? CLOSE.tryAgain : CLOSE.protocolError;
      socket.close(code, sosError.code);
    }
  }

  async #hello(socket: GatewaySocket, message: Extract<AgentMessage, { type: "hello" }>): Promise<void> {
    if (socket.agent !== "waiting")
      throw new SosError("ALREADY_JOINED", "This socket already joined a session.");
    if (message.v !== PROTOCOL_VERSION) {
      throw new SosError("UNSUPPORTED_VERSION", `This gateway speaks protocol version ${PROTOCOL_VERSION}.`);
    }
    const { hub, supportee } = this.#d;
    socket.agent = "joining";
    let agent: AgentConnection | undefined;
    try {
      // Attached under the session's lock, once the join is stored (see Supportee.join).
      const { session, secret } = await supportee.join(
        message.join,
        message.device,
        message.features ?? [],
        socket.address,
        (s) => {
          agent = {
            socket: socket,
            sessionId: s.id,
            address: socket.address,
            joinedAs: joinMark(s.resumeSecretHash),
            told: null,
          };
          socket.agent = agent;
          clearTimeout(socket.helloTimer);
          socket.helloTimer = undefined;
          this.#grace.get(s.id)?.();
          this.#grace.delete(s.id);
          // A new agent (not a resume) starts without consent: views of the one before it are over.
          if (message.join.kind !== "resume") hub.closeViews(s.id, "agent_offline");
          const previous = hub.attachAgent(agent);
          if (previous !== undefined && previous.socket !== socket) {
            send(previous.socket, { type: "session.ended", reason: "replaced" });
            previous.socket.close(CLOSE.replaced, "replaced by a newer connection");
          }
        },
      );
      if (agent === undefined) return;
      // The socket closed while the join was being stored: the agent is away, as if it had
      // dropped right after joining (its close event found no agent to detach).
      if (socket.readyState !== socket.OPEN) {
        this.#gone(agent);
        return;
      }
      const organization = await this.#d.organizationName();
      const recordings = await this.#d.recordings.running(session.id);
      send(socket, {
        type: "welcome",
        v: PROTOCOL_VERSION,
        session: { id: session.id, name: session.name, status: session.status },
        organization: { name: organization },
        resume: { sessionId: session.id, secret },
        iceServers: this.#d.iceServers(),
        recordings,
      });
      // Told who is on the session from now on (hub.publish below).
      agent.told = undefined;
      for (const request of await supportee.pendingConsent(session.id)) {
        send(socket, { type: "consent.request", ...request, organization });
      }
      if (message.join.kind === "resume") {
        // Recordings still running are announced again (the agent knows an id it has: no second notice).
        for (const recording of recordings) {
          send(socket, { type: "recording.start", ...recording });
        }
        hub.agentResumed(session.id);
      }
      const question = await this.#d.continuation.pending(session.id);
      if (question !== undefined) send(socket, { type: "continue.request", ...question });
      hub.publish(session.id);
    } finally {
      if (socket.agent === "joining") socket.agent = "waiting";
    }
  }

  /** The agent's socket is gone: unless a newer one replaced it, the resume grace starts. */
  #gone(agent: AgentConnection): void {
    if (this.#d.hub.detachAgent(agent)) this.#startGrace(agent);
  }

  #joined(socket: GatewaySocket): AgentConnection {
    const agent = joinedAgent(socket);
    if (agent === undefined) throw new SosError("NOT_JOINED", "Send hello first.");
    return agent;
  }

  #startGrace(agent: Pick<AgentConnection, "sessionId" | "address"> & { socket: unknown }): void {
    const { hub, supportee, jobs } = this.#d;
    const { sessionId } = agent;
    this.#grace.get(sessionId)?.();
    // Retried with backoff while the store fails; the agent coming back cancels it.
    const cancel = jobs.after(
      jobName("agent grace", sessionId),
      this.#d.resumeGraceMs ?? AGENT_RESUME_GRACE_MS,
      async () => {
        if (hub.isConnected(sessionId)) {
          this.#grace.delete(sessionId);
          return;
        }
        hub.closeViews(sessionId, "agent_offline");
        await supportee.left(sessionId, "lost", agent.address);
        this.#grace.delete(sessionId);
      },
    );
    this.#grace.set(sessionId, cancel);
    hub.publish(sessionId);
  }
}
