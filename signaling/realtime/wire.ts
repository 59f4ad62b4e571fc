import type { WebSocket } from "ws";
import type { GatewayToAgent } from "../../shared/agent-protocol.ts";
import type { GatewayToConsole } from "../../shared/console-protocol.ts";
import { SosError } from "../../shared/errors.ts";

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

/** Calls the handler for the message's type. */
export function dispatch<M extends { type: string }, C>(
  handlers: HandlerMap<M, C>,
  context: C,
  message: M,
): void | Promise<void> {
  const type: M["type"] = message.type;
  // The mapped type guarantees handlers[type] takes Extract<M, {type}>; TypeScript cannot relate
  // the two through an indexed access, so the one cast lives here.
  const handler = handlers[type] as (context: C, message: M) => void | Promise<void>;
  return handler(context, message);
}

/** Close codes the gateway uses on its sockets (4000-4999 are for applications). */
export const CLOSE = {
  normal: 1000,
  tooLarge: 1009,
  protocolError: 4400,
  unauthenticated: 4401,
  forbidden: 4403,
  helloTimeout: 4408,
  replaced: 4409,
  ended: 4410,
} as const;
