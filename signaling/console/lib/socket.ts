import { backoffDelay } from "../../../shared/backoff.ts";
import {
  type ConsoleMessage,
  type GatewayToConsole,
  gatewayToConsoleSchema,
} from "../../../shared/console-protocol.ts";
import { decodeMessage } from "../../../shared/decode.ts";
import { createLifecycle, type Transitions } from "../../../shared/lifecycle.ts";

/**
 * The console socket (`/ws/console`): opened with the sign-in cookie, decoded in one place
 * (`decodeMessage` with the shared schema), reopened with jittered backoff when it drops. Its
 * lifecycle is data: SOCKET_STATES and one transition table; each attempt has an id, and events of
 * a socket that is no longer the current attempt change nothing.
 */

/** What the views show: derived from the lifecycle state. */
export type SocketStatus = "connecting" | "open" | "closed";

/**
 * idle: not opened yet. connecting: a socket is opening. open: messages flow. dropped: the socket
 * closed, asking whether to come back. waiting: the next attempt waits for its backoff. stopped:
 * close() (terminal).
 */
export const SOCKET_STATES = ["idle", "connecting", "open", "dropped", "waiting", "stopped"] as const;
export type SocketState = (typeof SOCKET_STATES)[number];

export const SOCKET_TRANSITIONS: Transitions<SocketState> = {
  idle: ["connecting", "stopped"],
  connecting: ["open", "dropped", "stopped"],
  open: ["dropped", "stopped"],
  dropped: ["waiting", "stopped"],
  waiting: ["connecting", "stopped"],
  stopped: [],
};

const STATUS_OF: Readonly<Record<SocketState, SocketStatus | null>> = {
  idle: null,
  connecting: "connecting",
  open: "open",
  dropped: "closed",
  waiting: "closed",
  stopped: null,
};

export type SocketEvents = {
  message(message: GatewayToConsole): void;
  /** The status changed (not told for stopping: whoever stops knows). */
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

export function consoleSocketUrl(location: { protocol: string; host: string }): string {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/console`;
}

export function openConsoleSocket(url: string, events: SocketEvents): ConsoleSocket {
  const life = createLifecycle<SocketState>({
    name: "console socket",
    initial: "idle",
    transitions: SOCKET_TRANSITIONS,
    changed: (to, from) => {
      const status = STATUS_OF[to];
      if (status !== null && status !== STATUS_OF[from]) events.status(status);
    },
  });
  let socket: WebSocket | null = null;
  /** The current attempt's id; a socket of an older attempt is ignored. */
  let attempt = 0;
  /** Attempts since the socket was last open (the backoff's exponent). */
  let retries = 0;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;

  const connect = (): void => {
    life.set("connecting");
    const id = ++attempt;
    const current = (): boolean => id === attempt;
    const opened = new WebSocket(url);
    socket = opened;
    opened.addEventListener("open", () => {
      if (!current()) return;
      retries = 0;
      life.set("open");
    });
    opened.addEventListener("message", (event: MessageEvent<unknown>) => {
      if (!current()) return;
      if (typeof event.data !== "string") return events.invalid("binary frame");
      const decoded = decodeMessage(gatewayToConsoleSchema, event.data);
      if (decoded.ok) events.message(decoded.value);
      else events.invalid(decoded.error.message);
    });
    opened.addEventListener("close", () => {
      if (!current()) return;
      socket = null;
      life.set("dropped");
      void events.dropped().then((again) => {
        if (!current() || life.state !== "dropped") return;
        if (!again) return life.set("stopped");
        life.set("waiting");
        retryTimer = setTimeout(connect, backoffDelay(retries));
        retries += 1;
      });
    });
  };

  connect();
  return {
    send(message) {
      if (life.state !== "open" || socket === null || socket.readyState !== WebSocket.OPEN) return false;
      socket.send(JSON.stringify(message));
      return true;
    },
    close() {
      if (life.state === "stopped") return;
      attempt += 1;
      clearTimeout(retryTimer);
      life.set("stopped");
      socket?.close(1000);
      socket = null;
    },
  };
}
