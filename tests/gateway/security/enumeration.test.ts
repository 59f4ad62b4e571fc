import { randomUUID } from "node:crypto";
import t from "tap";
import { PROTOCOL_VERSION } from "../../../shared/limits.ts";
import {
  type ApiClient,
  errorCode,
  field,
  openAgentSocket,
  openConsoleSocket,
  PASSWORD,
  startTestGateway,
  TEST_DEVICE,
  TestClock,
} from "../../helpers/gateway.ts";
import { deadline, json, nextAgentMessage, rawRequest, wrongPin } from "../../helpers/security.ts";

/**
 * Enumeration: a session that does not exist, one the technician may not see, and a deleted one
 * answer exactly alike, so nobody learns which ids, PINs or accounts exist.
 */

type Probe = { what: string; method: string; path: (id: string) => string; body?: (id: string) => unknown };

async function answers(client: ApiClient, probes: readonly Probe[], id: string): Promise<string[]> {
  const out: string[] = [];
  for (const probe of probes) {
    const response = await client.request(probe.method, probe.path(id), probe.body?.(id));
    out.push(`${probe.what}: ${response.status} ${JSON.stringify(response.body)}`);
  }
  return out;
}

t.test(
  "unknown, another technician's private, a team channel without access, and deleted sessions answer alike",
  async (t) => {
    const gw = await startTestGateway();
    t.teardown(() => gw.close());
    const owner = await gw.technician("Olga Owner");
    const prober = await gw.technician("Paul Prober", { shareSessions: true });
    const channel = await gw.admin.post("/api/channels", { name: "Second line", access: [owner.id] });
    const teamChannelId = field(channel.body, "channel", "id");

    const privateSession = await gw.newSession(owner.client);
    const teamSession = await gw.newSession(owner.client, teamChannelId);
    const deleted = await gw.newSession(prober.client);
    const deletion = await prober.client.delete(`/api/sessions/${deleted.id}`);
    t.equal(deletion.status, 200, "the prober deletes a session of their own");

    const probes: Probe[] = [
      { what: "get", method: "GET", path: (id) => `/api/sessions/${id}` },
      { what: "invitation", method: "GET", path: (id) => `/api/sessions/${id}/invitation` },
      {
        what: "permission",
        method: "POST",
        path: (id) => `/api/sessions/${id}/permission`,
        body: () => ({}),
      },
      {
        what: "assign",
        method: "POST",
        path: (id) => `/api/sessions/${id}/assign`,
        body: () => ({ technicianId: prober.id }),
      },
      {
        what: "transfer to me",
        method: "POST",
        path: (id) => `/api/sessions/${id}/transfer`,
        body: () => ({ technicianId: prober.id }),
      },
      {
        what: "transfer to home",
        method: "POST",
        path: (id) => `/api/sessions/${id}/transfer`,
        body: () => ({ channelId: "home" }),
      },
      {
        what: "invite",
        method: "POST",
        path: (id) => `/api/sessions/${id}/invite`,
        body: () => ({ technicianIds: [prober.id] }),
      },
      { what: "release", method: "POST", path: (id) => `/api/sessions/${id}/release`, body: () => ({}) },
      { what: "close", method: "POST", path: (id) => `/api/sessions/${id}/close`, body: () => ({}) },
      { what: "delete", method: "DELETE", path: (id) => `/api/sessions/${id}` },
    ];

    const unknown = await answers(prober.client, probes, randomUUID());
    for (const line of unknown)
      t.match(line, /: 404 .*"code":"SESSION_NOT_FOUND"/, `unknown session, ${line}`);
    t.same(
      await answers(prober.client, probes, privateSession.id),
      unknown,
      "another technician's private session",
    );
    t.same(
      await answers(prober.client, probes, teamSession.id),
      unknown,
      "a team channel's session without access",
    );
    t.same(await answers(prober.client, probes, deleted.id), unknown, "a deleted session");

    const consoleSocket = await openConsoleSocket(prober.client);
    t.teardown(() => consoleSocket.close());
    const initial = await consoleSocket.next("sessions");
    t.same(initial.sessions, [], "the prober's console lists none of them");
    const socketAnswers: string[] = [];
    for (const id of [randomUUID(), privateSession.id, teamSession.id, deleted.id]) {
      consoleSocket.send({ type: "remote.connect", sessionId: id });
      const error = await consoleSocket.next("error");
      socketAnswers.push(JSON.stringify(error));
    }
    t.equal(new Set(socketAnswers).size, 1, "remote.connect answers alike on the console socket");
    t.match(socketAnswers[0], /SESSION_NOT_FOUND/);

    for (const session of [privateSession, teamSession]) {
      const seen = await owner.client.get(`/api/sessions/${session.id}`);
      t.match(
        seen.body,
        { session: { status: "Waiting", assignee: { id: owner.id } } },
        "the probes changed nothing",
      );
    }
  },
);

