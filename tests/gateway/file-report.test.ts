import t, { type Test } from "tap";
import type { AgentMessage } from "../../shared/agent-protocol.ts";
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
 * The agent's report of a file it moved (`file.transferred` on the agent socket, audited as
 * `session.file` with the agent as the actor) over the real protocol: taken only for a technician
 * with an open view of the agent's session (every file goes over a view's channel), bounded by the
 * schema and the session's file limit, and held to a rate per technician and session; a refused
 * report writes nothing. A console's report of a file is not taken at all: the gateway cannot tell
 * one of a file that moved from one of a file that did not. One gateway for the file, its clock
 * standing still unless moved (the rate is exact); each test makes its own session in a channel
 * whose file limit is 1 MiB, where Anna is the assignee, Bob and Vera invited.
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
type Report = Extract<AgentMessage, { type: "file.transferred" }>;

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

function report(technicianId: string, file: Partial<Report> = {}): Report {
  return {
    type: "file.transferred",
    technicianId,
    direction: "to_end_user",
    name: "setup.exe",
    size: 1000,
    sha256: SHA,
    ...file,
  };
}

/**
 * What the gateway answers the agent to one message: its error code, or "taken" when it answers
 * nothing. A report that is taken is answered with nothing, so a confirmation of no recording
 * (answered with an error of its own) follows it: a socket's messages are handled in order.
 */
async function answer(agent: AgentSocket, message: unknown): Promise<string> {
  agent.send(message);
  agent.send({ type: "recording.confirm", recordingId: "no-such-recording" });
  const first = await agent.next("error");
  if (first.inReplyTo === "recording.confirm") return "taken";
  await agent.next("error", (m) => m.inReplyTo === "recording.confirm");
  return first.error.code;
}

/** The same for a console: "taken" when a path report on no session's view follows its answer. */
async function consoleAnswer(socket: ConsoleSocket, message: unknown): Promise<string> {
  socket.send(message);
  socket.send({ type: "remote.path", sessionId: "no-such-session", path: "direct" });
  const first = await socket.next("error");
  if (first.inReplyTo === "remote.path") return "taken";
  await socket.next("error", (m) => m.inReplyTo === "remote.path");
  return first.error.code;
}

type Entry = { actor: { kind: string; id: string | null }; detail: Record<string, unknown> };

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

async function sessionReads(): Promise<number> {
  const response = await fetch(`${gw.url}/metrics`, {
    headers: { authorization: `Bearer ${METRICS_TOKEN}` },
  });
  const samples = await parsePrometheusText(await response.text());
  return sampleValue(samples, "sos_store_operation_seconds_count", { operation: "getSession" }) ?? 0;
}

