import type { Logger } from "pino";
import type { RawData, WebSocket } from "ws";
import { type ConsoleMessage, consoleMessageSchema } from "../../shared/console-protocol.ts";
import { SosError, TRANSIENT_ERROR_CODES } from "../../shared/errors.ts";
import { PROTOCOL_VERSION } from "../../shared/limits.ts";
import type { Chat } from "../domain/chat.ts";
import type { Desk } from "../domain/desk/desk.ts";
import type { SystemInformation } from "../domain/system-info.ts";
import type { Viewing } from "../domain/viewing.ts";
import { technicianView } from "../domain/views.ts";
import type { Jobs } from "../jobs.ts";
import type { RelayDirection } from "../metrics/gateway-metrics.ts";
import type { TechnicianRow } from "../store/rows.ts";
import { type GatewaySocket, gatewaySocket } from "./gateway-socket.ts";
import type { ConsoleConnection, Hub } from "./hub.ts";
import { timedRelay } from "./relay-timing.ts";
import { CLOSE, dispatch, type HandlerMap, protocolListener, send, sendError, toSosError } from "./wire.ts";

function consoleOf(socket: GatewaySocket): ConsoleConnection {
  if (socket.console === undefined) throw new Error("not a console socket");
  return socket.console;
}

export type ConsoleSocketDeps = {
  hub: Hub;
  desk: Desk;
  chat: Chat;
  systemInfo: SystemInformation;
  viewing: Viewing<ConsoleConnection>;
  log: Logger;
  jobs: Jobs;
  /** A signal was relayed (the relay-latency metric); `startedAt` is when its handler took it. */
  relayed: (direction: RelayDirection, startedAt: number) => void;
};

/**
 * The console socket of a signed-in technician (authenticated at upgrade). Sends `hello` and the
 * visible sessions, then pushes changes; carries the technician's side of remote views.
 */
export class ConsoleSockets {
  readonly #d: ConsoleSocketDeps;
  readonly #handlers: HandlerMap<ConsoleMessage, ConsoleConnection>;
  readonly #onMessage: (this: WebSocket, data: RawData, isBinary: boolean) => void;
  readonly #onClose: (this: WebSocket) => void;

  constructor(deps: ConsoleSocketDeps) {
    this.#d = deps;
    const { hub, viewing } = deps;
    this.#handlers = {
      "remote.connect": async (connection, message) => {
        const account = await this.#account(connection);
        await viewing.connect(account, message.sessionId, connection, message.filesConnection === true);
      },
      "remote.disconnect": async (connection, message) => {
        await this.#account(connection);
        viewing.close(viewing.ownView(message.sessionId, connection), "disconnected");
      },
      // No store read per signal (a view exchanges dozens of ICE candidates): the open view is the
      // permission. It was opened by an enabled account that may connect, and disabling the account
      // or losing the session's permission closes it on every instance (revoked-technician test).
      signal: async (connection, message) => {
        const peer = viewing.ownView(message.sessionId, connection);
        hub.routing.signalToAgent(message.sessionId, peer.peerId, message.data);
      },
      "remote.path": async (connection, message) => {
        const account = await this.#account(connection);
        viewing.reportPath(account, viewing.ownView(message.sessionId, connection), message.path);
      },
      "chat.send": async (connection, message) => {
        const account = () => this.#account(connection);
        await deps.chat.say(connection.technicianId, account, message.sessionId, message.text);
      },
      "system.request": async (connection, message) => {
        await deps.systemInfo.request(await this.#account(connection), message.sessionId);
      },
    };
    this.#handlers.signal = timedRelay(this.#handlers.signal, (startedAt) =>
      deps.relayed("console_to_agent", startedAt),
    );
    // One listener of each kind for every console socket (see GatewaySocket).
    this.#onMessage = protocolListener(consoleMessageSchema, (socket, message) => {
      const connection = consoleOf(socket);
      return dispatch(this.#handlers, connection, message, (error, type) =>
        this.#fail(connection, error, type),
      );
    });
    this.#onClose = function onClose(this: WebSocket) {
      const connection = consoleOf(gatewaySocket(this));
      deps.jobs.safely("console socket closed", () => hub.removeConsole(connection));
    };
  }

  /** Takes an upgraded console socket of a signed-in technician. */
  accept(socket: GatewaySocket, account: TechnicianRow): void {
    const { hub, desk, log } = this.#d;
    const connection: ConsoleConnection = { socket, technicianId: account.id, seen: new Set() };
    socket.console = connection;
    socket.on("message", this.#onMessage);
    socket.on("close", this.#onClose);
    send(socket, { type: "hello", v: PROTOCOL_VERSION, technician: technicianView(account) });
    hub.addConsole(
      connection,
      () => desk.list(account, undefined),
      (error) => {
        // Without the attended-access permission or license the list is empty; the REST calls say
        // why. The gateway's own trouble (its store) is not an empty desk: the console comes back.
        if (error instanceof SosError && !TRANSIENT_ERROR_CODES.has(error.code)) return false;
        log.error({ err: error }, "console socket could not list its sessions");
        socket.close(CLOSE.tryAgain, "try again");
        return true;
      },
    );
  }

  #fail(connection: ConsoleConnection, error: unknown, inReplyTo: string): void {
    const sosError = toSosError(error);
    if (TRANSIENT_ERROR_CODES.has(sosError.code)) this.#d.log.error({ err: error }, "console message failed");
    sendError(connection.socket, sosError, inReplyTo);
  }

  async #account(connection: ConsoleConnection): Promise<TechnicianRow> {
    const account = await this.#d.hub.accountOf(connection);
    if (account === undefined) {
      connection.socket.close(CLOSE.unauthenticated, "signed out");
      throw new SosError("UNAUTHENTICATED", "Sign in again.");
    }
    return account;
  }
}
