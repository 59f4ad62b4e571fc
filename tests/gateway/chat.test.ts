import t, { type Test } from "tap";
import type { GatewayToAgent } from "../../shared/agent-protocol.ts";
import {
  CHAT_BURST_LINES,
  CHAT_LINES_PER_SECOND,
  MAX_CHAT_LINE_CHARS,
  MAX_CHAT_LINES_PER_SESSION,
} from "../../shared/limits.ts";
import type { ChatLine } from "../../shared/model.ts";
import type { SystemInfo } from "../../shared/system-info.ts";
import {
  type AgentSocket,
  type ApiClient,
  type ConsoleSocket,
  errorCode,
  field,
  joinAgent,
  openConsoleSocket,
  startTestGateway,
  TestClock,
} from "../helpers/gateway.ts";
import { parsePrometheusText, sampleValue } from "../helpers/prometheus.ts";

/**
 * Chat between the end user's agent and the technicians on the session, and the end user's
 * system information, over the real protocol: one gateway for the file; each test makes its own
 * session in a team channel where Alice is the assignee, Bob (in the chat tests) invited, Dave has
 * channel access only and Carol none.
 */

const gw = await startTestGateway();
t.teardown(() => gw.close());
const alice = await gw.technician("Alice");
const bob = await gw.technician("Bob");
const dave = await gw.technician("Dave");
const carol = await gw.technician("Carol");
const team = await gw.admin.post("/api/channels", { name: "Helpdesk", access: [alice.id, bob.id, dave.id] });
const channelId = field(team.body, "channel", "id");

type Technicians = Extract<GatewayToAgent, { type: "technicians" }>["technicians"];

/** A session with Bob invited, its agent joined, and Alice's and Bob's consoles open. */
async function chatting(t: Test) {
  const session = await gw.newSession(alice.client, channelId);
  const consoles: ConsoleSocket[] = [];
  for (const who of [alice, bob]) {
    const socket = await openConsoleSocket(who.client);
    t.teardown(() => socket.close());
    await socket.next("sessions");
    consoles.push(socket);
  }
  const [aliceConsole, bobConsole] = consoles as [ConsoleSocket, ConsoleSocket];
  const { socket: agent } = await joinAgent(gw.url, { kind: "pin", pin: session.pin });
  t.teardown(() => agent.close());
  t.equal(
    (await alice.client.post(`/api/sessions/${session.id}/invite`, { technicianIds: [bob.id] })).status,
    200,
  );
  await technicians(agent, (list) => list.length === 2);
  // Bob's joined line is written after Alice's (one session, one queue): then both are stored.
  await chatLine(aliceConsole, session.id, (l) => l.kind === "joined" && l.technician?.id === bob.id);
  return { session, aliceConsole, bobConsole, agent };
}

/** The next `technicians` list at the agent that matches. */
async function technicians(agent: AgentSocket, match: (list: Technicians) => boolean): Promise<Technicians> {
  return (await agent.next("technicians", (m) => match(m.technicians))).technicians;
}

function chatLine(socket: ConsoleSocket, sessionId: string, match: (line: ChatLine) => boolean) {
  return socket.next("chat.line", (m) => m.line.sessionId === sessionId && match(m.line));
}

async function history(client: ApiClient, sessionId: string): Promise<ChatLine[]> {
  const response = await client.get(`/api/sessions/${sessionId}/chat`);
  if (response.status !== 200)
    throw new Error(`chat history: ${response.status} ${errorCode(response.body)}`);
  return (response.body as { lines: ChatLine[] }).lines;
}

const METRICS_TOKEN = "chat-metrics-token-0123456789";
/** The store reads a chat line's handling makes (account, session, invites, lines), as /metrics counts them. */
const CHAT_READS = [
  "getTechnician",
  "getSession",
  "lockSession",
  "getInvites",
  "getChannel",
  "countChatLines",
];

async function chatReads(url: string): Promise<Record<string, number>> {
  const response = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  const samples = await parsePrometheusText(await response.text());
  return Object.fromEntries(
    CHAT_READS.map((operation) => [
      operation,
      sampleValue(samples, "sos_store_operation_seconds_count", { operation }) ?? 0,
    ]),
  );
}

