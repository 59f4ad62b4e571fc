import type { WebSocket, WebSocketServer } from "ws";

/**
 * Pings every socket on an interval; a socket that has not answered the previous ping is
 * terminated (its close handler then cleans up as for any drop). Start/stop for tests.
 */
export class Heartbeat {
  readonly #server: WebSocketServer;
  readonly #intervalMs: number;
  readonly #alive = new WeakSet<WebSocket>();
  readonly #watched = new WeakSet<WebSocket>();
  /** Every socket's pong listener: one function for all (ws calls it with the socket as `this`). */
  readonly #pong: (this: WebSocket) => void;
  #timer: NodeJS.Timeout | undefined;

  constructor(server: WebSocketServer, intervalMs: number) {
    this.#server = server;
    this.#intervalMs = intervalMs;
    const alive = this.#alive;
    this.#pong = function pong(this: WebSocket) {
      alive.add(this);
    };
  }

  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => this.tick(), this.#intervalMs);
    this.#timer.unref();
  }

  tick(): void {
    for (const socket of this.#server.clients) {
      if (!this.#watched.has(socket)) {
        this.#watched.add(socket);
        this.#alive.add(socket);
        socket.on("pong", this.#pong);
      }
      if (!this.#alive.has(socket)) {
        socket.terminate();
        continue;
      }
      this.#alive.delete(socket);
      socket.ping();
    }
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
