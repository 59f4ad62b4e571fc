import t from "tap";
import { CLOSE } from "../../shared/close-codes.ts";
import { PROTOCOL_VERSION } from "../../shared/limits.ts";
import {
  field,
  openAgentSocket,
  openConsoleSocket,
  startTestGateway,
  TEST_DEVICE,
} from "../helpers/gateway.ts";

/**
 * The store is asynchronous: between reading a session and writing it, other requests run. Actions
 * on one session must still decide on what the one before them stored, and a socket that goes
 * away while its action waits on the store must not leave a phantom behind. (Runs on both stores.)
 */

t.test("six agents joining one session by PIN at once: one joins, the others are refused", async (t) => {
  const gw = await startTestGateway();
  t.teardown(() => gw.close());
  const alice = await gw.technician("Alice");
  const session = await gw.newSession(alice.client);
  const agents = await Promise.all(Array.from({ length: 6 }, () => openAgentSocket(gw.url)));
  t.teardown(() => {
    for (const agent of agents) agent.close();
  });
  for (const agent of agents) {
    agent.send({
      type: "hello",
      v: PROTOCOL_VERSION,
      join: { kind: "pin", pin: session.pin },
      device: TEST_DEVICE,
    });
  }
  const answers = await Promise.all(
    agents.map((agent) =>
      agent.waitFor((m) => m.type === "welcome" || m.type === "error", "welcome or error"),
    ),
  );
  const welcomed = answers.filter((answer) => answer.type === "welcome");
  const refused = answers.flatMap((answer) => (answer.type === "error" ? [answer.error.code] : []));
  t.equal(welcomed.length, 1, "exactly one agent is welcomed");
  t.same(
    refused,
    agents.slice(1).map(() => "AGENT_ALREADY_CONNECTED"),
    "the others are told another app is connected",
  );
  const winner = agents[answers.findIndex((answer) => answer.type === "welcome")];
  t.equal(
    winner?.received.find((m) => m.type === "session.ended"),
    undefined,
    "and the one welcomed is not replaced afterwards",
  );
});

t.test(
  "five technicians taking one session at once: each takes it from the one before, as the audit says",
  async (t) => {
    const gw = await startTestGateway();
    t.teardown(() => gw.close());
    const techs = [];
    for (const name of ["Bob", "Cleo", "Dan", "Eve", "Fay"]) {
      techs.push(await gw.technician(name, { shareSessions: true }));
    }
    const channel = await gw.admin.post("/api/channels", { name: "Support", access: techs.map((x) => x.id) });
    const channelId = field(channel.body, "channel", "id");
    const first = techs[0];
    if (first === undefined) throw new Error("no technician");
    const session = await gw.newSession(first.client, channelId);
    t.equal(
      (await first.client.post(`/api/sessions/${session.id}/release`)).status,
      200,
      "queued, unassigned",
    );

    const takes = await Promise.all(
      techs.map((tech) => tech.client.post(`/api/sessions/${session.id}/assign`, { technicianId: tech.id })),
    );
    t.same(
      takes.map((take) => take.status),
      techs.map(() => 200),
      "all are answered",
    );
    const audit = await gw.admin.get(`/api/audit?sessionId=${session.id}&action=session.assigned`);
    const entries = (
      audit.body as { entries: { detail: { technicianId: string; previous: string | null } }[] }
    ).entries;
    const chain = entries.map((entry) => entry.detail).reverse(); // oldest first
    t.equal(chain.length, techs.length, "each assignment is audited");
    t.same(
      chain.map((detail) => detail.previous),
      [null, ...chain.slice(0, -1).map((detail) => detail.technicianId)],
      "each took it from the one before (the first from the queue)",
    );
    const now = await gw.admin.get(`/api/sessions/${session.id}`);
    t.equal(
      field(now.body, "session", "assignee", "id"),
      chain.at(-1)?.technicianId,
      "the last holds it now",
    );
  },
);

t.test(
  "an agent whose socket closes while its hello is being stored does not stay connected: its resume grace runs out and the session falls back to Waiting",
  async (t) => {
    const gw = await startTestGateway({ options: { resumeGraceMs: 300 } });
    t.teardown(() => gw.close());
    const alice = await gw.technician("Alice");
    const session = await gw.newSession(alice.client);
    const console = await openConsoleSocket(alice.client);
    t.teardown(() => console.close());
    await console.next("sessions");

    const agent = await openAgentSocket(gw.url);
    agent.send({
      type: "hello",
      v: PROTOCOL_VERSION,
      join: { kind: "pin", pin: session.pin },
      device: TEST_DEVICE,
    });
    agent.socket.terminate();
    await console.next(
      "session.updated",
      (m) => m.session.id === session.id && m.session.status === "Active",
    );
    const back = await console.next(
      "session.updated",
      (m) => m.session.id === session.id && m.session.status === "Waiting",
      10_000,
    );
    t.equal(back.session.agent.connected, false, "no agent is connected");
    const audit = await gw.admin.get(`/api/audit?sessionId=${session.id}&action=agent.lost`);
    t.equal((audit.body as { entries: unknown[] }).entries.length, 1, "the agent's loss is audited");
    const again = await openAgentSocket(gw.url);
    t.teardown(() => again.close());
    again.send({
      type: "hello",
      v: PROTOCOL_VERSION,
      join: { kind: "pin", pin: session.pin },
      device: TEST_DEVICE,
    });
    const answer = await again.waitFor((m) => m.type === "welcome" || m.type === "error", "welcome or error");
    t.equal(answer.type, "welcome", "a new agent can join");
  },
);

t.test(
  "an agent's message sent right behind its hello is handled once the join is stored, not refused as NOT_JOINED",
  async (t) => {
    const gw = await startTestGateway();
    t.teardown(() => gw.close());
    const alice = await gw.technician("Alice");
    const session = await gw.newSession(alice.client);
    const agent = await openAgentSocket(gw.url);
    t.teardown(() => agent.close());
    agent.send({
      type: "hello",
      v: PROTOCOL_VERSION,
      join: { kind: "pin", pin: session.pin },
      device: TEST_DEVICE,
    });
    agent.send({ type: "end" });
    t.equal((await agent.next("welcome")).session.id, session.id, "welcomed");
    const closed = await agent.closed;
    t.equal(closed.code, CLOSE.normal, "then ended by the user, as asked");
    t.equal(
      agent.received.find((m) => m.type === "error"),
      undefined,
      "and nothing was refused",
    );
  },
);