const said = (lines: readonly ChatLine[]) =>
  lines
    .filter((l) => l.kind === "technician" || l.kind === "enduser")
    .map((l) => [l.kind, l.technician?.name ?? null, l.text]);

t.test("lines go both ways with names and times, to every technician on the session", async (t) => {
  const { session, aliceConsole, bobConsole, agent } = await chatting(t);
  const before = Date.now();
  aliceConsole.send({ type: "chat.send", sessionId: session.id, text: "Hello, I am Alice <b>from IT</b>" });
  const atAgent = await agent.next("chat");
  t.same(atAgent.from, { id: alice.id, name: "Alice" }, "the agent is told who wrote");
  t.equal(atAgent.text, "Hello, I am Alice <b>from IT</b>", "the text as typed");
  t.ok(Date.parse(atAgent.at) >= before - 1000 && Date.parse(atAgent.at) <= Date.now() + 1000, "and when");
  for (const socket of [aliceConsole, bobConsole]) {
    const { line } = await chatLine(socket, session.id, (l) => l.kind === "technician");
    t.same(
      [line.technician, line.text],
      [{ id: alice.id, name: "Alice" }, "Hello, I am Alice <b>from IT</b>"],
    );
  }

  agent.send({ type: "chat", text: "Hi! The printer says <img src=x onerror=alert(1)>" });
  for (const socket of [aliceConsole, bobConsole]) {
    const { line } = await chatLine(socket, session.id, (l) => l.kind === "enduser");
    t.equal(line.technician, null, "the end user's line has no technician");
    t.equal(line.text, "Hi! The printer says <img src=x onerror=alert(1)>");
  }

  bobConsole.send({ type: "chat.send", sessionId: session.id, text: "Bob here too" });
  t.same((await agent.next("chat")).from, { id: bob.id, name: "Bob" });
  t.equal(
    (await chatLine(aliceConsole, session.id, (l) => l.kind === "technician")).line.text,
    "Bob here too",
  );
  t.equal(
    agent.received.filter((m) => m.type === "chat").length,
    0,
    "the agent is not sent the end user's own line",
  );

  // A reload: a new console socket gets nothing old pushed; the history comes from the API.
  aliceConsole.close();
  const again = await openConsoleSocket(alice.client);
  t.teardown(() => again.close());
  const lines = await history(alice.client, session.id);
  t.same(
    said(lines),
    [
      ["technician", "Alice", "Hello, I am Alice <b>from IT</b>"],
      ["enduser", null, "Hi! The printer says <img src=x onerror=alert(1)>"],
      ["technician", "Bob", "Bob here too"],
    ],
    "stored in order",
  );
  t.same(
    lines.filter((l) => l.kind === "joined").map((l) => l.technician?.name),
    ["Alice", "Bob"],
    "who joined the chat is part of it",
  );
  t.same(
    said(await history(dave.client, session.id)),
    said(lines),
    "a technician with channel access reads it too",
  );
  t.ok(
    lines.every((l, i) => i === 0 || l.id > (lines[i - 1]?.id ?? 0)),
    "ids grow",
  );
});

t.test("chat lines are audited: who and when, never the text", async (t) => {
  const { session, aliceConsole, agent } = await chatting(t);
  aliceConsole.send({ type: "chat.send", sessionId: session.id, text: "secret-words-from-alice" });
  await agent.next("chat");
  agent.send({ type: "chat", text: "secret-words-from-the-end-user" });
  await chatLine(aliceConsole, session.id, (l) => l.kind === "enduser");
  const audit = await gw.admin.get(`/api/audit?sessionId=${session.id}&action=session.chat_line`);
  const entries = (
    audit.body as { entries: Array<{ actor: { kind: string; id: string | null }; at: string }> }
  ).entries;
  t.same(
    entries.map((e) => e.actor.kind).sort(),
    ["agent", "technician"],
    "one entry per line, by who said it",
  );
  t.equal(entries.find((e) => e.actor.kind === "technician")?.actor.id, alice.id);
  t.notMatch(JSON.stringify(audit.body), /secret-words/, "the text is not in the audit log");
  const csv = await gw.admin.get(`/api/audit.csv?sessionId=${session.id}`);
  t.notMatch(String(csv.body), /secret-words/, "nor in its CSV");
});

