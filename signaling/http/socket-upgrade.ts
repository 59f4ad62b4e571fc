import type { ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { FastifyRequest } from "fastify";
import type { WebSocket } from "ws";

/**
 * What a socket's fault does (classify, log within the budget, terminate), given only what it
 * needs to keep: the client's address and the upgrade request's id for the log line.
 */
export type SocketFault = (error: Error, socket: WebSocket, address: string, requestId: string) => void;

/**
 * @fastify/websocket keeps an upgraded socket's HTTP request reachable for the socket's whole life:
 * its per-socket error listener holds the fastify request and reply (and with them the request's
 * child logger, its headers and its ServerResponse), and that response stays assigned to the TCP
 * connection. None of it is used once the socket is open. This hands the socket's faults to
 * `fault` with the address and request id only, and detaches the finished response from the
 * connection, so each idle socket keeps just what its handlers hold.
 */
export function keepSocketOnly(socket: WebSocket, request: FastifyRequest, fault: SocketFault): void {
  const address = request.ip;
  const requestId = request.id;
  socket.removeAllListeners("error");
  socket.on("error", (error: Error) => fault(error, socket, address, requestId));
  const connection: Socket & { _httpMessage?: ServerResponse | null } = request.raw.socket;
  connection._httpMessage?.detachSocket(connection);
}
