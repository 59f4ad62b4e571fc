import { type ClientOptions, WebSocket } from "ws";
import type { z } from "zod";
import { AGENT_FEATURES, type GatewayToAgent, gatewayToAgentSchema } from "../../shared/agent-protocol.ts";
import { type GatewayToConsole, gatewayToConsoleSchema } from "../../shared/console-protocol.ts";
import { decodeMessage } from "../../shared/decode.ts";
import { PROTOCOL_VERSION } from "../../shared/limits.ts";

/** Test clients that speak the gateway's real HTTP API and sockets, as a console or an agent would. */

export type ApiResponse = { status: number; body: unknown; headers: Headers };

/** A signed-in (or anonymous) HTTP client keeping the session cookie and CSRF token. */
export class ApiClient {
  readonly baseUrl: string;
  cookie: string | undefined;
  csrfToken: string | undefined;

  constructor(baseUrl: string) {
    this.baseUrl = baseUrl;
  }

  async request(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiResponse> {
    const allHeaders: Record<string, string> = { ...headers };
    if (body !== undefined) allHeaders["content-type"] = "application/json";
    if (this.cookie !== undefined) allHeaders.cookie = this.cookie;
    if (this.csrfToken !== undefined && method !== "GET" && !("x-csrf-token" in headers)) {
      allHeaders["x-csrf-token"] = this.csrfToken;
    }
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: allHeaders,
      ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text === "" ? undefined : JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, body: parsed, headers: response.headers };
  }

  get(path: string) {
    return this.request("GET", path);
  }
  post(path: string, body: unknown = {}) {
    return this.request("POST", path, body);
  }
  patch(path: string, body: unknown) {
    return this.request("PATCH", path, body);
  }
  delete(path: string) {
    return this.request("DELETE", path);
  }

  async signIn(email: string, password: string): Promise<ApiResponse> {
    const response = await this.post("/api/auth/sign-in", { email, password });
    const cookie = response.headers.get("set-cookie");
    if (response.status === 200 && cookie !== null) {
      this.cookie = cookie.split(";")[0];
      this.csrfToken = field(response.body, "csrfToken");
    }
    return response;
  }
}

/** Reads a string field from an untyped JSON body (tests only). */
export function field(body: unknown, ...path: string[]): string {
  let value: unknown = body;
  for (const key of path) {
    if (typeof value !== "object" || value === null)
      throw new Error(`no ${path.join(".")} in ${JSON.stringify(body)}`);
    value = (value as Record<string, unknown>)[key];
  }
  if (typeof value !== "string")
    throw new Error(`${path.join(".")} is not a string in ${JSON.stringify(body)}`);
  return value;
}

/** The error code of an error answer. */
export function errorCode(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null || !("error" in body)) return undefined;
  const error = body.error;
  if (typeof error !== "object" || error === null || !("code" in error)) return undefined;
  return typeof error.code === "string" ? error.code : undefined;
}

/**
 * A socket whose received messages are decoded with the shared schema and queued, so a test can
 * wait for the next message matching a predicate (event-driven, with a deadline).
 */
export class ProtocolSocket<M extends { type: string }> {
  readonly socket: WebSocket;
  readonly received: M[] = [];
  readonly #schema: z.ZodType<M>;
  readonly #waiters: Array<{ match: (m: M) => boolean; resolve: (m: M) => void }> = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly opened: Promise<void>;