t.test(
  "oversize, empty or control-character lines are refused with BAD_REQUEST and not stored",
  async (t) => {
    const { session, aliceConsole, agent } = await chatting(t);
    const stored = (await history(alice.client, session.id)).length;
    for (const text of [
      "x".repeat(MAX_CHAT_LINE_CHARS + 1),
      "   ",
      "two\nlines",
      "\u001b[2Jcleared",
      "bidi\u202e",
    ]) {
      aliceConsole.send({ type: "chat.send", sessionId: session.id, text });
      const error = await aliceConsole.next("error");
      t.equal(error.error.code, "BAD_REQUEST", `console: ${JSON.stringify(text.slice(0, 12))}`);
      agent.send({ type: "chat", text });
      const agentError = await agent.next("error");
      t.equal(agentError.error.code, "BAD_REQUEST", `agent: ${JSON.stringify(text.slice(0, 12))}`);
    }
    aliceConsole.send({ type: "chat.send", sessionId: session.id, text: "x".repeat(MAX_CHAT_LINE_CHARS) });
    t.equal(
      (await agent.next("chat")).text.length,
      MAX_CHAT_LINE_CHARS,
      "the longest line allowed goes through",
    );
    t.equal((await history(alice.client, session.id)).length, stored + 1, "only that one was stored");
  },
);

t.test(
  "a flood of lines from either side: a burst is taken, then CHAT_TOO_FAST with retryAfter to the sender, and lines are taken again as time passes",
  async (t) => {
    // A gateway of its own whose clock stands still unless moved: the rate is exact.
    const clock = new TestClock();
    const own = await startTestGateway({ options: { clock }, config: { metricsToken: METRICS_TOKEN } });
    t.teardown(() => own.close());
    const anna = await own.technician("Anna");
    const session = await own.newSession(anna.client);
    const annaConsole = await openConsoleSocket(anna.client);
    t.teardown(() => annaConsole.close());
    await annaConsole.next("sessions");
    const { socket: agent } = await joinAgent(own.url, { kind: "pin", pin: session.pin });
    t.teardown(() => agent.close());
    await annaConsole.next(
      "session.updated",
      (m) => m.session.id === session.id && m.session.agent.connected,
    );

    const lines = (who: string, n: number) => Array.from({ length: n }, (_, i) => `${who} line ${i + 1}`);
    // The technician pastes more than a burst: the first CHAT_BURST_LINES reach the end user.
    for (const text of lines("tech", CHAT_BURST_LINES + 3)) {
      annaConsole.send({ type: "chat.send", sessionId: session.id, text });
    }
    for (let i = 0; i < 3; i += 1) {
      const refused = await annaConsole.next("error", (m) => m.inReplyTo === "chat.send");
      t.match(refused.error, { code: "CHAT_TOO_FAST", retryAfter: 1 }, "the sender is told to wait");
    }
    const toAgent = await Promise.all(
      lines("tech", CHAT_BURST_LINES).map((text) => agent.next("chat", (m) => m.text === text)),
    );
    t.equal(toAgent.length, CHAT_BURST_LINES, "the end user got the burst");

    // The end user pastes too: their own bucket, refused at the agent, not printed in the console.
    for (const text of lines("user", CHAT_BURST_LINES + 2)) agent.send({ type: "chat", text });
    for (let i = 0; i < 2; i += 1) {
      const refused = await agent.next("error", (m) => m.inReplyTo === "chat");
      t.match(refused.error, { code: "CHAT_TOO_FAST", retryAfter: 1 });
    }
    await chatLine(annaConsole, session.id, (l) => l.text === `user line ${CHAT_BURST_LINES}`);

    // A second later the technician may say CHAT_LINES_PER_SECOND more lines, and not one more.
    clock.advance(1000);
    for (const text of lines("later", CHAT_LINES_PER_SECOND + 1)) {
      annaConsole.send({ type: "chat.send", sessionId: session.id, text });
    }
    t.equal(
      (await annaConsole.next("error", (m) => m.inReplyTo === "chat.send")).error.code,
      "CHAT_TOO_FAST",
    );
    await agent.next("chat", (m) => m.text === `later line ${CHAT_LINES_PER_SECOND}`);
    // The console's copy comes after its fan-out's reads: from here on nothing is in flight.
    await chatLine(annaConsole, session.id, (l) => l.text === `later line ${CHAT_LINES_PER_SECOND}`);

    // With the bucket empty, a flood of further lines is refused before any store read: the
    // account, the session and the chat are not looked at (the store operations the gateway
    // counts in /metrics do not move).
    const before = await chatReads(own.url);
    const flood = CHAT_BURST_LINES * 3;
    for (const text of lines("flood", flood)) {
      annaConsole.send({ type: "chat.send", sessionId: session.id, text });
    }
    for (let i = 0; i < flood; i += 1) {
      const refused = await annaConsole.next("error", (m) => m.inReplyTo === "chat.send");
      t.equal(refused.error.code, "CHAT_TOO_FAST");
    }
    t.same(await chatReads(own.url), before, "lines refused by the rate cost no store read");

    const stored = said(await history(anna.client, session.id)).map((line) => line[2]);
    t.same(
      stored,
      [
        ...lines("tech", CHAT_BURST_LINES),
        ...lines("user", CHAT_BURST_LINES),
        ...lines("later", CHAT_LINES_PER_SECOND),
      ],
      "only the lines taken were stored, none refused",
    );
  },
);