t.test("the PIN of a closed, deleted or expired session answers like an unknown PIN", async (t) => {
  const clock = new TestClock();
  const gw = await startTestGateway({ options: { clock, sweepIntervalMs: 0 } });
  t.teardown(() => gw.close());
  const tech = await gw.technician("Cleo Closer");
  const closed = await gw.newSession(tech.client);
  const removed = await gw.newSession(tech.client);
  const expiring = await gw.newSession(tech.client);
  t.equal((await tech.client.post(`/api/sessions/${closed.id}/close`)).status, 200);
  t.equal((await tech.client.delete(`/api/sessions/${removed.id}`)).status, 200);
  clock.advance(25 * 60 * 60_000);
  t.ok((await gw.gateway.sweep()) >= 1, "the third session expired");

  const helloWith = async (pin: string) => {
    const socket = await openAgentSocket(gw.url);
    const first = nextAgentMessage(socket);
    socket.send({ type: "hello", v: PROTOCOL_VERSION, join: { kind: "pin", pin }, device: TEST_DEVICE });
    const message = await first;
    const { code } = await deadline(socket.closed, "the close");
    return `${JSON.stringify(message)} closed ${code}`;
  };
  const unknown = await helloWith(wrongPin([closed.pin, removed.pin, expiring.pin], 123_456_789));
  t.match(unknown, /SESSION_NOT_FOUND/, "an unknown PIN: SESSION_NOT_FOUND");
  t.equal(await helloWith(closed.pin), unknown, "a closed session's PIN answers alike");
  t.equal(await helloWith(removed.pin), unknown, "a deleted session's PIN answers alike");
  t.equal(await helloWith(expiring.pin), unknown, "an expired session's PIN answers alike");

  const landing = async (token: string) => {
    const response = await rawRequest(gw.url, "GET", `/s/${token}`);
    return `${response.status} ${response.body}`;
  };
  const unknownPage = await landing("A".repeat(24));
  t.match(unknownPage, /^404 /, "an unknown link's page is a 404");
  t.equal(await landing(closed.token), unknownPage, "a closed session's link page is the same page");
  t.equal(await landing(removed.token), unknownPage, "a deleted session's link page is the same page");
  t.equal(await landing(expiring.token), unknownPage, "an expired session's link page is the same page");
});

t.test("sign-in answers alike for an unknown email, a wrong password and a disabled account", async (t) => {
  const gw = await startTestGateway();
  t.teardown(() => gw.close());
  const tech = await gw.technician("Dora Disabled");
  const other = await gw.technician("Walt Wrong");
  t.equal((await gw.admin.patch(`/api/technicians/${tech.id}`, { disabled: true })).status, 200);

  const attempt = async (email: string, password: string) => {
    const response = await gw.anonymous().post("/api/auth/sign-in", { email, password });
    return `${response.status} ${JSON.stringify(response.body)}`;
  };
  const unknown = await attempt("nobody@example.test", PASSWORD);
  t.equal(errorCode(json(unknown.slice(4))), "INVALID_CREDENTIALS");
  t.equal(
    await attempt(other.email, "wrong-password-1"),
    unknown,
    "a wrong password answers like an unknown email",
  );
  t.equal(await attempt(tech.email, PASSWORD), unknown, "a disabled account's right password answers alike");
});
