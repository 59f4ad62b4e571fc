/**
 * bench:gateway's clients: idle agents and PeerJS clients, and the two relay pairs whose one-way
 * latency it times (a technician's console to the agent on the gateway; one PeerJS client to
 * another). Both sides parse frames with JSON.parse only, so neither pays a client-side schema.
 */
import { WebSocket } from "ws";
import { PROTOCOL_VERSION } from "../shared/limits.ts";
import { type ApiClient, field } from "../tests/helpers/clients.ts";

type Json = { type?: unknown; [key: string]: unknown };

/** A WebSocket whose text frames are parsed and offered to whoever waits for one. */
export class JsonSocket {
  readonly socket: WebSocket;
  readonly #queue: Json[] = [];
  #waiter: { match: (m: Json) => boolean; resolve: (m: Json) => void } | undefined;

  constructor(url: string, headers: Record<string, string> = {}) {
    this.socket = new WebSocket(url, { headers });
    this.socket.on("message", (data) => {
      const message = JSON.parse(data.toString()) as Json;
      const waiter = this.#waiter;
      if (waiter?.match(message) === true) {
        this.#waiter = undefined;
        waiter.resolve(message);
      } else {
        this.#queue.push(message);
      }
    });
  }

  opened(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.socket.readyState === WebSocket.OPEN) resolve();
      this.socket.once("open", () => resolve());
      this.socket.once("error", reject);
    });
  }

  send(message: unknown): void {
    this.socket.send(JSON.stringify(message));
  }

  /** The next message matching (queued or still to come); one waiter at a time. */
  next(match: (m: Json) => boolean, what: string, timeoutMs = 10_000): Promise<Json> {
    const at = this.#queue.findIndex(match);
    if (at >= 0) return Promise.resolve(this.#queue.splice(at, 1)[0] as Json);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${what} within ${timeoutMs} ms`)), timeoutMs);
      this.#waiter = {
        match,
        resolve: (message) => {
          clearTimeout(timer);
          resolve(message);
        },
      };
    });
  }
}

const ofType = (type: string) => (m: Json) => m.type === type;
export const wsOf = (httpUrl: string, path: string) => `${httpUrl.replace(/^http/, "ws")}${path}`;

/** An SDP of a typical size (a browser's answer with a few candidates is 2-4 KB), the same for both. */
export const SDP = `v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n${"a=x-bench:0123456789abcdef0123456789abcdef0123456789abcdef0123456789\r\n".repeat(36)}`;

/** `told`: the agent got its first `technicians` list (the gateway's fan-out of its join is done). */
export type Joined = { socket: WebSocket; ms: number; told: Promise<void> };

/** An agent's hello by PIN or link from `address` (x-forwarded-for); resolves at its welcome. */
export function joinAgent(
  url: string,
  join: { kind: "pin"; pin: string } | { kind: "link"; token: string },
  address: string,
): Promise<Joined> {
  const started = performance.now();
  const socket = new WebSocket(wsOf(url, "/ws/agent"), { headers: { "x-forwarded-for": address } });
  return new Promise((resolve, reject) => {
    socket.once("open", () =>
      socket.send(
        JSON.stringify({
          type: "hello",
          v: PROTOCOL_VERSION,
          join,
          device: { hostname: "bench", os: "linux", user: "u", agentVersion: "bench" },
        }),
      ),
    );
    socket.once("message", (data) => {
      const message = JSON.parse(data.toString()) as { type: string; error?: { code: string } };
      if (message.type === "welcome") {
        // Watched from the welcome on: the list may come in the same read as the welcome.
        const told = new Promise<void>((toldNow) => {
          const listener = (next: Buffer) => {
            if ((JSON.parse(next.toString()) as { type: string }).type !== "technicians") return;
            socket.off("message", listener);
            toldNow();
          };
          socket.on("message", listener);
        });
        resolve({ socket, ms: performance.now() - started, told });
      } else reject(new Error(message.error?.code ?? message.type));
    });
    socket.once("error", reject);
  });
}

