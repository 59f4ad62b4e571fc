import type { ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { FastifyRequest } from "fastify";
import type { WebSocket } from "ws";
import { type GatewaySocket, gatewaySocket } from "../realtime/gateway-socket.ts";

/** What a socket's fault does (classify, log within the budget, terminate), given the socket. */
export type SocketFault = (error: Error, socket: GatewaySocket) => void;

/** The `error` listener of every upgraded socket: one function for all, `fault` given once. */
export function faultListener(fault: SocketFault): (this: WebSocket, error: Error) => void {
  return function onFault(this: WebSocket, error: Error) {
    fault(error, gatewaySocket(this));
  };
}

/**
 * @fastify/websocket keeps an upgraded socket's HTTP request reachable for the socket's whole life:
 * its per-socket error listener holds the fastify request and reply (and with them the request's
 * child logger, its headers and its ServerResponse), and that response stays assigned to the TCP
 * connection. None of it is used once the socket is open. This keeps the client's address on the
 * socket, hands its faults to `onFault` (shared by all sockets, see faultListener) and
 * detaches the finished response from the connection, so each idle socket keeps just its fields.
 * It also drops the peer address Node cached on the connection when the request's address was read
 * (an object and a string per socket; Node reads it again if anything asks).
 */
export function keepSocketOnly(
  ws: WebSocket,
  request: FastifyRequest,
  onFault: (this: WebSocket, error: Error) => void,
): GatewaySocket {
  const socket = gatewaySocket(ws);
  socket.address = request.ip;
  socket.removeAllListeners("error");
  socket.on("error", onFault);
  const connection: Socket & { _httpMessage?: ServerResponse | null; _peername?: object | undefined } =
    request.raw.socket;
  connection._httpMessage?.detachSocket(connection);
  if (connection._peername !== undefined) connection._peername = undefined;
  return socket;
}
