import type { WebSocketServer } from "ws";
import { gatewaySocket } from "./gateway-socket.ts";

/**
 * Pings every socket on an interval; a socket that has not answered the previous ping is
 * terminated (its close handler then cleans up as for any drop). Whether it answered is a field of
 * the socket (GatewaySocket.alive, set by its pong), not an entry per socket in a set nor a pong
 * listener per socket. Start/stop for tests.
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
