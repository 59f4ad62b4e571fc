/**
 * The agent's socket to the gateway (`/ws/agent`): join with `hello`, the one decode point for
 * everything the gateway sends, and coming back after a drop with the resume secret of the last
 * welcome, with jittered exponential backoff, for as long as the gateway keeps the session.
 * Messages sent while the socket is down wait and go out, in order, after the resume. The
 * lifecycle is data (connection-states.ts): one transition table, checked on every move.
 */
import { EventEmitter } from "node:events";
import { WebSocket } from "ws";
import {
  AGENT_FEATURES,
  type AgentMessage,
  type GatewayToAgent,
  gatewayToAgentSchema,
  type Join,
} from "../../shared/agent-protocol.ts";
import { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF } from "../../shared/backoff.ts";
import { FINAL_AGENT_CLOSE_CODES } from "../../shared/close-codes.ts";
import { decodeMessage } from "../../shared/decode.ts";
import { createLifecycle, type Lifecycle } from "../../shared/lifecycle.ts";
import { AGENT_RESUME_GRACE_MS, PROTOCOL_VERSION } from "../../shared/limits.ts";
import type { DeviceInfo } from "../../shared/model.ts";
import { AgentError } from "../exit.ts";
import { certificateProblem, type TrustedCas } from "../trust.ts";
import { CONNECTION_TRANSITIONS, type ConnectionState } from "./connection-states.ts";
import { agentSocketUrl, helloRefusal, helloStep } from "./hello-outcome.ts";
import type { Messages } from "./messages.ts";

export type Welcome = Extract<GatewayToAgent, { type: "welcome" }>;
export type GatewayMessage = Exclude<GatewayToAgent, { type: "welcome" }>;

type SignalingEvents = {
  message: [GatewayMessage];
  /** A message that failed validation (dropped). */
  invalid: [string];
  reconnecting: [];
  reconnected: [Welcome];
  /** The connection is gone for good (resume refused, or the gateway stayed away). */
  failed: [AgentError];
  /** Every move of the lifecycle, for the log. */
  state: [to: ConnectionState, from: ConnectionState];
};

export type SignalingOptions = {
  /** The gateway's http(s) base URL. */
  readonly gateway: string;
  readonly join: Join;
  readonly device: DeviceInfo;
  readonly messages: Messages;
  readonly backoff?: BackoffOptions;
  /** How long to keep trying to resume (the gateway's grace). */
  readonly graceMs?: number;
  readonly helloTimeoutMs?: number;
  readonly heartbeatMs?: number;
  /** The CAs trusted for the gateway (trust.ts); without it Node's default list. Never "accept anything". */
  readonly trust?: TrustedCas;
};

/** Close codes after which the gateway does not want the agent back. */
const FINAL_CLOSE_CODES = new Set(FINAL_AGENT_CLOSE_CODES);
const MAX_QUEUED = 500;

