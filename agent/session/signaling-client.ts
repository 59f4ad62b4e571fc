/**
 * The agent's socket to the gateway (`/ws/agent`): join with `hello`, the one decode point for
 * everything the gateway sends, and coming back after a drop with the resume secret of the last
 * welcome, with jittered exponential backoff, for as long as the gateway keeps the session.
 * Messages sent while the socket is down wait and go out, in order, after the resume.
 */
import { EventEmitter } from "node:events";
import { WebSocket } from "ws";
import {
  type AgentMessage,
  type GatewayToAgent,
  gatewayToAgentSchema,
  type Join,
} from "../../shared/agent-protocol.ts";
import { FINAL_AGENT_CLOSE_CODES } from "../../shared/close-codes.ts";
import { decodeMessage } from "../../shared/decode.ts";
import { type ErrorBody, TRANSIENT_ERROR_CODES } from "../../shared/errors.ts";
import { AGENT_RESUME_GRACE_MS, PROTOCOL_VERSION } from "../../shared/limits.ts";
import type { DeviceInfo } from "../../shared/model.ts";
import { AgentError } from "../exit.ts";
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
};

export type BackoffOptions = { readonly baseMs: number; readonly maxMs: number };

/** Delay before reconnect attempt `attempt` (0, 1, ...): exponential, capped, with equal jitter. */
export function backoffDelay(attempt: number, options: BackoffOptions, random = Math.random): number {
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** attempt);
  return ceiling / 2 + random() * (ceiling / 2);
}

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
};

/** Close codes after which the gateway does not want the agent back. */
const FINAL_CLOSE_CODES = new Set(FINAL_AGENT_CLOSE_CODES);
const MAX_QUEUED = 500;

export function agentSocketUrl(gateway: string): string {
  const url = new URL(gateway);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.pathname = `${url.pathname.replace(/\/$/, "")}/ws/agent`;
  url.search = "";
  url.hash = "";
  return url.toString();
}

export class SignalingClient extends EventEmitter<SignalingEvents> {
  readonly #options: SignalingOptions;
  #socket: WebSocket | undefined;
  #resume: Welcome["resume"] | undefined;
  #closed = false;
  #reconnecting = false;
  readonly #queue: AgentMessage[] = [];
  /** Messages received before deliver() was called; undefined once delivering. */
  #inbox: GatewayMessage[] | undefined = [];
  #cancelWait: (() => void) | undefined;

  constructor(options: SignalingOptions) {
    super();
    this.#options = options;
  }

  get connected(): boolean {
    return this.#socket?.readyState === WebSocket.OPEN && !this.#reconnecting;
  }

  /** Joins the session. Rejects with an AgentError carrying the exit reason. */
  async connect(): Promise<Welcome> {
    return this.#open(this.#options.join);
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

  send(message: AgentMessage): void {
    if (this.#closed) return;
    if (this.connected && this.#socket !== undefined) {
      this.#socket.send(JSON.stringify(message));
      return;
    }
    if (this.#queue.length < MAX_QUEUED) this.#queue.push(message);
  }

  /** Closes the socket and stops reconnecting. Safe to call more than once. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#cancelWait?.();
    this.#socket?.close(1000);
    this.#socket = undefined;
  }

  #open(join: Join): Promise<Welcome> {
    const { gateway, messages } = this.#options;
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(agentSocketUrl(gateway), {
        handshakeTimeout: this.#options.helloTimeoutMs ?? 10_000,
      });
      let welcomed = false;
      const unreachable = (cause?: unknown) =>
        new AgentError("gateway_unreachable", messages.gatewayUnreachable(gateway), { cause });
      const timer = setTimeout(() => {
        socket.terminate();
        reject(unreachable(new Error("no welcome in time")));
      }, this.#options.helloTimeoutMs ?? 10_000);
      socket.on("open", () => {
        socket.send(
          JSON.stringify({ type: "hello", v: PROTOCOL_VERSION, join, device: this.#options.device }),
        );
      });
      socket.on("error", (error) => {
        if (welcomed) return;
        clearTimeout(timer);
        reject(unreachable(error));
      });
      socket.on("close", (code) => {
        clearTimeout(timer);
        if (!welcomed) {
          reject(unreachable(new Error(`closed with ${code} before welcome`)));
          return;
        }
        if (this.#socket === socket) this.#dropped(code);
      });
      socket.on("message", (data, isBinary) => {
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
          clearTimeout(timer);
          if (message.type === "welcome") {
            welcomed = true;
            this.#resume = message.resume;
            this.#socket = socket;
            this.#heartbeat(socket);
            resolve(message);
          } else {
            socket.close(1000);
            // The gateway's own trouble (its store unavailable) counts as unreachable: a resuming
            // agent keeps trying within the grace, as it does when the gateway is down.
            if (message.type === "error" && TRANSIENT_ERROR_CODES.has(message.error.code)) {
              reject(unreachable(new Error(`${message.error.code}: ${message.error.message}`)));
            } else reject(message.type === "error" ? refusal(message.error, messages) : unreachable());
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

  #dropped(code: number): void {
    this.#socket = undefined;
    if (this.#closed) return;
    if (FINAL_CLOSE_CODES.has(code) || this.#resume === undefined) {
      this.emit(
        "failed",
        new AgentError(
          "gateway_unreachable",
          this.#options.messages.gatewayUnreachable(this.#options.gateway),
        ),
      );
      return;
    }
    void this.#reconnect(this.#resume);
  }

  async #reconnect(resume: Welcome["resume"]): Promise<void> {
    this.#reconnecting = true;
    this.emit("reconnecting");
    const backoff = this.#options.backoff ?? { baseMs: 500, maxMs: 10_000 };
    const deadline = Date.now() + (this.#options.graceMs ?? AGENT_RESUME_GRACE_MS);
    let secret = resume;
    for (let attempt = 0; !this.#closed; attempt++) {
      await this.#wait(backoffDelay(attempt, backoff));
      if (this.#closed) return;
      try {
        const welcome = await this.#open({
          kind: "resume",
          sessionId: secret.sessionId,
          secret: secret.secret,
        });
        this.#reconnecting = false;
        for (const message of this.#queue.splice(0)) this.send(message);
        this.emit("reconnected", welcome);
        return;
      } catch (error) {
        const failure = error instanceof AgentError ? error : new AgentError("internal", String(error));
        secret = this.#resume ?? secret;
        if (failure.reason !== "gateway_unreachable" || Date.now() > deadline) {
          this.#reconnecting = false;
          if (!this.#closed) this.emit("failed", failure);
          return;
        }
      }
    }
  }

  #wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#cancelWait = done;
    });
  }
}

/** The exit reason and the end user's message for a refused hello. */
export function refusal(error: ErrorBody, messages: Messages): AgentError {
  switch (error.code) {
    case "SESSION_NOT_FOUND":
      return new AgentError("unknown_session", messages.unknownSession);
    case "SESSION_CLOSED":
    case "SESSION_EXPIRED":
      return new AgentError("session_closed", messages.sessionClosed);
    case "PIN_RATE_LIMITED":
    case "RATE_LIMITED":
      return new AgentError("refused", messages.rateLimited(error.retryAfter));
    case "AGENT_ALREADY_CONNECTED":
      return new AgentError("refused", messages.alreadyConnected);
    case "UNSUPPORTED_VERSION":
      return new AgentError("refused", messages.unsupportedVersion);
    case "RESUME_INVALID":
      return new AgentError("refused", messages.resumeRefused);
    default:
      return new AgentError("refused", `${error.code}: ${error.message}`);
  }
}
