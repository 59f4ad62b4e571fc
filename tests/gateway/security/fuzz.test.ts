import { connect } from "node:net";
import t from "tap";
import { WebSocket } from "ws";
import { gatewayToAgentSchema } from "../../../shared/agent-protocol.ts";
import { gatewayToConsoleSchema } from "../../../shared/console-protocol.ts";
import { decodeMessage } from "../../../shared/decode.ts";
import { MAX_SOCKET_FRAME_BYTES, PROTOCOL_VERSION } from "../../../shared/limits.ts";
import { guardPath } from "../../../signaling/http/request-target.ts";
import {
  type ApiClient,
  joinAgent,
  openConsoleSocket,
  startTestGateway,
  TEST_DEVICE,
  wsUrl,
} from "../../helpers/gateway.ts";
import {
  CapturedLog,
  deadline,
  documentedError,
  httpText,
  type RawResponse,
  rawHttp,
  SDP_ANSWER,
} from "../../helpers/security.ts";

/**
 * An ongoing fuzz test of the gateway's doors: both sockets and the REST API, with inputs from a
 * seeded generator (random bytes, truncated, deeply nested and wrongly typed JSON, mutated valid
 * messages, wrong methods, absolute-form targets, odd and huge headers, broken chunked bodies over
 * raw TCP). Whatever comes in: the process keeps running, every refusal has the documented body,
 * nothing refused changes state, connections made before keep answering, and the log stays small.
 *
 * The seed is printed; SOS_FUZZ_SEED=<seed> replays a run.
 */

const SEED = Number(process.env.SOS_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 32));
const SOCKET_FRAMES = 400;
const HTTP_REQUESTS = 500;
/** The most the gateway may log besides its one-per-request access lines, whatever the fuzz sends. */
const LOG_BUDGET_BYTES = 32 * 1024;

/** mulberry32: a small seeded PRNG, good enough to pick inputs. */
function prng(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = state;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32;
  };
  const int = (below: number) => Math.floor(next() * below);
  const pick = <T>(items: readonly T[]): T => {
    const item = items[int(items.length)];
    if (item === undefined) throw new Error("pick from an empty list");
    return item;
  };
  return { next, int, pick, chance: (p: number) => next() < p };
}
type Random = ReturnType<typeof prng>;

const ODD_STRINGS = [
  "",
  " ",
  "null",
  "__proto__",
  "constructor",
  "../../etc/passwd",
  "%00",
  "\u0000",
  "\u202e<script>",
  "😀",
  "\ud800",
  "A".repeat(300),
  "000000000",
  "-1",
  "1e999",
];
const KEYS = [
  "type",
  "v",
  "join",
  "kind",
  "pin",
  "token",
  "sessionId",
  "peerId",
  "data",
  "sdp",
  "name",
  "channelId",
];

function randomString(r: Random): string {
  if (r.chance(0.5)) return r.pick(ODD_STRINGS);
  let text = "";
  const length = r.int(40);
  for (let i = 0; i < length; i += 1)
    text += String.fromCharCode(r.chance(0.9) ? 32 + r.int(95) : r.int(0x3000));
  return text;
}

function randomValue(r: Random, depth = 0): unknown {
  const kind = r.int(depth > 3 ? 4 : 6);
  if (kind === 0) return null;
  if (kind === 1) return r.chance(0.5);
  if (kind === 2) return r.pick([0, -1, 1.5, 2 ** 53, -(2 ** 63), 1e308, PROTOCOL_VERSION]);
  if (kind === 3) return randomString(r);
  if (kind === 4) return Array.from({ length: r.int(4) }, () => randomValue(r, depth + 1));
  const object: Record<string, unknown> = {};
  for (let i = r.int(4); i > 0; i -= 1) object[r.pick(KEYS)] = randomValue(r, depth + 1);
  return object;
}

/** A valid-looking id that names nothing on this gateway. */
function strangerId(r: Random): string {
  return `fuzz-${Math.floor(r.next() * 1e12).toString(36)}`;
}

