import { randomBytes } from "node:crypto";
import { request as httpRequest } from "node:http";
import { connect, type Socket } from "node:net";
import { Writable } from "node:stream";
import { type Logger, pino } from "pino";
import type { ClientOptions } from "ws";
import { z } from "zod";
import { type GatewayToAgent, gatewayToAgentSchema, type Join } from "../../shared/agent-protocol.ts";
import { decodeMessage } from "../../shared/decode.ts";
import { type ErrorCode, errorBodySchema, HTTP_STATUS } from "../../shared/errors.ts";
import { PROTOCOL_VERSION } from "../../shared/limits.ts";
import {
  type AgentSocket,
  type ApiClient,
  type ApiResponse,
  type ConsoleSocket,
  openAgentSocket,
  TEST_DEVICE,
} from "./gateway.ts";

/** Small helpers for the security tests: raw HTTP (no client-side path normalization), raw upgrades. */

export type RawResponse = {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
};

/**
 * Sends one HTTP request with the path exactly as given (fetch would normalize case-insensitive
 * schemes, dot segments and some encodings; an attacker's client does not have to).
 */
export function rawRequest(
  baseUrl: string,
  method: string,
  path: string,
  options: { body?: string; headers?: Record<string, string> } = {},
): Promise<RawResponse> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.body !== undefined) {
      headers["content-type"] ??= "application/json";
      headers["content-length"] = String(Buffer.byteLength(options.body));
    }
    const req = httpRequest({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString(),
          headers: res.headers,
        }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(options.body);
  });
}

