import t, { type Test } from "tap";
import type { ConsoleMessage } from "../../shared/console-protocol.ts";
import {
  FILE_REPORT_BURST,
  FILE_REPORTS_PER_SECOND,
  MAX_FILE_BYTES,
  MAX_FILE_NAME_CHARS,
  MIB,
} from "../../shared/limits.ts";
import {
  type AgentSocket,
  type ConsoleSocket,
  field,
  joinAgent,
  openConsoleSocket,
  startTestGateway,
  TestClock,
} from "../helpers/gateway.ts";
import { parsePrometheusText, sampleValue } from "../helpers/prometheus.ts";

/**
 * A console's report of a finished file (`file.transferred`, audited as `session.file`) over the
 * real protocol: taken only from a technician whose open view of the session has control (as the
 * `files` channel itself requires), bounded by the schema and the view's file limit, and held to a
 * rate per technician and session; a refused report writes nothing. One gateway for the file, its
 * clock standing still unless moved (the rate is exact); each test makes its own session in a
 * channel whose file limit is 1 MiB, where Anna is the assignee, Bob and Vera invited.
 */

const METRICS_TOKEN = "file-report-metrics-token-0123456789";
const clock = new TestClock();
const gw = await startTestGateway({ options: { clock }, config: { metricsToken: METRICS_TOKEN } });
t.teardown(() => gw.close());
const anna = await gw.technician("Anna");
const bob = await gw.technician("Bob");
const vera = await gw.technician("Vera");
const channel = await gw.admin.post("/api/channels", {
  name: "Small files",
  fileSizeLimitMb: 1,
  access: [anna.id, bob.id, vera.id],
});
const channelId = field(channel.body, "channel", "id");
const LIMIT_BYTES = MIB;
const SHA = "0123456789abcdef".repeat(4);

type Technician = typeof anna;
type Report = Extract<ConsoleMessage, { type: "file.transferred" }>;

/** A session with Bob and Vera invited, its agent joined, and a console of each open. */
async function session(t: Test) {
  const created = await gw.newSession(anna.client, channelId);
  const { socket: agent } = await joinAgent(gw.url, { kind: "pin", pin: created.pin });
  t.teardown(() => agent.close());
  const invited = await anna.client.post(`/api/sessions/${created.id}/invite`, {
    technicianIds: [bob.id, vera.id],
  });
  t.equal(invited.status, 200);
  const consoles = new Map<Technician, ConsoleSocket>();
  for (const who of [anna, bob, vera]) {
    const socket = await openConsoleSocket(who.client);
    t.teardown(() => socket.close());
    await socket.next("sessions");
    consoles.set(who, socket);
  }
  const consoleOf = (who: Technician): ConsoleSocket => {
    const socket = consoles.get(who);
    if (socket === undefined) throw new Error("no console");
    return socket;
  };
  return { sessionId: created.id, agent, consoleOf };
}

/** The technician asks for `access`, the end user grants it, and the technician's view opens. */
async function view(
  t: Test,
  who: Technician,
  socket: ConsoleSocket,
  agent: AgentSocket,
  sessionId: string,
  access: "control" | "view",
): Promise<string> {
  t.equal((await who.client.post(`/api/sessions/${sessionId}/permission`, { access })).status, 200);
  const ask = await agent.next("consent.request", (m) => m.technician.id === who.id);
  agent.send({ type: "consent", requestId: ask.requestId, decision: access });
  await socket.next("session.updated", (m) =>
    m.session.permissions.some((p) => p.technicianId === who.id && p.state === "granted"),
  );
  socket.send({ type: "remote.connect", sessionId });
  const opened = await socket.next("remote.opened", (m) => m.sessionId === sessionId);
  await agent.next("peer.open", (m) => m.peerId === opened.peerId);
  return opened.peerId;
}

function report(sessionId: string, file: Partial<Report> = {}): Report {
  return {
    type: "file.transferred",
    sessionId,
    direction: "to_end_user",
    name: "setup.exe",
    size: 1000,
    sha256: SHA,
    ...file,
  };
}

/**
 * What the gateway answers to one message: its error code, or "taken" when it answers nothing.
 * A report that is taken is answered with nothing, so a path report on no view (answered with
 * an error of its own) follows it: a socket's messages are handled in order.
 */