/** Messages of the shared schemas, with credentials and ids that match nothing (so none can act). */
function agentTemplates(r: Random): object[] {
  return [
    {
      type: "hello",
      v: PROTOCOL_VERSION,
      join: { kind: "pin", pin: String(r.int(1e9)).padStart(9, "0") },
      device: TEST_DEVICE,
    },
    {
      type: "hello",
      v: PROTOCOL_VERSION,
      join: { kind: "link", token: `${strangerId(r)}${"x".repeat(20)}` },
      device: TEST_DEVICE,
    },
    {
      type: "hello",
      v: 99,
      join: { kind: "resume", sessionId: strangerId(r), secret: "s".repeat(32) },
      device: TEST_DEVICE,
    },
    { type: "consent", requestId: strangerId(r), decision: "control" },
    { type: "revoke", technicianId: strangerId(r) },
    { type: "signal", peerId: strangerId(r), data: SDP_ANSWER },
    { type: "peer.closed", peerId: strangerId(r) },
    { type: "end" },
  ];
}

function consoleTemplates(r: Random): object[] {
  return [
    { type: "remote.connect", sessionId: strangerId(r) },
    { type: "remote.disconnect", sessionId: strangerId(r) },
    { type: "signal", sessionId: strangerId(r), data: SDP_ANSWER },
    { type: "signal", sessionId: strangerId(r), data: { kind: "candidate", candidate: { candidate: "x" } } },
  ];
}

/** Changes one thing in a message: a field dropped, retyped, renamed, or one added. */
function mutate(r: Random, message: object): unknown {
  const copy: Record<string, unknown> = structuredClone({ ...message });
  const keys = Object.keys(copy);
  const key = r.pick(keys.length > 0 ? keys : ["type"]);
  const how = r.int(5);
  if (how === 0) delete copy[key];
  else if (how === 1) copy[key] = randomValue(r);
  else if (how === 2) copy[r.pick(KEYS)] = randomValue(r);
  else if (how === 3) copy.type = randomString(r);
  else return r.chance(0.5) ? [copy] : JSON.stringify(copy);
  return copy;
}

function nested(r: Random): string {
  const depth = 10 + r.int(300);
  const open = r.chance(0.5) ? "[" : '{"a":';
  const close = open === "[" ? "]" : "}";
  return `{"type":"signal","data":${open.repeat(depth)}1${close.repeat(r.chance(0.2) ? depth - 1 : depth)}}`;
}

/** One fuzz frame for a socket: text or, sometimes, binary. */
function socketFrame(r: Random, templates: readonly object[]): string | Buffer {
  const template = r.pick(templates);
  switch (r.int(8)) {
    case 0:
      return Buffer.from(Array.from({ length: r.int(64) }, () => r.int(256)));
    case 1:
      return randomString(r);
    case 2: {
      const text = JSON.stringify(template);
      return text.slice(0, r.int(text.length));
    }
    case 3:
      return nested(r);
    case 4:
      return JSON.stringify(randomValue(r));
    case 5:
      return '{"type":"end","__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}}';
    case 6:
      return r.chance(0.05)
        ? JSON.stringify(template) + " ".repeat(MAX_SOCKET_FRAME_BYTES)
        : JSON.stringify(mutate(r, template));
    default:
      return JSON.stringify(mutate(r, template));
  }
}

/** Every message a fuzzed socket received, and whether each decoded with the gateway's schema. */
type SocketReport = { received: number; undecodable: string[]; reconnects: number };

/**
 * Sends `count` fuzz frames over a socket to `path`, reopening it whenever the gateway closes it;
 * after each batch a probe (answered with an error) shows the gateway has read the batch.
 */
async function fuzzSocket(
  url: string,
  headers: Record<string, string>,
  count: number,
  frame: () => string | Buffer,
  probe: string,
  decode: (text: string) => boolean,
): Promise<SocketReport> {
  const report: SocketReport = { received: 0, undecodable: [], reconnects: 0 };
  let sent = 0;
  while (sent < count) {
    const socket = new WebSocket(url, { headers });
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    socket.on("error", () => {});
    let answered: () => void = () => {};
    socket.on("message", (data, isBinary) => {
      report.received += 1;
      const text = data.toString();
      if (isBinary || !decode(text)) report.undecodable.push(text.slice(0, 200));
      answered();
    });
    await deadline(new Promise((resolve) => socket.once("open", resolve)), "the fuzz socket's open");
    report.reconnects += 1;
    while (sent < count && socket.readyState === WebSocket.OPEN) {
      for (let i = 0; i < 10 && sent < count; i += 1, sent += 1) socket.send(frame());
      const quiet = new Promise<void>((resolve) => {
        answered = resolve;
      });
      socket.send(probe);
      // Any answer after the probe was sent (or the close) means the batch was read.
      await deadline(Promise.race([quiet, closed]), "an answer to the probe");
    }
    socket.terminate();
    await closed;
  }
  return report;
}

