import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { hasZodFastifySchemaValidationErrors } from "fastify-type-provider-zod";
import { type ErrorBody, HTTP_STATUS, SosError, TRANSIENT_ERROR_CODES } from "../../shared/errors.ts";
import { type ClientFaultLog, faultName, isClientFault } from "./client-faults.ts";

/**
 * Every refusal over HTTP is `{ error: { code, message, ... } }` with the code's status. The type is
 * set here: a handler that failed half-way (a static file) may have set another on the response.
 */
export function sendError(reply: FastifyReply, error: SosError): FastifyReply {
  if (error.retryAfter !== undefined) reply.header("retry-after", String(error.retryAfter));
  // A refused upgrade's connection is no longer Node's HTTP connection (nobody would close it, and
  // half-open it would hold the gateway's shutdown): it ends with the refusal.
  const request = reply.request.raw;
  if ("upgrade" in request && request.upgrade === true) {
    reply.header("connection", "close");
    reply.raw.once("finish", () => request.socket.end());
  }
  return reply
    .code(HTTP_STATUS[error.code])
    .type("application/json; charset=utf-8")
    .send({ error: error.toBody() satisfies ErrorBody });
}

/** Whether the client's connection is gone (it went away, or Node's parser closed it). */
function connectionGone(request: FastifyRequest, reply: FastifyReply): boolean {
  const socket: { destroyed: boolean } | null = request.raw.socket;
  return reply.raw.destroyed || socket === null || socket.destroyed;
}

/** The error handler of every route: each error becomes a refusal with a code. */
export function createErrorHandler(clientFaults: ClientFaultLog) {
  return (error: FastifyError | SosError | Error, request: FastifyRequest, reply: FastifyReply) =>
    handleError(clientFaults, error, request, reply);
}

function handleError(
  clientFaults: ClientFaultLog,
  error: FastifyError | SosError | Error,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  if (error instanceof SosError) {
    // The gateway's own trouble (its store unavailable) is logged with its cause; refusals are not.
    if (TRANSIENT_ERROR_CODES.has(error.code)) request.log.error({ err: error }, "request failed");
    return sendError(reply, error);
  }
  // A client that went away mid-request or mid-answer (a reset, a file cut short) is its fault,
  // not the gateway's: one budgeted line, and nothing left to answer.
  if (isClientFault(error) || connectionGone(request, reply)) {
    clientFaults.report({
      address: clientAddress(request),
      fault: faultName(error),
      reason: error.message,
    });
    if (!reply.raw.headersSent && !connectionGone(request, reply)) {
      return sendError(reply, SosError.badRequest("The request was cut short."));
    }
    reply.raw.destroy();
    return reply;
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    const issues = error.validation.map((issue) => ({
      path: [error.validationContext ?? "body", issue.instancePath.replaceAll("/", ".").replace(/^\./, "")]
        .filter((part) => part !== "")
        .join("."),
      message: issue.message ?? "invalid",
    }));
    return sendError(reply, SosError.badRequest("The request does not match the API.", issues));
  }
  const fastifyError = error as Partial<FastifyError>;
  if (fastifyError.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
    return sendError(reply, new SosError("MESSAGE_TOO_LARGE", "The request body is too large."));
  }
  const status = fastifyError.statusCode ?? 500;
  if (status === 429) return sendError(reply, new SosError("RATE_LIMITED", "Too many requests."));
  if (status >= 400 && status < 500) return sendError(reply, SosError.badRequest(error.message));
  request.log.error({ err: error }, "request failed");
  return sendError(reply, new SosError("INTERNAL", "Something went wrong on the gateway."));
}

/**
 * The same refusal written straight onto a connection, for the answers given before fastify has a
 * request (Node's HTTP parser, the WebSocket handshake): the documented body, then the connection
 * is closed.
 */
export function writeRawError(socket: Duplex, error: SosError, headers: Record<string, string> = {}): void {
  const status = HTTP_STATUS[error.code];
  const body = JSON.stringify({ error: error.toBody() satisfies ErrorBody });
  const head = {
    connection: "close",
    "content-type": "application/json; charset=utf-8",
    "content-length": String(Buffer.byteLength(body)),
    "x-content-type-options": "nosniff",
    ...headers,
  };
  const lines = Object.entries(head).map(([name, value]) => `${name}: ${value}\r\n`);
  socket.once("finish", () => socket.destroy());
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}\r\n${lines.join("")}\r\n${body}`);
}

/** The refusal for an error of Node's HTTP parser (the server's `clientError` event). */
export function clientErrorRefusal(error: Error): SosError {
  const code = "code" in error ? error.code : undefined;
  if (code === "HPE_HEADER_OVERFLOW")
    return new SosError("HEADERS_TOO_LARGE", "The request headers are too large.");
  if (code === "ERR_HTTP_REQUEST_TIMEOUT")
    return new SosError("REQUEST_TIMEOUT", "The request did not arrive in time.");
  return SosError.badRequest(
    typeof code === "string" ? `Malformed HTTP request (${code}).` : "Malformed HTTP request.",
  );
}

/**
 * Whether a refusal can still be written on a connection the parser gave up on: it is writable and
 * no answer to an earlier request on it has started (Node's own default `clientError` check).
 */
export function canAnswer(socket: Duplex): boolean {
  if (!socket.writable) return false;
  const pending: unknown = "_httpMessage" in socket ? socket._httpMessage : undefined;
  return !(
    typeof pending === "object" &&
    pending !== null &&
    "headersSent" in pending &&
    pending.headersSent === true
  );
}

/**
 * The client's address as the rest of the gateway takes it (`request.ip`: behind a trusted proxy,
 * the one it names), so the fault budget is each client's, not the proxy's; undefined when the
 * connection is already gone.
 */
function clientAddress(request: FastifyRequest): string | undefined {
  const ip: string | undefined = request.ip;
  return typeof ip === "string" ? ip : undefined;
}
