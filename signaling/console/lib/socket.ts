import {
  type ConsoleMessage,
  type GatewayToConsole,
  gatewayToConsoleSchema,
} from "../../../shared/console-protocol.ts";
import { decodeMessage } from "../../../shared/decode.ts";

/**
 * The console socket (`/ws/console`): opened with the sign-in cookie, decoded in one place
 * (`decodeMessage` with the shared schema), reopened with jittered backoff when it drops.
 */

export type SocketStatus = "connecting" | "open" | "closed";

export type SocketEvents = {
  message(message: GatewayToConsole): void;
  status(status: SocketStatus): void;
  /** The socket dropped; answer false to stop reconnecting (signed out, disabled). */
  dropped(): Promise<boolean>;
  /** A frame that did not decode: logged, never acted on. */
  invalid(reason: string): void;
};

export type ConsoleSocket = {
  send(message: ConsoleMessage): boolean;
  /** Stops for good; safe to call twice. */
  close(): void;
};

const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 10_000;

export function consoleSocketUrl(location: { protocol: string; host: string }): string {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/console`;
}

export function openConsoleSocket(url: string, events: SocketEvents): ConsoleSocket {
  let socket: WebSocket | null = null;
  let stopped = false;
  let attempt = 0;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;

  const connect = (): void => {
    events.status("connecting");
    const current = new WebSocket(url);
    socket = current;
    current.addEventListener("open", () => {
      attempt = 0;
      events.status("open");
    });
    current.addEventListener("message", (event: MessageEvent<unknown>) => {
      if (typeof event.data !== "string") return events.invalid("binary frame");
      const decoded = decodeMessage(gatewayToConsoleSchema, event.data);
      if (decoded.ok) events.message(decoded.value);
      else events.invalid(decoded.error.message);
    });
    current.addEventListener("close", () => {
      if (socket !== current || stopped) return;
      socket = null;
      events.status("closed");
      void events.dropped().then((again) => {
        if (!again || stopped) return;
        const delay = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** attempt);
        attempt += 1;
        retryTimer = setTimeout(connect, delay / 2 + Math.random() * (delay / 2));
      });
    });
  };

  connect();
  return {
    send(message) {
      if (socket === null || socket.readyState !== WebSocket.OPEN) return false;
      socket.send(JSON.stringify(message));
      return true;
    },
    close() {
      stopped = true;
      clearTimeout(retryTimer);
      socket?.close(1000);
      socket = null;
    },
  };
}