  /** `options`: more of ws's client options (e.g. `localAddress`, to come from another address). */
  constructor(
    url: string,
    schema: z.ZodType<M>,
    headers: Record<string, string> = {},
    options: ClientOptions = {},
  ) {
    this.#schema = schema;
    this.socket = new WebSocket(url, { ...options, headers });
    this.opened = new Promise((resolve, reject) => {
      this.socket.once("open", () => resolve());
      this.socket.once("error", reject);
      this.socket.once("unexpected-response", (_request, response) =>
        reject(new Error(`upgrade refused: ${response.statusCode}`)),
      );
    });
    this.closed = new Promise((resolve) => {
      this.socket.once("close", (code, reason) => resolve({ code, reason: reason.toString() }));
    });
    this.socket.on("message", (data) => {
      const decoded = decodeMessage(this.#schema, data.toString());
      if (!decoded.ok) throw new Error(`gateway sent an invalid message: ${data.toString()}`);
      const message = decoded.value;
      const index = this.#waiters.findIndex((waiter) => waiter.match(message));
      if (index >= 0) {
        const [waiter] = this.#waiters.splice(index, 1);
        waiter?.resolve(message);
      } else {
        this.received.push(message);
      }
    });
  }

  send(message: unknown): void {
    this.socket.send(typeof message === "string" ? message : JSON.stringify(message));
  }

  /** The next message of that type (and matching `where`), already received or still to come. */
  next<T extends M["type"]>(
    type: T,
    where: (message: Extract<M, { type: T }>) => boolean = () => true,
    timeoutMs = 5_000,
  ): Promise<Extract<M, { type: T }>> {
    const match = (message: M): message is Extract<M, { type: T }> =>
      message.type === type && where(message as Extract<M, { type: T }>);
    return this.waitFor(match, `${type}`, timeoutMs) as Promise<Extract<M, { type: T }>>;
  }

  /** The next message matching `match`, already received or still to come. */
  waitFor(match: (message: M) => boolean, what = "matching", timeoutMs = 5_000): Promise<M> {
    const queued = this.received.findIndex(match);
    if (queued >= 0) {
      const [message] = this.received.splice(queued, 1);
      if (message !== undefined) return Promise.resolve(message);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const at = this.#waiters.indexOf(waiter);
        if (at >= 0) this.#waiters.splice(at, 1);
        reject(
          new Error(
            `no ${what} message within ${timeoutMs} ms; queued: ${this.received.map((m) => m.type).join(", ")}`,
          ),
        );
      }, timeoutMs);
      const waiter = {
        match,
        resolve: (message: M) => {
          clearTimeout(timer);
          resolve(message);
        },
      };
      this.#waiters.push(waiter);
    });
  }

  close(): void {
    this.socket.close();
  }
}

export type AgentSocket = ProtocolSocket<GatewayToAgent>;
export type ConsoleSocket = ProtocolSocket<GatewayToConsole>;

export function wsUrl(httpUrl: string, path: string): string {
  return `${httpUrl.replace(/^http/, "ws")}${path}`;
}

/** A bare agent socket (no hello sent yet); `headers` go on the upgrade (e.g. x-forwarded-for). */
export async function openAgentSocket(
  baseUrl: string,
  headers: Record<string, string> = {},
  options: ClientOptions = {},
): Promise<AgentSocket> {
  const socket = new ProtocolSocket(wsUrl(baseUrl, "/ws/agent"), gatewayToAgentSchema, headers, options);
  await socket.opened;
  return socket;
}

export const TEST_DEVICE = {
  hostname: "test-host",
  os: "Linux test",
  user: "enduser",
  agentVersion: "0.0.0-test",
};

/** Thrown by joinAgent when the gateway answers the hello with an error. */
export class JoinRefused extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(`${code}: ${message}`);
    this.code = code;
  }
}

/**
 * An agent socket that joined by PIN, link token or resume secret, with its welcome. It names the
 * features today's agent names; `features: null` plays an agent built before they existed.
 */
export async function joinAgent(
  baseUrl: string,
  join:
    | { kind: "pin"; pin: string }
    | { kind: "link"; token: string }
    | { kind: "resume"; sessionId: string; secret: string },
  device = TEST_DEVICE,
  headers: Record<string, string> = {},
  features: readonly string[] | null = AGENT_FEATURES,
) {
  const socket = await openAgentSocket(baseUrl, headers);
  socket.send({
    type: "hello",
    v: PROTOCOL_VERSION,
    join,
    device,
    ...(features === null ? {} : { features }),
  });
  const first = await socket.waitFor((m) => m.type === "welcome" || m.type === "error", "welcome or error");
  if (first.type === "error") {
    socket.close();
    throw new JoinRefused(first.error.code, first.error.message);
  }
  if (first.type !== "welcome") throw new Error("unreachable");
  return { socket, welcome: first };
}

/** A console socket of a signed-in client (same Origin as the gateway). */
export async function openConsoleSocket(client: ApiClient, origin = client.baseUrl): Promise<ConsoleSocket> {
  const headers: Record<string, string> = { origin };
  if (client.cookie !== undefined) headers.cookie = client.cookie;
  const socket = new ProtocolSocket(wsUrl(client.baseUrl, "/ws/console"), gatewayToConsoleSchema, headers);
  await socket.opened;
  await socket.next("hello");
  return socket;
}
