import t, { type Test } from "tap";
import type { SystemInfo } from "../../shared/system-info.ts";
import {
  type ConsoleSocket,
  errorCode,
  field,
  joinAgent,
  openConsoleSocket,
  startTestGateway,
} from "../helpers/gateway.ts";

/**
 * The end user's computer's facts over the real protocol: asked for by a technician the end user
 * allowed, answered by the agent, kept with the session and pushed to who may see it. One gateway
 * for the file: Alice is the assignee, Dave has channel access only, Carol none.
 */

const gw = await startTestGateway();
t.teardown(() => gw.close());
const alice = await gw.technician("Alice");
const dave = await gw.technician("Dave");
const carol = await gw.technician("Carol");
const team = await gw.admin.post("/api/channels", { name: "Helpdesk", access: [alice.id, dave.id] });
const channelId = field(team.body, "channel", "id");

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

async function session(t: Test, grant: boolean) {
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

t.test("asked by the allowed technician, answered by the agent, kept and shown to who may see", async (t) => {
  const s = await session(t, true);
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

  s.agent.send({ type: "system.info", requestId: request.requestId, info: { ...FACTS, hostname: "again" } });
  t.equal((await s.agent.next("error")).error.code, "NOT_FOUND", "a request is answered once");
  s.agent.send({ type: "system.info", requestId: "made-up", info: { ...FACTS, hostname: "unasked" } });
  t.equal((await s.agent.next("error")).error.code, "NOT_FOUND", "nothing unasked is taken");
  t.equal(((await lastFacts(s.id)) as { info: SystemInfo }).info.hostname, "pc-42", "nor stored");
});

t.test("facts with control characters or too many entries are refused with BAD_REQUEST", async (t) => {
  const s = await session(t, true);
  s.aliceConsole.send({ type: "system.request", sessionId: s.id });
  const { requestId } = await s.agent.next("system.request");
  const many = Array.from({ length: 33 }, (_, i) => ({ name: `d${i}`, width: 1, height: 1, primary: false }));
  for (const info of [
    { ...FACTS, hostname: "pc\u001b[2J" },
    { ...FACTS, displays: many },
  ]) {
    s.agent.send({ type: "system.info", requestId, info });
    t.equal((await s.agent.next("error")).error.code, "BAD_REQUEST");
  }
  t.same(await lastFacts(s.id), { info: null, at: null }, "nothing was stored");
});

t.test("only a technician on the session whom the end user allowed may ask", async (t) => {
  const s = await session(t, false);
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
});