t.test(
  "the agent reports a file for a technician with an open view of its session, within the schema and the session's limit",
  async (t) => {
    const { sessionId, agent, consoleOf } = await session(t);
    const annaPeer = await view(t, anna, consoleOf(anna), agent, sessionId, "control");
    const veraPeer = await view(t, vera, consoleOf(vera), agent, sessionId, "view");

    // Bob is on the session but has no view: no channel moved a file for him.
    t.equal(await answer(agent, report(bob.id)), "PEER_NOT_FOUND", "no view: PEER_NOT_FOUND");
    t.equal(await answer(agent, report("no-such-technician")), "PEER_NOT_FOUND", "no such technician");
    // The end user's file to Vera, who watches only: the agent moved it, so it is taken.
    t.equal(await answer(agent, report(vera.id, { direction: "from_end_user", size: 5 })), "taken");

    // Reports within the limits are taken, anything past them is BAD_REQUEST.
    const longest = `${"n".repeat(MAX_FILE_NAME_CHARS - 4)}.txt`;
    t.equal(await answer(agent, report(anna.id, { size: LIMIT_BYTES, name: longest })), "taken");
    t.equal(await answer(agent, report(anna.id, { direction: "from_end_user", size: 0 })), "taken");
    const bad: Array<[string, Partial<Report>]> = [
      ["larger than the session's file limit", { size: LIMIT_BYTES + 1 }],
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
      t.equal(await answer(agent, report(anna.id, file)), "BAD_REQUEST", what);
    }
    t.equal(
      await answer(agent, { ...report(anna.id), direction: "sideways" }),
      "BAD_REQUEST",
      "an unknown direction",
    );
    // A field the gateway does not know (a newer agent's) is dropped at the door, never audited.
    t.equal(
      await answer(agent, { ...report(anna.id, { size: 7 }), extra: "x".repeat(1000) }),
      "taken",
      "an unknown field is dropped",
    );

    // A console with control cannot report a file (one that never moved, say): not a message.
    const claimed = {
      type: "file.transferred",
      sessionId,
      direction: "to_end_user",
      name: "x",
      size: 9,
      sha256: SHA,
    };
    t.equal(await consoleAnswer(consoleOf(anna), claimed), "BAD_REQUEST", "a console's report: BAD_REQUEST");

    // The end user takes Anna's permission back: her view closes, and reports of her files with it.
    agent.send({ type: "revoke", technicianId: anna.id });
    await consoleOf(anna).next("remote.closed", (m) => m.sessionId === sessionId);
    t.equal(await answer(agent, report(anna.id)), "PEER_NOT_FOUND", "revoked: PEER_NOT_FOUND");

    const entries = await entriesOnce(sessionId, 4);
    // Audited as they are taken, each write on its own: in any order.
    const detail = (technicianId: string, peerId: string, file: Partial<Report>) => ({
      technicianId,
      peerId,
      direction: "to_end_user",
      name: "setup.exe",
      sha256: SHA,
      ...file,
    });
    t.same(
      entries
        .map((entry) => [entry.actor.kind, entry.actor.id, entry.detail] as const)
        .sort((a, b) => Number(b[2].size) - Number(a[2].size)),
      [
        ["agent", null, detail(anna.id, annaPeer, { name: longest, size: LIMIT_BYTES })],
        ["agent", null, detail(anna.id, annaPeer, { size: 7 })],
        ["agent", null, detail(vera.id, veraPeer, { direction: "from_end_user", size: 5 })],
        ["agent", null, detail(anna.id, annaPeer, { direction: "from_end_user", size: 0 })],
      ],
      "only the four reports taken are audited, the agent as the actor, with nothing but their fields",
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
    const named = (prefix: string, n: number) =>
      Array.from({ length: n }, (_, i) => `${prefix} ${i + 1}.txt`);

    // The agent reports more of Anna's files than a burst at once: the first FILE_REPORT_BURST are taken.
    for (const name of named("burst", FILE_REPORT_BURST + 3)) {
      first.agent.send(report(anna.id, { name }));
    }
    for (let i = 0; i < 3; i += 1) {
      const refused = await first.agent.next("error", (m) => m.inReplyTo === "file.transferred");
      t.match(refused.error, { code: "RATE_LIMITED", retryAfter: 1 }, "the agent is told to wait");
    }
    // The bucket is Anna's on this session only: Bob's files on it, and Anna's on another, go on.
    t.equal(await answer(first.agent, report(bob.id, { name: "bob.txt" })), "taken");
    t.equal(await answer(second.agent, report(anna.id, { name: "other.txt" })), "taken");

    // A second later FILE_REPORTS_PER_SECOND more of hers are taken, and not one more.
    clock.advance(1000);
    for (const name of named("later", FILE_REPORTS_PER_SECOND + 1)) {
      first.agent.send(report(anna.id, { name }));
    }
    const late = await first.agent.next("error", (m) => m.inReplyTo === "file.transferred");
    t.match(late.error, { code: "RATE_LIMITED", retryAfter: 1 });

    // With her bucket empty, a flood is refused before any store read (not even the file limit's).
    const before = await sessionReads();
    const flood = FILE_REPORT_BURST * 3;
    for (const name of named("flood", flood)) first.agent.send(report(anna.id, { name }));
    const floodCodes = new Set<string>();
    for (let i = 0; i < flood; i += 1) {
      floodCodes.add((await first.agent.next("error", (m) => m.inReplyTo === "file.transferred")).error.code);
    }
    t.same([...floodCodes], ["RATE_LIMITED"], "every one of the flood is RATE_LIMITED");
    t.equal(await sessionReads(), before, "reports refused by the rate cost no store read");

    const expected = [...named("burst", FILE_REPORT_BURST), ...named("later", FILE_REPORTS_PER_SECOND)];
    const entries = await entriesOnce(first.sessionId, expected.length + 1);
    t.same(
      entries
        .filter((entry) => entry.detail.technicianId === anna.id)
        .map((entry) => String(entry.detail.name))
        .sort(),
      expected.sort(),
      "only the reports taken are audited",
    );
    t.same(
      entries
        .filter((entry) => entry.detail.technicianId !== anna.id)
        .map((entry) => [entry.detail.technicianId, entry.detail.name]),
      [[bob.id, "bob.txt"]],
    );
    t.equal((await entriesOnce(second.sessionId, 1)).length, 1, "Anna's file on the other session");
  },
);