t.test("a full chat refuses more lines with CHAT_FULL and stores nothing", async (t) => {
  const { session, aliceConsole, agent } = await chatting(t);
  const stored = (await history(alice.client, session.id)).length;
  const missing = MAX_CHAT_LINES_PER_SESSION - stored;
  const values = Array.from({ length: missing }, () => "(?, ?, 'enduser', NULL, NULL, 'filler')").join(", ");
  const params = Array.from({ length: missing }, () => [session.id, Date.now()]).flat();
  await gw.query(
    `INSERT INTO chat_lines (session_id, at, kind, technician_id, technician_name, text) VALUES ${values}`,
    ...params,
  );
  aliceConsole.send({ type: "chat.send", sessionId: session.id, text: "one too many" });
  t.equal((await aliceConsole.next("error")).error.code, "CHAT_FULL");
  agent.send({ type: "chat", text: "one too many" });
  const full = await agent.next("error");
  t.same([full.error.code, full.inReplyTo], ["CHAT_FULL", "chat"], "the agent knows which line was refused");
  t.equal(
    (await history(alice.client, session.id)).length,
    MAX_CHAT_LINES_PER_SESSION,
    "nothing more was stored",
  );
});

t.test(
  "a line refused for who sends it is answered with that refusal, not CHAT_TOO_FAST, however many are sent",
  async (t) => {
    const { session } = await chatting(t);
    const refusals = async (who: typeof dave) => {
      const socket = await openConsoleSocket(who.client);
      t.teardown(() => socket.close());
      await socket.next("sessions");
      for (let i = 0; i <= CHAT_BURST_LINES; i += 1) {
        socket.send({ type: "chat.send", sessionId: session.id, text: `attempt ${i}` });
      }
      const codes = new Set<string>();
      for (let i = 0; i <= CHAT_BURST_LINES; i += 1) {
        codes.add((await socket.next("error", (m) => m.inReplyTo === "chat.send")).error.code);
      }
      return [...codes];
    };
    t.same(await refusals(dave), ["NOT_ON_SESSION"], "channel access alone: each line NOT_ON_SESSION");
    t.same(await refusals(carol), ["SESSION_NOT_FOUND"], "no access: each line SESSION_NOT_FOUND");
  },
);

