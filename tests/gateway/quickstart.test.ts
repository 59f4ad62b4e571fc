import t from "tap";
import { field, joinAgent, openConsoleSocket, startTestGateway } from "../helpers/gateway.ts";

t.test(
  "a new admin creates a technician, a channel and a session; the agent joins by PIN; Waiting -> Active -> Queued -> Closed",
  async (t) => {
    const gw = await startTestGateway();
    t.teardown(() => gw.close());

    const tech = await gw.technician("Tom Tech");
    const channel = await gw.admin.post("/api/channels", { name: "Helpdesk", access: [tech.id] });
    t.equal(channel.status, 200);
    const channelId = field(channel.body, "channel", "id");

    const consoleSocket = await openConsoleSocket(tech.client);
    t.teardown(() => consoleSocket.close());
    const initial = await consoleSocket.next("sessions");
    t.same(initial.sessions, [], "a new technician sees no sessions");

    const session = await gw.newSession(tech.client, channelId);
    t.match(session.pin, /^\d{9}$/, "the PIN has nine digits");
    t.match(session.link, /\/s\/[A-Za-z0-9_-]{22,}$/, "the link carries an unguessable token");
    const waiting = await consoleSocket.next("session.updated", (m) => m.session.id === session.id);
    t.equal(waiting.session.status, "Waiting");
    t.equal(waiting.session.assignee?.id, tech.id, "the creator is assigned");

    const { socket: agent, welcome } = await joinAgent(gw.url, { kind: "pin", pin: session.pin });
    t.teardown(() => agent.close());
    t.equal(welcome.session.id, session.id);
    t.ok(welcome.resume.secret.length >= 32, "the agent gets a resume secret");
    const active = await consoleSocket.next(
      "session.updated",
      (m) => m.session.id === session.id && m.session.status === "Active",
    );
    t.equal(active.session.agent.connected, true, "the console sees the agent connected without polling");
    t.equal(active.session.agent.device?.hostname, "test-host");

    const released = await tech.client.post(`/api/sessions/${session.id}/release`);
    t.equal(released.status, 200);
    t.equal(field(released.body, "session", "status"), "Queued");

    const taken = await tech.client.post(`/api/sessions/${session.id}/assign`, { technicianId: tech.id });
    t.equal(
      field(taken.body, "session", "status"),
      "Active",
      "taking a queued session with its agent present makes it Active",
    );

    const closed = await tech.client.post(`/api/sessions/${session.id}/close`);
    t.equal(field(closed.body, "session", "status"), "Closed");
    const ended = await agent.next("session.ended");
    t.equal(ended.reason, "closed", "the agent is told the session was closed");
    const { code } = await agent.closed;
    t.equal(code, 4410, "the gateway closes the agent's socket");
  },
);