const METHODS = [
  "GET",
  "POST",
  "PUT",
  "PATCH",
  "DELETE",
  "OPTIONS",
  "HEAD",
  "TRACE",
  "PROPFIND",
  "get",
  "G3T",
];
const PATHS = [
  "/api/setup",
  "/api/auth/sign-out",
  "/api/me",
  "/api/organization",
  "/api/technicians",
  "/api/technicians/:id",
  "/api/channels",
  "/api/channels/:id",
  "/api/builds",
  "/api/builds/job",
  "/api/audit",
  "/api/sessions",
  "/api/sessions/:id",
  "/api/sessions/:id/invitation",
  "/api/sessions/:id/permission",
  "/api/sessions/:id/assign",
  "/api/sessions/:id/transfer",
  "/api/sessions/:id/invite",
  "/api/sessions/:id/release",
  "/api/sessions/:id/close",
  "/s/:id",
  "/s/:id/download/:id",
  "/ws/agent",
  "/ws/console",
  "/healthz",
  "/api/openapi.json",
  "/nothing",
];
const BODY_TEMPLATES = [
  { channelId: "home", name: "Customer" },
  { technicianId: "x" },
  { name: "Helpdesk", access: ["x"] },
  { token: "A".repeat(43), name: "Intruder" },
];

function target(r: Random, host: string): string {
  let path = r
    .pick(PATHS)
    .replaceAll(":id", () =>
      r.chance(0.7) ? strangerId(r) : encodeURIComponent(randomString(r).toWellFormed()),
    );
  if (r.chance(0.2)) path = path.toUpperCase();
  if (r.chance(0.2)) path = path.replaceAll("/", r.pick(["//", "/./", "%2F", "\\"]));
  if (r.chance(0.2)) path += r.pick(["/", "?x=1", "/..", ";x", "%", "%zz", "#f"]);
  const form = r.int(6);
  if (form === 0) return `http://${host}${path}`;
  if (form === 1)
    return `${r.pick(["HTTPS", "http", "ftp"])}://${r.pick([host, "", "x:99999", "user@x"])}${path}`;
  return path;
}

function randomBody(r: Random): string {
  const how = r.int(5);
  if (how === 0) return JSON.stringify(mutate(r, r.pick(BODY_TEMPLATES)));
  if (how === 1) return nested(r);
  if (how === 2) return JSON.stringify(randomValue(r));
  if (how === 3) return JSON.stringify(r.pick(BODY_TEMPLATES)).slice(0, r.int(30));
  return Buffer.from(Array.from({ length: r.int(100) }, () => r.int(256))).toString("latin1");
}