t.test("only technicians on the session write; only those who may see it read", async (t) => {
  const { session, agent } = await chatting(t);
  const daveConsole = await openConsoleSocket(dave.client);
  t.teardown(() => daveConsole.close());
  daveConsole.send({ type: "chat.send", sessionId: session.id, text: "not mine to say" });
  t.equal(
    (await daveConsole.next("error")).error.code,
    "NOT_ON_SESSION",
    "channel access alone does not write",
  );
  const carolConsole = await openConsoleSocket(carol.client);
  t.teardown(() => carolConsole.close());
  carolConsole.send({ type: "chat.send", sessionId: session.id, text: "hello?" });
  t.equal((await carolConsole.next("error")).error.code, "SESSION_NOT_FOUND", "no access: no such session");
  const read = await carol.client.get(`/api/sessions/${session.id}/chat`);
  t.equal(read.status, 404);
  t.equal(errorCode(read.body), "SESSION_NOT_FOUND");
  agent.send({ type: "chat", text: "for the technicians on the session" });
  const lines = await chatLine(daveConsole, session.id, (l) => l.kind === "enduser");
  t.equal(
    lines.line.text,
    "for the technicians on the session",
    "a technician who may see the session reads along",
  );
  t.equal(
    carolConsole.received.filter((m) => m.type === "chat.line").length,
    0,
    "one who may not sees nothing",
  );
  t.equal(said(await history(alice.client, session.id)).length, 1, "the refused lines were not stored");
});

t.test("a technician's line with no agent connected is refused with AGENT_OFFLINE", async (t) => {
  const session = await gw.newSession(alice.client, channelId);
  const socket = await openConsoleSocket(alice.client);
  t.teardown(() => socket.close());
  socket.send({ type: "chat.send", sessionId: session.id, text: "anyone there?" });
  t.equal((await socket.next("error")).error.code, "AGENT_OFFLINE");
  t.same(said(await history(alice.client, session.id)), []);
});

t.test("the agent is told who is on the session with what rights, on every change", async (t) => {
  const { session, aliceConsole, agent } = await chatting(t);
  t.equal((await alice.client.post(`/api/sessions/${session.id}/permission`)).status, 200);
  const ask = await agent.next("consent.request");
  agent.send({ type: "consent", requestId: ask.requestId, decision: "view" });
  const granted = await technicians(agent, (list) => list.some((x) => x.access === "view"));
  t.same(
    granted,
    [
      { id: alice.id, name: "Alice", access: "view", viewing: false },
      { id: bob.id, name: "Bob", access: null, viewing: false },
    ],
    "Alice may view, Bob chats only",
  );
  aliceConsole.send({ type: "remote.connect", sessionId: session.id });
  await technicians(agent, (list) => list.some((x) => x.viewing));
  t.pass("an open view is shown");
  aliceConsole.send({ type: "remote.disconnect", sessionId: session.id });
  await technicians(agent, (list) => !list.some((x) => x.viewing));
  t.equal((await alice.client.post(`/api/sessions/${session.id}/release`)).status, 200);
  const left = await technicians(agent, (list) => !list.some((x) => x.id === alice.id));
  t.same(
    left.map((x) => x.name),
    ["Bob"],
    "the released assignee is gone from the list",
  );
  await chatLine(aliceConsole, session.id, (l) => l.kind === "left");
  const lines = await history(alice.client, session.id);
  t.same(
    lines.filter((l) => l.kind === "left").map((l) => l.technician?.name),
    ["Alice"],
    "and left the chat",
  );
});

t.test(
  "a disabled technician still on the session is not listed to the end user as with them, and is again once enabled",
  async (t) => {
    const erin = await gw.technician("Erin");
    const channel = await gw.admin.post("/api/channels", {
      name: "Erin's desk",
      access: [erin.id, alice.id],
    });
    const session = await gw.newSession(erin.client, field(channel.body, "channel", "id"));
    const aliceConsole = await openConsoleSocket(alice.client);
    t.teardown(() => aliceConsole.close());
    await aliceConsole.next("sessions");
    const { socket: agent } = await joinAgent(gw.url, { kind: "pin", pin: session.pin });
    t.teardown(() => agent.close());
    t.equal(
      (await erin.client.post(`/api/sessions/${session.id}/invite`, { technicianIds: [alice.id] })).status,
      200,
    );
    await technicians(agent, (list) => list.length === 2);
    await chatLine(aliceConsole, session.id, (l) => l.kind === "joined" && l.technician?.id === alice.id);
    t.equal((await gw.admin.patch(`/api/technicians/${erin.id}`, { disabled: true })).status, 200);
    await chatLine(aliceConsole, session.id, (l) => l.kind === "left" && l.technician?.id === erin.id);
    t.pass("the chat says she left");
    const listed = await technicians(agent, (list) => list.length > 0 && !list.some((x) => x.id === erin.id));
    t.same(
      listed.map((x) => x.name),
      ["Alice"],
      "the disabled assignee is not listed (it stays the session's assignee)",
    );
    const view = await alice.client.get(`/api/sessions/${session.id}`);
    t.equal(field(view.body, "session", "assignee", "id"), erin.id, "the session still names its assignee");
    t.equal((await gw.admin.patch(`/api/technicians/${erin.id}`, { disabled: false })).status, 200);
    const back = await technicians(agent, (list) => list.length === 2 && list.some((x) => x.id === erin.id));
    t.same(
      back.map((x) => x.name),
      ["Erin", "Alice"],
      "enabled again: listed again",
    );
    await chatLine(aliceConsole, session.id, (l) => l.kind === "joined" && l.technician?.id === erin.id);
    t.same(
      (await history(alice.client, session.id))
        .filter((l) => l.technician?.id === erin.id)
        .map((l) => l.kind),
      ["joined", "left", "joined"],
      "and that she joined again",
    );
  },
);