/** Parses a JSON text, or undefined when it is not JSON. */
export function json(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export type UpgradeResult =
  | { upgraded: true; socket: Socket }
  | { upgraded: false; status: number; body: string };

/** Attempts a WebSocket upgrade by hand and reports the HTTP answer (or the upgraded socket). */
export function tryUpgrade(
  baseUrl: string,
  path: string,
  headers: Record<string, string>,
): Promise<UpgradeResult> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: url.hostname,
      port: url.port,
      path,
      // A fresh connection each time: the gateway may end the connection after refusing an upgrade.
      agent: false,
      headers: {
        connection: "Upgrade",
        upgrade: "websocket",
        "sec-websocket-version": "13",
        "sec-websocket-key": randomBytes(16).toString("base64"),
        ...headers,
      },
    });
    req.on("upgrade", (_res, socket) => resolve({ upgraded: true, socket }));
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () =>
        resolve({ upgraded: false, status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

/** The next message on an agent socket (whatever its type). */
export function nextAgentMessage(socket: AgentSocket, timeoutMs = 5_000): Promise<GatewayToAgent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.socket.off("message", onMessage);
      reject(new Error(`no message within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (data: Buffer) => {
      clearTimeout(timer);
      const decoded = decodeMessage(gatewayToAgentSchema, data.toString());
      if (decoded.ok) resolve(decoded.value);
      else reject(new Error(`invalid message: ${data.toString()}`));
    };
    socket.socket.once("message", onMessage);
  });
}

export type HelloOutcome =
  | { ok: true; socket: AgentSocket; welcome: Extract<GatewayToAgent, { type: "welcome" }> }
  | { ok: false; socket: AgentSocket; code: string; retryAfter: number | undefined; closeCode: number };

/**
 * Opens an agent socket (with `headers` on the upgrade, e.g. x-forwarded-for) and sends one hello.
 * A refused hello is an outcome, not an exception: its code, retryAfter and how the socket closed.
 */
export async function hello(
  baseUrl: string,
  join: Join,
  headers: Record<string, string> = {},
  device = TEST_DEVICE,
  options: ClientOptions = {},
): Promise<HelloOutcome> {
  const socket = await openAgentSocket(baseUrl, headers, options);
  const first = nextAgentMessage(socket);
  socket.send({ type: "hello", v: PROTOCOL_VERSION, join, device });
  const message = await first;
  if (message.type === "welcome") return { ok: true, socket, welcome: message };
  if (message.type !== "error") throw new Error(`unexpected first message ${message.type}`);
  const { code } = await deadline(socket.closed, "the close");
  return {
    ok: false,
    socket,
    code: message.error.code,
    retryAfter: message.error.retryAfter,
    closeCode: code,
  };
}

/** A PIN that is not any live session's (nine digits; the gateway's PINs are random). */
export function wrongPin(live: readonly string[], seed: number): string {
  for (let n = seed; ; n += 1) {
    const pin = String(n % 1_000_000_000).padStart(9, "0");
    if (!live.includes(pin)) return pin;
  }
}

/**
 * The whole "Start remote session" flow: the technician asks, the agent grants control, the
 * technician's console opens the remote view; returns the peer id both ends now share.
 */
export async function openRemoteView(
  technician: ApiClient,
  consoleSocket: ConsoleSocket,
  agent: AgentSocket,
  sessionId: string,
): Promise<string> {
  const asked = await technician.post(`/api/sessions/${sessionId}/permission`);
  if (asked.status !== 200) throw new Error(`permission request failed: ${JSON.stringify(asked.body)}`);
  const request = await agent.next("consent.request");
  agent.send({ type: "consent", requestId: request.requestId, decision: "control" });
  await consoleSocket.next(
    "session.updated",
    (m) => m.session.id === sessionId && m.session.permissions.some((p) => p.state === "granted"),
  );
  consoleSocket.send({ type: "remote.connect", sessionId });
  const opened = await consoleSocket.next("remote.opened", (m) => m.sessionId === sessionId);
  const peerOpen = await agent.next("peer.open", (m) => m.peerId === opened.peerId);
  return peerOpen.peerId;
}

/** An SDP payload of the shape the protocol carries (content does not matter to the gateway). */
export const SDP_ANSWER = { kind: "description", type: "answer", sdp: "v=0\r\n" } as const;

/** The promise's value, or a failure naming `what` once `ms` passed (a deadline, not a sleep). */
export function deadline<T>(promise: Promise<T>, what = "the event", ms = 5_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

export const WRONG_PASSWORD = "not-the-password";

/** A sign-in attempt, optionally from another address (needs the gateway's trustProxy). */
export function signInFrom(
  client: ApiClient,
  email: string,
  password: string,
  address?: string,
): Promise<ApiResponse> {
  return client.request(
    "POST",
    "/api/auth/sign-in",
    { email, password },
    address === undefined ? {} : { "x-forwarded-for": address },
  );
}

/** The `retryAfter` of an error answer, if any. */
export function retryAfterOf(response: ApiResponse): number | undefined {
  const body = response.body;
  if (typeof body !== "object" || body === null || !("error" in body)) return undefined;
  const error = body.error;
  if (typeof error !== "object" || error === null || !("retryAfter" in error)) return undefined;
  return typeof error.retryAfter === "number" ? error.retryAfter : undefined;
}

/** Decodes a `Transfer-Encoding: chunked` body (tests only: trusts the gateway's framing). */
function dechunk(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset < body.length) {
    const lineEnd = body.indexOf("\r\n", offset);
    if (lineEnd === -1) break;
    const size = Number.parseInt(body.subarray(offset, lineEnd).toString(), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

/** Parses one HTTP/1.1 answer; undefined until its head and (with Content-Length) its body arrived. */
function parseAnswer(data: Buffer, complete: boolean, head: boolean): RawResponse | undefined {
  const headEnd = data.indexOf("\r\n\r\n");
  if (headEnd === -1) return undefined;
  const [statusLine = "", ...lines] = data.subarray(0, headEnd).toString("latin1").split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const status = Number(statusLine.split(" ")[1] ?? 0);
  // An upgrade (101) or another interim answer has no body of its own.
  if ((status >= 100 && status < 200) || head) return { status, headers, body: "" };
  let body = data.subarray(headEnd + 4);
  const length = headers["content-length"];
  if (length !== undefined) {
    if (body.length < Number(length))
      return complete ? { status, headers, body: body.toString() } : undefined;
    body = body.subarray(0, Number(length));
  } else if (!complete) {
    return undefined;
  } else if (headers["transfer-encoding"]?.toLowerCase() === "chunked") {
    body = dechunk(body);
  }
  return { status, headers, body: body.toString() };
}

/**
 * Sends `text` byte for byte over a fresh TCP connection to the gateway (no client in between to
 * fix the request line, the headers or the body framing) and reads the first answer: when its
 * Content-Length bytes arrived, or else when the gateway closes. `status` is 0 when the gateway
 * closed without answering. With `halfClose` the client ends its side after sending, so a request
 * cut short is answered at once instead of waiting for the rest; with `endAfterMs` it does so only
 * when no answer came within that time (a client that gives up on sending the rest).
 */
export function rawHttp(
  baseUrl: string,
  text: string | Buffer,
  ms = 5_000,
  options: { halfClose?: boolean; endAfterMs?: number } = {},
): Promise<RawResponse> {
  const url = new URL(baseUrl);
  const socket = connect(Number(url.port), url.hostname);
  const chunks: Buffer[] = [];
  // The answer to a HEAD request has Content-Length but no body.
  const head = (typeof text === "string" ? text : text.toString("latin1", 0, 5)).startsWith("HEAD ");
  const answer = new Promise<RawResponse>((resolve) => {
    const finish = () =>
      resolve(parseAnswer(Buffer.concat(chunks), true, head) ?? { status: 0, headers: {}, body: "" });
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      const parsed = parseAnswer(Buffer.concat(chunks), false, head);
      if (parsed !== undefined) {
        resolve(parsed);
        socket.destroy();
      }
    });
    // A reset after the answer is the gateway dropping a connection it refused: not a failure.
    socket.on("error", finish);
    socket.on("close", finish);
  });
  if (options.halfClose === true) socket.end(text);
  else socket.write(text);
  const giveUp =
    options.endAfterMs === undefined ? undefined : setTimeout(() => socket.end(), options.endAfterMs);
  void answer.finally(() => clearTimeout(giveUp));
  return deadline(answer, `an answer to ${JSON.stringify(String(text).slice(0, 60))}`, ms).finally(() =>
    socket.destroy(),
  );
}

/**
 * A raw request text: request line, headers (Host and Connection: close unless given; Content-Length
 * for a body unless Transfer-Encoding is given), body as it is.
 */
export function httpText(
  method: string,
  target: string,
  options: { headers?: Record<string, string>; body?: string } = {},
): string {
  const headers: Record<string, string> = { host: "gateway.test", connection: "close", ...options.headers };
  if (options.body !== undefined) {
    headers["content-type"] ??= "application/json";
    if (headers["transfer-encoding"] === undefined)
      headers["content-length"] ??= String(Buffer.byteLength(options.body));
  }
  const head = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join("");
  return `${method} ${target} HTTP/1.1\r\n${head}\r\n${options.body ?? ""}`;
}

const documentedErrorSchema = z.object({ error: errorBodySchema }).strict();

/**
 * The error code of an answer with the documented body `{ "error": { code, message } }` (JSON,
 * a known code, the status that code is documented with); undefined for any other answer.
 */
export function documentedError(response: RawResponse): ErrorCode | undefined {
  const contentType = response.headers["content-type"];
  if (typeof contentType !== "string" || !contentType.startsWith("application/json")) return undefined;
  const parsed = documentedErrorSchema.safeParse(json(response.body));
  if (!parsed.success) return undefined;
  return HTTP_STATUS[parsed.data.error.code] === response.status ? parsed.data.error.code : undefined;
}

const logLineSchema = z.looseObject({ level: z.number(), msg: z.string().default("") });

export type LogLine = { level: number; msg: string; text: string; fields: Record<string, unknown> };

/**
 * A pino logger whose output the test can read and measure (pass it as the gateway's
 * `options.log`): every line parsed, and the bytes written.
 */
export class CapturedLog {
  readonly lines: LogLine[] = [];
  bytes = 0;
  readonly logger: Logger;

  constructor(level: "debug" | "info" | "warn" = "debug") {
    const destination = new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        this.bytes += chunk.length;
        for (const text of chunk.toString().split("\n")) {
          if (text === "") continue;
          const parsed = logLineSchema.safeParse(json(text));
          if (!parsed.success) continue;
          this.lines.push({ level: parsed.data.level, msg: parsed.data.msg, text, fields: parsed.data });
        }
        done();
      },
    });
    this.logger = pino({ level }, destination);
  }

  /** Lines at warn level or above (pino: warn 40, error 50, fatal 60). */
  problems(): LogLine[] {
    return this.lines.filter((line) => line.level >= 40);
  }

  /**
   * Lines from the `from`-th on, other than fastify's one-per-request access lines (incoming
   * request, request completed).
   */
  besidesAccess(from = 0): LogLine[] {
    return this.lines
      .slice(from)
      .filter((line) => line.msg !== "incoming request" && line.msg !== "request completed");
  }
}
