import t from "tap";
import {
  ADMIN,
  ApiClient,
  errorCode,
  field,
  JoinRefused,
  joinAgent,
  openConsoleSocket,
  startTestGateway,
  TestClock,
} from "../helpers/gateway.ts";

t.test(
  "a gateway restart loses nothing: sessions with link and PIN, accounts, channels, sign-ins, audit",
  async (t) => {
    const gw = await startTestGateway();
    t.teardown(() => gw.close());
    const alice = await gw.technician("Alice");
    const channel = await gw.admin.post("/api/channels", {
      name: "Support",
      access: [alice.id],
      sessionExpiryMinutes: 90,
    });
    const channelId = field(channel.body, "channel", "id");
    const waiting = await gw.newSession(alice.client, channelId);
    const queued = await gw.newSession(alice.client, channelId);
    await alice.client.post(`/api/sessions/${queued.id}/release`);

    await gw.restart();

    const list = await alice.client.get(`/api/sessions?channelId=${channelId}`);
    t.equal(list.status, 200, "the technician's sign-in survived");
    const sessions = (list.body as { sessions: Array<{ id: string; status: string }> }).sessions;
    t.same(
      sessions.map((s) => [s.id, s.status]).sort(),
      [
        [waiting.id, "Waiting"],
        [queued.id, "Queued"],
      ].sort(),
    );
    const invitation = await alice.client.get(`/api/sessions/${waiting.id}/invitation`);
    t.equal(field(invitation.body, "pin"), waiting.pin, "the PIN is the same");
    t.equal(field(invitation.body, "link"), waiting.link, "and the link");
    const channels = await gw.admin.get("/api/channels");
    t.ok(JSON.stringify(channels.body).includes('"sessionExpiryMinutes":90'), "channel settings survived");
    const fresh = new ApiClient(gw.url);
    t.equal((await fresh.signIn(ADMIN.email, ADMIN.password)).status, 200, "accounts survived");
    const audit = await gw.admin.get(`/api/audit?sessionId=${queued.id}`);
    t.ok(JSON.stringify(audit.body).includes("session.released"), "the audit log survived");

    const { socket, welcome } = await joinAgent(gw.url, { kind: "pin", pin: waiting.pin });
    t.teardown(() => socket.close());
    t.equal(welcome.session.status, "Active", "the PIN still joins after the restart");
  },
);

t.test("an agent resumes with its secret after a gateway restart; the session stays Active", async (t) => {
  const gw = await startTestGateway();
  t.teardown(() => gw.close());
  const alice = await gw.technician("Alice");
  const session = await gw.newSession(alice.client);
  const first = await joinAgent(gw.url, { kind: "pin", pin: session.pin });
  const secret = first.welcome.resume.secret;

  await gw.restart();
  await first.socket.closed;

  const again = await joinAgent(gw.url, { kind: "resume", sessionId: session.id, secret });
  t.teardown(() => again.socket.close());
  t.equal(again.welcome.session.status, "Active");
  t.not(again.welcome.resume.secret, secret, "each resume hands out a new secret");
  const view = await alice.client.get(`/api/sessions/${session.id}`);
  t.equal(field(view.body, "session", "status"), "Active");
  t.equal((view.body as { session: { agent: { connected: boolean } } }).session.agent.connected, true);
});

t.test("an agent that does not come back within the grace period leaves its session Waiting", async (t) => {
  const gw = await startTestGateway({ options: { resumeGraceMs: 200 } });
  t.teardown(() => gw.close());
  const alice = await gw.technician("Alice");
  const session = await gw.newSession(alice.client);
  const consoleSocket = await openConsoleSocket(alice.client);
  t.teardown(() => consoleSocket.close());
  const { socket } = await joinAgent(gw.url, { kind: "pin", pin: session.pin });
  await consoleSocket.next(
    "session.updated",
    (m) => m.session.status === "Active" && m.session.agent.connected,
  );
  socket.socket.terminate();
  const offline = await consoleSocket.next("session.updated", (m) => !m.session.agent.connected);
  t.equal(
    offline.session.status,
    "Active",
    "during the grace period the session stays Active, agent offline",
  );
  const back = await consoleSocket.next("session.updated", (m) => m.session.status === "Waiting");
  t.equal(back.session.agent.connected, false, "after it, the session waits for the app again");
});

t.test(
  "sessions expire after their channel's expiry time without an agent; a live agent keeps it",
  async (t) => {
    const clock = new TestClock();
    const gw = await startTestGateway({ options: { clock, sweepIntervalMs: 0 } });
    t.teardown(() => gw.close());
    const alice = await gw.technician("Alice");
    const channel = await gw.admin.post("/api/channels", {
      name: "Short",
      access: [alice.id],
      sessionExpiryMinutes: 5,
    });
    const channelId = field(channel.body, "channel", "id");
    const idle = await gw.newSession(alice.client, channelId);
    const queued = await gw.newSession(alice.client, channelId);
    await alice.client.post(`/api/sessions/${queued.id}/release`);
    const busy = await gw.newSession(alice.client, channelId);
    const agent = await joinAgent(gw.url, { kind: "pin", pin: busy.pin });
    t.teardown(() => agent.socket.close());

    clock.advance(4 * 60_000);
    t.equal(await gw.gateway.sweep(), 0, "nothing expires before its time");
    clock.advance(2 * 60_000);
    t.equal(await gw.gateway.sweep(), 2, "the Waiting and the Queued session expire");

    const statuses = await alice.client.get(`/api/sessions?channelId=${channelId}`);
    const byId = new Map(
      (statuses.body as { sessions: Array<{ id: string; status: string }> }).sessions.map((s) => [
        s.id,
        s.status,
      ]),
    );
    t.equal(byId.get(idle.id), "Expired");
    t.equal(byId.get(queued.id), "Expired");
    t.equal(byId.get(busy.id), "Active", "a session with its agent connected does not expire");

    const byPin = await joinAgent(gw.url, { kind: "pin", pin: idle.pin }).catch((error: unknown) => error);
    t.ok(
      byPin instanceof JoinRefused && byPin.code === "SESSION_NOT_FOUND",
      "an expired PIN answers like an unknown one",
    );
    const byLink = await joinAgent(gw.url, { kind: "link", token: idle.token }).catch(
      (error: unknown) => error,
    );
    t.ok(
      byLink instanceof JoinRefused && byLink.code === "SESSION_EXPIRED",
      "the link says the session expired",
    );
    const action = await alice.client.post(`/api/sessions/${idle.id}/release`);
    t.equal(errorCode(action.body), "INVALID_TRANSITION", "an Expired session takes no action");
  },
);