// --- System information (the same set-up: the session's toolkit shares this file's gateway) ---

const FACTS: SystemInfo = {
  os: { platform: "linux", name: "Debian GNU/Linux 13 (trixie)", release: "6.12.0", arch: "x64" },
  hostname: "pc-42",
  user: "enduser",
  agentVersion: "0.1.0",
  uptimeSeconds: 3725,
  cpu: { model: "Some CPU <b>9000</b>", cores: 8 },
  memory: { totalBytes: 16 * 2 ** 30, freeBytes: 4 * 2 ** 30 },
  disks: [{ mount: "/", totalBytes: 500 * 2 ** 30, freeBytes: 100 * 2 ** 30 }],
  displays: [{ name: "screen-0", width: 1920, height: 1080, primary: true }],
  network: [{ name: "eth0", mac: "00:11:22:33:44:55", addresses: [{ family: "IPv4", address: "10.0.0.7" }] }],
};

/** A session with the agent joined and the consoles of Alice, Dave and Carol; `grant`: Alice may view. */
async function consented(t: Test, grant: boolean) {
  const created = await gw.newSession(alice.client, channelId);
  const consoles: ConsoleSocket[] = [];
  for (const who of [alice, dave, carol]) {
    const socket = await openConsoleSocket(who.client);
    t.teardown(() => socket.close());
    await socket.next("sessions");
    consoles.push(socket);
  }
  const { socket: agent } = await joinAgent(gw.url, { kind: "pin", pin: created.pin });
  t.teardown(() => agent.close());
  if (grant) {
    t.equal(
      (await alice.client.post(`/api/sessions/${created.id}/permission`, { access: "view" })).status,
      200,
    );
    const ask = await agent.next("consent.request");
    agent.send({ type: "consent", requestId: ask.requestId, decision: "view" });
    await consoles[0]?.next("session.updated", (m) =>
      m.session.permissions.some((p) => p.state === "granted"),
    );
  }
  const [aliceConsole, daveConsole, carolConsole] = consoles as [ConsoleSocket, ConsoleSocket, ConsoleSocket];
  return { id: created.id, agent, aliceConsole, daveConsole, carolConsole };
}

const lastFacts = async (id: string) => (await alice.client.get(`/api/sessions/${id}/system-info`)).body;