/** One raw HTTP request: a wrong method, an odd target, odd headers or body framing. */
function httpRequest(r: Random, host: string, cookie: string): string | Buffer {
  const method = r.pick(METHODS);
  const headers: Record<string, string> = {
    host: r.chance(0.9) ? host : randomString(r).replace(/[\r\n]/g, ""),
  };
  if (r.chance(0.5)) headers.cookie = cookie;
  if (r.chance(0.2)) headers.origin = r.pick([`http://${host}`, "http://evil.test", "null"]);
  if (r.chance(0.1)) headers["x-csrf-token"] = randomString(r).replace(/[\r\n]/g, "");
  const kind = r.int(12);
  if (kind === 0) return Buffer.from(Array.from({ length: 1 + r.int(300) }, () => r.int(256)));
  if (kind === 1) headers["x-huge"] = "h".repeat(16 * 1024 + r.int(8 * 1024));
  if (kind === 2)
    headers[r.pick(["content-length", "transfer-encoding", "host", "x odd", "x\u0000"])] = randomString(
      r,
    ).replace(/[\r\n]/g, "");
  if (kind === 3) {
    headers["transfer-encoding"] = "chunked";
    headers["content-type"] = "application/json";
    const chunk = r.pick([
      "zz\r\nabc\r\n0\r\n\r\n",
      "5\r\nab\r\n0\r\n\r\n",
      "ffffffffffff\r\n",
      "3\r\nabc",
      "-1\r\n\r\n",
      "3;x=\u0001\r\nabc\r\n0\r\n\r\n",
    ]);
    return httpText(method === "GET" ? "POST" : method, target(r, host), { headers, body: chunk });
  }
  if (kind === 4) {
    Object.assign(headers, {
      connection: "Upgrade",
      upgrade: r.pick(["websocket", "h2c", "WebSocket", ""]),
      "sec-websocket-version": r.pick(["13", "8", "99", ""]),
      "sec-websocket-key": r.pick(["bad", "", "dGhlIHNhbXBsZSBub25jZQ==="]),
    });
    if (r.chance(0.3)) headers["sec-websocket-protocol"] = "a,,b";
  }
  if (kind === 5)
    return `${method} ${target(r, host)} HTTP/${r.pick(["1.0", "2.0", "9.9", "1"])}\r\nHost: ${host}\r\n\r\n`;
  if (kind === 6)
    return `${method} ${target(r, host)} HTTP/1.1\r\nHost: ${host}\r\nX-Folded: a\r\n  b\r\n\r\n`;
  if (kind === 7) return `${method}  ${target(r, host)}\u0000 HTTP/1.1\r\n\r\n`;
  if (kind === 8) headers["content-length"] = String(300 * 1024);
  const withBody = r.chance(0.6) && method !== "GET" && method !== "HEAD";
  const body = kind === 8 ? "x".repeat(300 * 1024) : withBody ? randomBody(r) : undefined;
  return httpText(method, target(r, host), { headers, ...(body === undefined ? {} : { body }) });
}

/**
 * An HTTP answer breaks the contract when it is a server fault or a refusal without the documented
 * body. The end user's landing page (`/s/<token>`) is for people: its 404 is an HTML page by design.
 */
function contractBroken(answer: RawResponse, request: string | Buffer): string | undefined {
  if (answer.status >= 500) return `status ${answer.status}`;
  const requestLine = String(request).split("\r\n", 1)[0] ?? "";
  const target = requestLine.split(" ")[1] ?? "";
  const landingPage =
    guardPath(target).startsWith("/s/") && String(answer.headers["content-type"]).startsWith("text/html");
  const bodiless = answer.body === "" || requestLine.startsWith("HEAD ") || landingPage;
  if (answer.status >= 400 && !bodiless && documentedError(answer) === undefined) {
    return `refusal without the documented body: ${answer.status} ${answer.body.slice(0, 120)}`;
  }
  return undefined;
}

async function snapshot(admin: ApiClient) {
  const [sessions, audit, technicians, channels] = await Promise.all(
    ["/api/sessions", "/api/audit", "/api/technicians", "/api/channels"].map((path) => admin.get(path)),
  );
  return {
    sessions: sessions?.body,
    audit: audit?.body,
    technicians: technicians?.body,
    channels: channels?.body,
  };
}