async function answer(socket: ConsoleSocket, message: unknown): Promise<string> {
  socket.send(message);
  socket.send({ type: "remote.path", sessionId: "no-such-session", path: "direct" });
  const first = await socket.next("error");
  if (first.inReplyTo === "remote.path") return "taken";
  await socket.next("error", (m) => m.inReplyTo === "remote.path");
  return first.error.code;
}

type Entry = { actor: { id: string | null }; detail: Record<string, unknown> };

async function fileEntries(sessionId: string): Promise<Entry[]> {
  const response = await gw.admin.get(`/api/audit?action=session.file&sessionId=${sessionId}&limit=1000`);
  return (response.body as { entries: Entry[] }).entries;
}

/**
 * The session's `session.file` entries once `count` of them are stored: the gateway writes an
 * entry after it took the report (never failing the report for the store's trouble), so it may
 * come a moment after the next answer.
 */
async function entriesOnce(sessionId: string, count: number): Promise<Entry[]> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const entries = await fileEntries(sessionId);
    if (entries.length >= count || Date.now() > deadline) return entries;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function technicianReads(): Promise<number> {
  const response = await fetch(`${gw.url}/metrics`, {
    headers: { authorization: `Bearer ${METRICS_TOKEN}` },
  });
  const samples = await parsePrometheusText(await response.text());
  return sampleValue(samples, "sos_store_operation_seconds_count", { operation: "getTechnician" }) ?? 0;
}

t.test(
  "only a technician whose open view has control reports files, within the schema and the view's limit",
  async (t) => {
    const { sessionId, agent, consoleOf } = await session(t);
    const annaPeer = await view(t, anna, consoleOf(anna), agent, sessionId, "control");
    await view(t, vera, consoleOf(vera), agent, sessionId, "view");

    // Bob is on the session but has no view: nothing moved a file for him.
    t.equal(await answer(consoleOf(bob), report(sessionId)), "PEER_NOT_FOUND", "no view: PEER_NOT_FOUND");
    // Vera watches only: the agent refuses her every file (NO_CONTROL), so the gateway takes no
    // report of one; and however many she sends, she is told why, never to slow down.
    for (let i = 0; i < FILE_REPORT_BURST + 2; i += 1) consoleOf(vera).send(report(sessionId));
    const veraCodes = new Set<string>();
    for (let i = 0; i < FILE_REPORT_BURST + 2; i += 1)
      veraCodes.add((await consoleOf(vera).next("error")).error.code);
    t.same(
      [...veraCodes],
      ["PERMISSION_NOT_GRANTED"],
      "a view-only view: PERMISSION_NOT_GRANTED, every time",
    );

    // Anna has control: reports within the limits are taken, anything past them is BAD_REQUEST.
    const longest = `${"n".repeat(MAX_FILE_NAME_CHARS - 4)}.txt`;
    t.equal(await answer(consoleOf(anna), report(sessionId, { size: LIMIT_BYTES, name: longest })), "taken");
    t.equal(
      await answer(consoleOf(anna), report(sessionId, { direction: "from_end_user", size: 0 })),
      "taken",
    );
    const bad: Array<[string, Partial<Report>]> = [
      ["larger than the view's file limit", { size: LIMIT_BYTES + 1 }],
      ["larger than any gateway takes", { size: MAX_FILE_BYTES + 1 }],
      ["a fraction of a byte", { size: 1.5 }],
      ["a negative size", { size: -1 }],
      ["a name past MAX_FILE_NAME_CHARS", { name: `${longest}x` }],
      ["an empty name", { name: "  " }],
      ["a name with a control character", { name: "a\u001b[2Jb.txt" }],
      ["a name with a bidi override", { name: "invoice\u202etxt.exe" }],
      ["an upper-case SHA-256", { sha256: SHA.toUpperCase() }],
      ["a short SHA-256", { sha256: SHA.slice(1) }],
    ];
    for (const [what, file] of bad) {
      t.equal(await answer(consoleOf(anna), report(sessionId, file)), "BAD_REQUEST", what);
    }
    t.equal(
      await answer(consoleOf(anna), { ...report(sessionId), direction: "sideways" }),
      "BAD_REQUEST",
      "an unknown direction",
    );
    // A field the gateway does not know (a newer console's) is dropped at the door, never audited.
    t.equal(
      await answer(consoleOf(anna), { ...report(sessionId, { size: 7 }), extra: "x".repeat(1000) }),
      "taken",
      "an unknown field is dropped",
    );

    // The end user takes Anna's permission back: her view closes, and her reports with it.
    agent.send({ type: "revoke", technicianId: anna.id });
    await consoleOf(anna).next("remote.closed", (m) => m.sessionId === sessionId);
    t.equal(await answer(consoleOf(anna), report(sessionId)), "PEER_NOT_FOUND", "revoked: PEER_NOT_FOUND");

    const entries = await entriesOnce(sessionId, 3);
    // Audited as they are taken, each write on its own: in any order.
    t.same(
      entries
        .map((entry) => [entry.actor.id, entry.detail] as const)
        .sort((a, b) => Number(b[1].size) - Number(a[1].size)),
      [
        [
          anna.id,
          { peerId: annaPeer, direction: "to_end_user", name: longest, size: LIMIT_BYTES, sha256: SHA },
        ],
        [anna.id, { peerId: annaPeer, direction: "to_end_user", name: "setup.exe", size: 7, sha256: SHA }],
        [anna.id, { peerId: annaPeer, direction: "from_end_user", name: "setup.exe", size: 0, sha256: SHA }],
      ],
      "only the three reports taken are audited, with nothing but their fields",
    );
  },
);