t.test(
  "system information: asked by the allowed technician, answered by the agent, kept and shown to who may see",
  async (t) => {
    const s = await consented(t, true);
    t.same(await lastFacts(s.id), { info: null, at: null }, "nothing before a request");
    s.aliceConsole.send({ type: "system.request", sessionId: s.id });
    const request = await s.agent.next("system.request");
    t.same(request.technician, { id: alice.id, name: "Alice" }, "the agent is told who asks");
    s.agent.send({ type: "system.info", requestId: request.requestId, info: FACTS });
    for (const socket of [s.aliceConsole, s.daveConsole]) {
      const pushed = await socket.next("system.info", (m) => m.sessionId === s.id);
      t.same(pushed.info, FACTS, "pushed as sent");
    }
    t.equal(
      s.carolConsole.received.filter((m) => m.type === "system.info").length,
      0,
      "not to who may not see",
    );
    const kept = (await lastFacts(s.id)) as { info: SystemInfo; at: string };
    t.same(kept.info, FACTS, "kept with the session");
    t.ok(Date.parse(kept.at) > 0);
    t.equal((await carol.client.get(`/api/sessions/${s.id}/system-info`)).status, 404);
    const audit = await gw.admin.get(`/api/audit?sessionId=${s.id}`);
    const actions = (audit.body as { entries: Array<{ action: string }> }).entries.map((e) => e.action);
    t.ok(actions.includes("session.system_info_requested"), "the request is audited");
    t.ok(actions.includes("session.system_info_sent"), "and the answer");

    s.agent.send({
      type: "system.info",
      requestId: request.requestId,
      info: { ...FACTS, hostname: "again" },
    });
    t.equal((await s.agent.next("error")).error.code, "NOT_FOUND", "a request is answered once");
    s.agent.send({ type: "system.info", requestId: "made-up", info: { ...FACTS, hostname: "unasked" } });
    t.equal((await s.agent.next("error")).error.code, "NOT_FOUND", "nothing unasked is taken");
    t.equal(((await lastFacts(s.id)) as { info: SystemInfo }).info.hostname, "pc-42", "nor stored");
  },
);

t.test(
  "system information: asked again too soon is refused with RATE_LIMITED and retryAfter, and the end user is asked once",
  async (t) => {
    const s = await consented(t, true);
    for (let i = 0; i < 5; i += 1) s.aliceConsole.send({ type: "system.request", sessionId: s.id });
    for (let i = 0; i < 4; i += 1) {
      const refused = await s.aliceConsole.next("error", (m) => m.inReplyTo === "system.request");
      t.equal(refused.error.code, "RATE_LIMITED");
      t.ok((refused.error.retryAfter ?? 0) >= 1, "with when to ask again");
    }
    await s.agent.next("system.request");
    s.aliceConsole.send({ type: "chat.send", sessionId: s.id, text: "after the requests" });
    await s.agent.next("chat", (m) => m.text === "after the requests");
    t.equal(
      s.agent.received.filter((m) => m.type === "system.request").length,
      0,
      "the agent was asked once",
    );
    const audit = await gw.admin.get(`/api/audit?sessionId=${s.id}&action=session.system_info_requested`);
    t.equal((audit.body as { entries: unknown[] }).entries.length, 1, "and one request audited");
  },
);

t.test(
  "system information: facts with control characters or too many entries are refused with BAD_REQUEST",
  async (t) => {
    const s = await consented(t, true);
    s.aliceConsole.send({ type: "system.request", sessionId: s.id });
    const { requestId } = await s.agent.next("system.request");
    const many = Array.from({ length: 33 }, (_, i) => ({
      name: `d${i}`,
      width: 1,
      height: 1,
      primary: false,
    }));
    for (const info of [
      { ...FACTS, hostname: "pc\u001b[2J" },
      { ...FACTS, displays: many },
    ]) {
      s.agent.send({ type: "system.info", requestId, info });
      t.equal((await s.agent.next("error")).error.code, "BAD_REQUEST");
    }
    t.same(await lastFacts(s.id), { info: null, at: null }, "nothing was stored");
  },
);

t.test(
  "system information: only a technician on the session whom the end user allowed may ask",
  async (t) => {
    const s = await consented(t, false);
    s.aliceConsole.send({ type: "system.request", sessionId: s.id });
    t.equal((await s.aliceConsole.next("error")).error.code, "PERMISSION_NOT_GRANTED", "not before consent");
    s.daveConsole.send({ type: "system.request", sessionId: s.id });
    t.equal((await s.daveConsole.next("error")).error.code, "NOT_ON_SESSION");
    s.carolConsole.send({ type: "system.request", sessionId: s.id });
    t.equal((await s.carolConsole.next("error")).error.code, "SESSION_NOT_FOUND");
    const read = await carol.client.get(`/api/sessions/${s.id}/system-info`);
    t.equal(errorCode(read.body), "SESSION_NOT_FOUND");
    t.equal(
      s.agent.received.filter((m) => m.type === "system.request").length,
      0,
      "the agent was asked nothing",
    );
  },
);
