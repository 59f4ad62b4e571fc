import type { WebSocket, WebSocketServer } from "ws";
import { gatewaySocket } from "./gateway-socket.ts";

/** Every socket's pong listener: one function for all (ws calls it with the socket as `this`). */
function pong(this: WebSocket): void {
  gatewaySocket(this).alive = true;
}

/**
 * Pings every socket on an interval; a socket that has not answered the previous ping is
 * terminated (its close handler then cleans up as for any drop). Whether it answered is a field of
 * the socket (GatewaySocket.alive), not an entry per socket in a set. Start/stop for tests.
 */
export class Heartbeat {
  readonly #server: WebSocketServer;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(server: WebSocketServer, intervalMs: number) {
    this.#server = server;
    this.#intervalMs = intervalMs;
  }

  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => this.tick(), this.#intervalMs);
    this.#timer.unref();
  }

  tick(): void {
    for (const client of this.#server.clients) {
      const socket = gatewaySocket(client);
      if (socket.listenerCount("pong") === 0) socket.on("pong", pong);
      if (!socket.alive) {
        socket.terminate();
        continue;
      }
      socket.alive = false;
      socket.ping();
    }
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
