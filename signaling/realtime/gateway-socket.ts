import { WebSocket } from "ws";
import type { AgentSocketState } from "./agent-socket.ts";
import type { ConsoleConnection } from "./hub.ts";

/**
 * The WebSocket class the gateway's socket server constructs (ws's `WebSocket` option). What the
 * gateway keeps of a socket lives in these fields, so each kind of listener (message, close, fault,
 * pong) is one function shared by every socket, which finds its state through `this`: no closures,
 * contexts and listener arrays per socket. That was about 1 KiB of an idle agent's heap, as much as
 * the ws socket's own (docs/benchmarks.md, bench:gateway).
 */
export class GatewaySocket extends WebSocket {
  /** The client's address (behind a trusted proxy, the one it names), for logs and the audit trail. */
  address = "";
  /** Answered the last heartbeat ping, or has not been pinged yet. */
  alive = true;
  /** The end of the queue of its messages being handled in turn; undefined when none is. */
  handled: Promise<void> | undefined = undefined;
  /** How many of its messages wait in that queue or are being handled (wire.ts bounds it). */
  queued = 0;
  /** An agent socket's state (agent-socket.ts). */
  agent: AgentSocketState | undefined = undefined;
  /** An agent socket's hello timer, until it joined. */
  helloTimer: NodeJS.Timeout | undefined = undefined;
  /** A console socket's connection (console-socket.ts). */
  console: ConsoleConnection | undefined = undefined;

  /**
   * A pong marks the socket alive here, where ws emits it, rather than through a `pong` listener:
   * a fifth kind of listener grows every socket's listener table (about 100 bytes each).
   */
  override emit(event: string | symbol, ...args: unknown[]): boolean {
    if (event === "pong") this.alive = true;
    return super.emit(event, ...args);
  }
}

/** A socket of the gateway's server is always a GatewaySocket (http/app.ts configures it so). */
export function gatewaySocket(socket: WebSocket): GatewaySocket {
  if (socket instanceof GatewaySocket) return socket;
  throw new Error("a socket of the gateway's server is not a GatewaySocket");
}
