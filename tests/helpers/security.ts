import { randomBytes } from "node:crypto";
import { request as httpRequest } from "node:http";
import type { Socket } from "node:net";
import { type GatewayToAgent, gatewayToAgentSchema, type Join } from "../../shared/agent-protocol.ts";
import { decodeMessage } from "../../shared/decode.ts";
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
): Promise<HelloOutcome> {
  const socket = await openAgentSocket(baseUrl, headers);
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