t.test(
  "reports are held to a rate per technician and session: a burst, then RATE_LIMITED with retryAfter and nothing audited",
  async (t) => {
    const first = await session(t);
    const second = await session(t);
    await view(t, anna, first.consoleOf(anna), first.agent, first.sessionId, "control");
    await view(t, bob, first.consoleOf(bob), first.agent, first.sessionId, "control");
    await view(t, anna, second.consoleOf(anna), second.agent, second.sessionId, "control");
    const annaConsole = first.consoleOf(anna);
    const named = (prefix: string, n: number) =>
      Array.from({ length: n }, (_, i) => `${prefix} ${i + 1}.txt`);

    // Anna's console reports more than a burst at once: the first FILE_REPORT_BURST are taken.
    for (const name of named("burst", FILE_REPORT_BURST + 3)) {
      annaConsole.send(report(first.sessionId, { name }));
    }
    for (let i = 0; i < 3; i += 1) {
      const refused = await annaConsole.next("error", (m) => m.inReplyTo === "file.transferred");
      t.match(refused.error, { code: "RATE_LIMITED", retryAfter: 1 }, "the console is told to wait");
    }
    // Her bucket is hers on this session only: Bob on the same session, and Anna on another, report on.
    t.equal(await answer(first.consoleOf(bob), report(first.sessionId, { name: "bob.txt" })), "taken");
    t.equal(await answer(second.consoleOf(anna), report(second.sessionId, { name: "other.txt" })), "taken");

    // A second later she may report FILE_REPORTS_PER_SECOND more, and not one more.
    clock.advance(1000);
    for (const name of named("later", FILE_REPORTS_PER_SECOND + 1)) {
      annaConsole.send(report(first.sessionId, { name }));
    }
    const late = await annaConsole.next("error", (m) => m.inReplyTo === "file.transferred");
    t.match(late.error, { code: "RATE_LIMITED", retryAfter: 1 });

    // With her bucket empty, a flood is refused before any store read (not even her account).
    const before = await technicianReads();
    const flood = FILE_REPORT_BURST * 3;
    for (const name of named("flood", flood)) annaConsole.send(report(first.sessionId, { name }));
    const floodCodes = new Set<string>();
    for (let i = 0; i < flood; i += 1) {
      floodCodes.add((await annaConsole.next("error", (m) => m.inReplyTo === "file.transferred")).error.code);
    }
    t.same([...floodCodes], ["RATE_LIMITED"], "every one of the flood is RATE_LIMITED");
    t.equal(await technicianReads(), before, "reports refused by the rate cost no store read");

    const expected = [...named("burst", FILE_REPORT_BURST), ...named("later", FILE_REPORTS_PER_SECOND)];
    const entries = await entriesOnce(first.sessionId, expected.length + 1);
    t.same(
      entries
        .filter((entry) => entry.actor.id === anna.id)
        .map((entry) => String(entry.detail.name))
        .sort(),
      expected.sort(),
      "only the reports taken are audited",
    );
    t.same(
      entries
        .filter((entry) => entry.actor.id !== anna.id)
        .map((entry) => [entry.actor.id, entry.detail.name]),
      [[bob.id, "bob.txt"]],
    );
    t.equal((await entriesOnce(second.sessionId, 1)).length, 1, "Anna's report on the other session");
  },
);