/** A new session in the client's own channel: its id, PIN and link token. */
export async function newSession(client: ApiClient): Promise<{ id: string; pin: string; token: string }> {
  const response = await client.post("/api/sessions", { channelId: "home" });
  if (response.status !== 200) throw new Error(`create failed: ${response.status}`);
  const link = field(response.body, "invitation", "link");
  return {
    id: field(response.body, "session", "id"),
    pin: field(response.body, "invitation", "pin"),
    token: link.split("/s/")[1] ?? "",
  };
}

/** An idle PeerJS client registered as `id`; resolves at the server's OPEN. */
export async function openPeerjsClient(port: number, id: string): Promise<JsonSocket> {
  const client = new JsonSocket(`ws://127.0.0.1:${port}/peerjs?key=peerjs&id=${id}&token=t${id}`);
  await client.next(ofType("OPEN"), "OPEN");
  return client;
}

/** Times one message from `from` until `to` has it. */
export type RelayPair = { once(): Promise<number>; close(): void };

/**
 * A remote view between the technician signed in as `technician` (console on `consoleUrl`) and an
 * agent on `agentUrl`, through consent; `once` times the console's signal until the agent has it.
 */
export async function sosRelayPair(
  technician: ApiClient,
  consoleUrl: string,
  agentUrl: string,
): Promise<RelayPair> {
  const session = await newSession(technician);
  const agent = new JsonSocket(wsOf(agentUrl, "/ws/agent"), { "x-forwarded-for": "10.9.0.1" });
  await agent.opened();
  agent.send({
    type: "hello",
    v: PROTOCOL_VERSION,
    join: { kind: "link", token: session.token },
    device: { hostname: "bench", os: "linux", user: "u", agentVersion: "bench" },
  });
  await agent.next(ofType("welcome"), "welcome");
  const headers: Record<string, string> = { origin: consoleUrl };
  if (technician.cookie !== undefined) headers.cookie = technician.cookie;
  const desk = new JsonSocket(wsOf(consoleUrl, "/ws/console"), headers);
  // A gateway holding tens of thousands of idle agents on a loaded machine answers slowly.
  await desk.next(ofType("sessions"), "sessions", 60_000);
  const asked = await technician.post(`/api/sessions/${session.id}/permission`);
  if (asked.status !== 200) throw new Error(`permission request failed: ${asked.status}`);
  const request = await agent.next(ofType("consent.request"), "consent.request");
  agent.send({ type: "consent", requestId: request.requestId, decision: "control" });
  // The grant reaches this console as a session update; connecting before it would be refused.
  await desk.next(
    (m) => m.type === "session.updated" && JSON.stringify(m).includes('"state":"granted"'),
    "granted",
  );
  desk.send({ type: "remote.connect", sessionId: session.id });
  await desk.next(ofType("remote.opened"), "remote.opened");
  await agent.next(ofType("peer.open"), "peer.open");
  const data = { kind: "description", type: "answer", sdp: SDP };
  return {
    async once() {
      const arrived = agent.next(ofType("signal"), "signal");
      const started = performance.now();
      desk.send({ type: "signal", sessionId: session.id, data });
      await arrived;
      return performance.now() - started;
    },
    close() {
      desk.socket.close();
      agent.socket.close();
    },
  };
}

/** Two PeerJS clients; `once` times an OFFER from the first until the second has it. */
export async function peerjsRelayPair(port: number): Promise<RelayPair> {
  const technician = await openPeerjsClient(port, "bench-technician");
  const agent = await openPeerjsClient(port, "bench-agent");
  const offer = {
    type: "OFFER",
    dst: "bench-agent",
    payload: { sdp: { type: "offer", sdp: SDP }, type: "media", connectionId: "mc_bench" },
  };
  return {
    async once() {
      const arrived = agent.next(ofType("OFFER"), "OFFER");
      const started = performance.now();
      technician.send(offer);
      await arrived;
      return performance.now() - started;
    },
    close() {
      technician.socket.close();
      agent.socket.close();
    },
  };
}
