import type { RawData, WebSocket } from "ws";
import type { z } from "zod";
import type { GatewayToAgent } from "../../shared/agent-protocol.ts";
import { CLOSE } from "../../shared/close-codes.ts";
import type { GatewayToConsole } from "../../shared/console-protocol.ts";
import { decodeMessage } from "../../shared/decode.ts";
import { SosError } from "../../shared/errors.ts";
import { MAX_QUEUED_SOCKET_MESSAGES } from "../../shared/limits.ts";
import { type GatewaySocket, gatewaySocket } from "./gateway-socket.ts";

/** Sends one protocol message; a closed socket drops it silently (its close handler cleans up). */
export function send(socket: WebSocket, message: GatewayToAgent | GatewayToConsole): void {
  if (socket.readyState !== socket.OPEN) return;
  socket.send(JSON.stringify(message));
}

export function sendError(socket: WebSocket, error: unknown, inReplyTo: string | undefined): void {
  const body = toSosError(error).toBody();
  send(
    socket,
    inReplyTo === undefined ? { type: "error", error: body } : { type: "error", error: body, inReplyTo },
  );
}

export function toSosError(error: unknown): SosError {
  if (error instanceof SosError) return error;
  return new SosError("INTERNAL", "Something went wrong on the gateway.", { cause: error });
}

/** A map with exactly one handler per message type; a missing one fails to compile. */
export type HandlerMap<M extends { type: string }, C> = {
  [K in M["type"]]: (context: C, message: Extract<M, { type: K }>) => void | Promise<void>;
};

/**
 * Calls the handler for the message's type; a thrown or rejected error goes to `fail` with the
 * message's type, never up the stack (one bad message must not disturb the socket or process).
 * Resolves once the handler is done (or has failed).
 */
export async function dispatch<M extends { type: string }, C>(
  handlers: HandlerMap<M, C>,
  context: C,
  message: M,
  fail: (error: unknown, inReplyTo: string) => void,
): Promise<void> {
  const type: M["type"] = message.type;
  // The mapped type guarantees handlers[type] takes Extract<M, {type}>; TypeScript cannot relate
  // the two through an indexed access, so the one cast lives here.
  const handler = handlers[type] as (context: C, message: M) => void | Promise<void>;
  try {
    await handler(context, message);
  } catch (error) {
    fail(error, type);
  }
}

/**
 * The one decode point of an endpoint's sockets: every text frame through the shared schema; binary
 * frames and anything that does not decode are answered with BAD_REQUEST and go no further. Returns
 * the `message` listener, one function for all the endpoint's sockets.
 *
 * A socket's messages are handled one after the other, in the order they arrived: a handler that
 * waits on the store holds the ones behind it (a hello is joined before the consent that follows
 * it is looked at; a console's signals reach the agent in the order it sent them). At most
 * MAX_QUEUED_SOCKET_MESSAGES wait: a socket that sends more before they are handled is closed with
 * 4429 (flooded), and what it sends after that is dropped.
 */
export function protocolListener<S extends z.ZodType>(
  schema: S,
  handle: (socket: GatewaySocket, message: z.infer<S>) => Promise<void>,
): (this: WebSocket, data: RawData, isBinary: boolean) => void {
  return function onMessage(this: WebSocket, data: RawData, isBinary: boolean) {
    const socket = gatewaySocket(this);
    if (isBinary) {
      inOrder(socket, () =>
        sendError(socket, SosError.badRequest("Binary frames are not part of the protocol."), undefined),
      );
      return;
    }
    const decoded = decodeMessage(schema, data.toString());
    if (!decoded.ok) {
      const { error } = decoded;
      inOrder(socket, () => sendError(socket, error, undefined));
      return;
    }
    const message = decoded.value;
    inOrder(socket, () => handle(socket, message));
  };
}

/**
 * Queues one step behind the socket's earlier messages (dispatch reports a handler's failure). An
 * idle socket keeps no promise: the queue is dropped once its last step is done.
 */
function inOrder(socket: GatewaySocket, step: () => void | Promise<void>): void {
  if (socket.queued >= MAX_QUEUED_SOCKET_MESSAGES) {
    if (socket.readyState === socket.OPEN) socket.close(CLOSE.flooded, "too many messages at once");
    return;
  }
  socket.queued += 1;
  const done: Promise<void> = (socket.handled ?? Promise.resolve())
    .then(step)
    .catch(() => undefined)
    .then(() => {
      socket.queued -= 1;
      if (socket.handled === done) socket.handled = undefined;
    });
  socket.handled = done;
}

export { CLOSE };