export class SignalingClient extends EventEmitter<SignalingEvents> {
  readonly #options: SignalingOptions;
  readonly #life: Lifecycle<ConnectionState>;
  /**
   * The id of the current connection attempt. Each hello opens a new socket with a new id; events
   * of a socket whose id is no longer current (superseded, or the client closed) change nothing.
   */
  #attempt = 0;
  /** The current attempt's socket (in flight or welcomed). */
  #socket: WebSocket | undefined;
  #resume: Welcome["resume"] | undefined;
  readonly #queue: AgentMessage[] = [];
  /** Messages received before deliver() was called; undefined once delivering. */
  #inbox: GatewayMessage[] | undefined = [];
  /** Resume attempts since the drop, when the resume grace ends, and the pending retry. */
  #retries = 0;
  #resumeDeadline = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: SignalingOptions) {
    super();
    this.#options = options;
    this.#life = createLifecycle({
      name: "agent signaling",
      initial: "idle",
      transitions: CONNECTION_TRANSITIONS,
      changed: (to, from) => this.emit("state", to, from),
    });
  }

  get state(): ConnectionState {
    return this.#life.state;
  }

  get connected(): boolean {
    return this.#life.state === "open" && this.#socket?.readyState === WebSocket.OPEN;
  }

  /** Joins the session. Rejects with an AgentError carrying the exit reason. */
  async connect(): Promise<Welcome> {
    this.#life.set("joining");
    try {
      return await this.#hello(this.#options.join);
    } catch (error) {
      if (this.#life.state === "joining") this.#life.set("failed");
      throw error;
    }
  }

  /**
   * Starts emitting `message` events, first those that arrived since the welcome (a consent
   * request can come before the session has wired its handlers).
   */
  deliver(): void {
    const inbox = this.#inbox ?? [];
    this.#inbox = undefined;
    for (const message of inbox) this.emit("message", message);
  }

  /** Sends now when open; otherwise the message waits (in order) for the next welcome. */
  send(message: AgentMessage): void {
    if (this.#life.state === "closed") return;
    if (this.connected && this.#socket !== undefined) {
      this.#socket.send(JSON.stringify(message));
      return;
    }
    if (this.#queue.length < MAX_QUEUED) this.#queue.push(message);
  }

  /** Closes the socket and stops reconnecting. Safe to call more than once. */
  close(): void {
    if (this.#life.state === "closed") return;
    this.#attempt += 1;
    clearTimeout(this.#retryTimer);
    this.#life.set("closed");
    this.#socket?.close(1000);
    this.#socket = undefined;
  }

  /**
   * One connection attempt: a new socket, the hello, and the welcome or the refusal. Resolves
   * once welcomed (the lifecycle is then open); rejects with the reason otherwise. The promise
   * always settles, also for an attempt that was superseded.
   */
  #hello(join: Join): Promise<Welcome> {
    const { gateway, messages } = this.#options;
    const id = ++this.#attempt;
    const current = () => id === this.#attempt;
    const trust = this.#options.trust;
    const socket = new WebSocket(agentSocketUrl(gateway), {
      handshakeTimeout: this.#options.helloTimeoutMs ?? 10_000,
      ...(trust === undefined ? {} : { ca: [...trust.ca] }),
    });
    this.#socket = socket;
    return new Promise((resolve, reject) => {
      let welcomed = false;
      const unreachable = (cause?: unknown) =>
        new AgentError("gateway_unreachable", messages.gatewayUnreachable(gateway), { cause });
      const timer = setTimeout(() => {
        socket.terminate();
        reject(unreachable(new Error("no welcome in time")));
      }, this.#options.helloTimeoutMs ?? 10_000);
      socket.on("open", () => {
        socket.send(
          JSON.stringify({
            type: "hello",
            v: PROTOCOL_VERSION,
            join,
            device: this.#options.device,
            features: AGENT_FEATURES,
          }),
        );
      });
      socket.on("error", (error) => {
        if (welcomed) return;
        clearTimeout(timer);
        // A certificate nobody vouches for is not a network fault: no retry, its own exit code.
        const problem = certificateProblem(error);
        reject(
          problem === undefined
            ? unreachable(error)
            : new AgentError("certificate_refused", messages.certificateRefused(gateway, problem), {
                cause: error,
              }),
        );
      });
      socket.on("close", (code) => {
        clearTimeout(timer);
        if (!welcomed) reject(unreachable(new Error(`closed with ${code} before welcome`)));
        else if (current()) this.#dropped(code);
      });
      socket.on("message", (data, isBinary) => {
        if (!current()) return;
        if (isBinary) {
          this.emit("invalid", "binary frame");
          return;
        }
        const decoded = decodeMessage(gatewayToAgentSchema, data.toString());
        if (!decoded.ok) {
          this.emit("invalid", decoded.error.message);
          return;
        }
        const message = decoded.value;
        if (!welcomed) {
          const step = helloStep(message);
          if (step === "ignore") return;
          clearTimeout(timer);
          if (message.type === "welcome") {
            welcomed = true;
            this.#opened(socket, message);
            resolve(message);
          } else {
            socket.close(1000);
            reject(helloRefusal(message, unreachable, messages));
          }
          return;
        }
        if (message.type === "welcome") {
          this.#resume = message.resume;
          return;
        }
        if (this.#inbox !== undefined) this.#inbox.push(message);
        else this.emit("message", message);
      });
    });
  }

  /** The current attempt was welcomed: open, and what waited goes out in order. */
  #opened(socket: WebSocket, welcome: Welcome): void {
    this.#resume = welcome.resume;
    this.#life.set("open");
    this.#retries = 0;
    this.#heartbeat(socket);
    for (const message of this.#queue.splice(0)) this.send(message);
  }

  /** Pings the gateway; a socket that stops answering is dropped (and resumed). */
  #heartbeat(socket: WebSocket): void {
    const interval = this.#options.heartbeatMs ?? 15_000;
    let alive = true;
    socket.on("pong", () => {
      alive = true;
    });
    const timer = setInterval(() => {
      if (!alive) {
        socket.terminate();
        return;
      }
      alive = false;
      socket.ping();
    }, interval);
    socket.once("close", () => clearInterval(timer));
  }

  /** The open socket closed: resume within the grace, unless the gateway said not to. */
  #dropped(code: number): void {
    this.#socket = undefined;
    if (FINAL_CLOSE_CODES.has(code) || this.#resume === undefined) {
      this.#fail(
        new AgentError(
          "gateway_unreachable",
          this.#options.messages.gatewayUnreachable(this.#options.gateway),
        ),
      );
      return;
    }
    this.#resumeDeadline = Date.now() + (this.#options.graceMs ?? AGENT_RESUME_GRACE_MS);
    this.#life.set("waiting");
    this.emit("reconnecting");
    this.#scheduleResume();
  }

  #scheduleResume(): void {
    const delay = backoffDelay(this.#retries, this.#options.backoff ?? DEFAULT_BACKOFF);
    this.#retries += 1;
    this.#retryTimer = setTimeout(() => void this.#resumeOnce(), delay);
  }

  async #resumeOnce(): Promise<void> {
    const resume = this.#resume;
    if (resume === undefined) return;
    this.#life.set("resuming");
    try {
      const welcome = await this.#hello({
        kind: "resume",
        sessionId: resume.sessionId,
        secret: resume.secret,
      });
      this.emit("reconnected", welcome);
    } catch (error) {
      if (this.#life.state !== "resuming") return;
      const failure = error instanceof AgentError ? error : new AgentError("internal", String(error));
      if (failure.reason !== "gateway_unreachable" || Date.now() > this.#resumeDeadline) {
        this.#fail(failure);
        return;
      }
      this.#life.set("waiting");
      this.#scheduleResume();
    }
  }

  #fail(error: AgentError): void {
    this.#life.set("failed");
    this.emit("failed", error);
  }
}