t.test(
  "fuzzed sockets and REST requests are refused with documented errors and change nothing",
  async (t) => {
    t.comment(`fuzz seed ${SEED} (rerun with SOS_FUZZ_SEED=${SEED})`);
    const started = Date.now();
    const r = prng(SEED);
    const log = new CapturedLog("info");
    const gw = await startTestGateway({ options: { log: log.logger }, config: { apiRateLimit: 100_000 } });
    t.teardown(async () => {
      try {
        await gw.close();
      } catch (error) {
        console.error("teardown", error);
        throw error;
      }
    });
    const host = new URL(gw.url).host;

    // Bystanders, connected before the fuzz.
    const tech = await gw.technician("Fuzz Bystander");
    const session = await gw.newSession(tech.client);
    const { socket: agent } = await joinAgent(gw.url, { kind: "link", token: session.token });
    t.teardown(() => agent.close());
    const bystanderConsole = await openConsoleSocket(tech.client);
    t.teardown(() => bystanderConsole.close());
    await bystanderConsole.next("sessions");
    const fuzzer = await gw.technician("Fuzz Technician");
    const before = await snapshot(gw.admin);
    const logFrom = log.lines.length;

    const agentReport = await fuzzSocket(
      wsUrl(gw.url, "/ws/agent"),
      {},
      SOCKET_FRAMES,
      () => socketFrame(r, agentTemplates(r)),
      JSON.stringify({ type: "revoke" }),
      (text) => decodeMessage(gatewayToAgentSchema, text).ok,
    );
    const consoleReport = await fuzzSocket(
      wsUrl(gw.url, "/ws/console"),
      { cookie: fuzzer.client.cookie ?? "", origin: gw.url },
      SOCKET_FRAMES,
      () => socketFrame(r, consoleTemplates(r)),
      JSON.stringify({ type: "remote.disconnect", sessionId: "fuzz-probe" }),
      (text) => decodeMessage(gatewayToConsoleSchema, text).ok,
    );
    for (const [name, report] of [
      ["agent", agentReport],
      ["console", consoleReport],
    ] as const) {
      t.same(report.undecodable, [], `every message on the fuzzed ${name} socket is a protocol message`);
      t.ok(
        report.received > 0,
        `the ${name} socket answered (${report.received} messages, ${report.reconnects} connections)`,
      );
    }

    // Some clients end their side right after the request: a request cut short, or an answer cut off.
    const requests = Array.from({ length: HTTP_REQUESTS }, () => ({
      text: httpRequest(r, host, fuzzer.client.cookie ?? ""),
      halfClose: r.chance(0.3),
    }));
    const broken: string[] = [];
    let answered = 0;
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < requests.length) {
          const { text: request, halfClose } = requests[next] ?? { text: "", halfClose: false };
          next += 1;
          // A request the gateway waits on (a body shorter than its Content-Length) is given up
          // after a while, as a client would: the gateway must then answer or close.
          const answer = await rawHttp(gw.url, request, 10_000, { halfClose, endAfterMs: 1_000 });
          if (answer.status !== 0) answered += 1;
          const problem = contractBroken(answer, request);
          if (problem !== undefined)
            broken.push(`${problem} <- ${JSON.stringify(String(request).slice(0, 100))}`);
        }
      }),
    );
    t.same(broken, [], `every one of ${answered} HTTP answers keeps the contract (seed ${SEED})`);

    // Invalid WebSocket frames at the byte level, after a valid upgrade.
    const port = Number(new URL(gw.url).port);
    for (let i = 0; i < 20; i += 1) {
      const socket = connect(port, "127.0.0.1");
      const closed = new Promise<void>((resolve) => {
        socket.on("close", () => resolve());
        socket.on("error", () => resolve());
        socket.resume();
      });
      const upgrade = httpText("GET", "/ws/agent", {
        headers: {
          connection: "Upgrade",
          upgrade: "websocket",
          "sec-websocket-version": "13",
          "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
        },
      });
      const frame = Buffer.from([
        r.int(256),
        r.int(256),
        ...Array.from({ length: r.int(16) }, () => r.int(256)),
      ]);
      socket.write(Buffer.concat([Buffer.from(upgrade), frame]));
      socket.end();
      await deadline(closed, "the close after a random frame", 15_000);
    }

    // Afterwards: alive, bystanders answer, nothing changed, the log stayed small.
    t.equal((await gw.anonymous().get("/healthz")).status, 200, "the gateway is up");
    agent.send({ type: "signal", peerId: "00000000-0000-4000-8000-000000000000", data: SDP_ANSWER });
    t.equal((await agent.next("error")).error.code, "PEER_NOT_FOUND", "the bystander agent still answers");
    bystanderConsole.send({ type: "remote.disconnect", sessionId: session.id });
    t.equal(
      (await bystanderConsole.next("error")).error.code,
      "PEER_NOT_FOUND",
      "the bystander console still answers",
    );
    t.same(await snapshot(gw.admin), before, "sessions, audit log, technicians and channels are unchanged");

    const written = log.lines.slice(logFrom);
    t.same(
      written.filter((line) => line.level >= 40).map((line) => `${line.msg} ${line.text.slice(0, 300)}`),
      [],
      "nothing at warn or error level",
    );
    t.notOk(
      written.some((line) => line.text.includes('"stack"')),
      "no stack traces",
    );
    const besides = log.besidesAccess(logFrom).reduce((sum, line) => sum + line.text.length + 1, 0);
    t.ok(
      besides <= LOG_BUDGET_BYTES,
      `${besides} bytes logged besides access lines, at most ${LOG_BUDGET_BYTES}`,
    );
    const inputs = 2 * SOCKET_FRAMES + HTTP_REQUESTS + 20;
    t.comment(`${inputs} fuzz inputs, ${log.bytes} bytes of log in all, ${Date.now() - started} ms`);
  },
);
