import t from "tap";
import {
  errorCode,
  field,
  joinAgent,
  openConsoleSocket,
  PASSWORD,
  startTestGateway,
} from "../../helpers/gateway.ts";
import { deadline, openRemoteView, SDP_ANSWER, tryUpgrade } from "../../helpers/security.ts";

/**
 * Revoked technician: disabling an account ends everything it has open at once: its console socket,
 * its remote views (the agent closes the peer), and its cookie.
 */

t.test(
  "disabling a technician closes their console socket, ends their remote view and kills their cookie",
  async (t) => {
    const gw = await startTestGateway();
    t.teardown(() => gw.close());
    const tech = await gw.technician("Rex Revoked");
    const colleague = await gw.technician("Cora Colleague");
    const channel = await gw.admin.post("/api/channels", { name: "Field", access: [tech.id, colleague.id] });
    const session = await gw.newSession(tech.client, field(channel.body, "channel", "id"));

    const consoleSocket = await openConsoleSocket(tech.client);
    t.teardown(() => consoleSocket.close());
    await consoleSocket.next("sessions");
    const colleagueSocket = await openConsoleSocket(colleague.client);
    t.teardown(() => colleagueSocket.close());
    await colleagueSocket.next("sessions");

    const { socket: agent } = await joinAgent(gw.url, { kind: "pin", pin: session.pin });
    t.teardown(() => agent.close());
    const peerId = await openRemoteView(tech.client, consoleSocket, agent, session.id);
    const cookie = tech.client.cookie ?? "";

    const disabled = await gw.admin.patch(`/api/technicians/${tech.id}`, { disabled: true });
    t.equal(disabled.status, 200, "the admin disables the technician");

    const peerClose = await agent.next("peer.close", (m) => m.peerId === peerId);
    t.equal(peerClose.reason, "technician_disabled", "the agent is told to close that technician's peer");
    const closed = await deadline(consoleSocket.closed, "the close");
    t.equal(closed.code, 4401, "the technician's console socket is closed as unauthenticated");

    const me = await tech.client.get("/api/me");
    t.equal(me.status, 401, "the cookie no longer works");
    t.equal(errorCode(me.body), "UNAUTHENTICATED");
    const create = await tech.client.post("/api/sessions", { channelId: "home", name: "After" });
    t.equal(create.status, 401, "nor for state-changing requests");
    const upgrade = await tryUpgrade(gw.url, "/ws/console", { cookie, origin: gw.url });
    t.equal(upgrade.upgraded, false, "a new console socket with the old cookie is refused");
    if (!upgrade.upgraded) t.equal(upgrade.status, 401);
    const signIn = await gw.anonymous().signIn(tech.email, PASSWORD);
    t.equal(errorCode(signIn.body), "INVALID_CREDENTIALS", "and the right password no longer signs in");

    // The agent's side still works and is no longer paired with the disabled technician.
    agent.send({ type: "signal", peerId, data: SDP_ANSWER });
    const stale = await agent.next("error");
    t.equal(stale.error.code, "PEER_NOT_FOUND", "the closed peer cannot be signalled any more");
    const view = await gw.admin.get(`/api/sessions/${session.id}`);
    t.match(
      view.body,
      { session: { viewers: [], agent: { connected: true } } },
      "no viewer remains; the agent stays",
    );

    colleagueSocket.send({ type: "remote.disconnect", sessionId: session.id });
    const probe = await colleagueSocket.next("error");
    t.equal(
      probe.error.code,
      "PEER_NOT_FOUND",
      "another technician's console socket is undisturbed and answers",
    );
    const health = await gw.anonymous().get("/healthz");
    t.match(
      health.body,
      { ok: true, consoles: 1, agents: 1 },
      "only the disabled technician's socket is gone",
    );
  },
);

t.test("removing the attended-access permission also closes the console socket", async (t) => {
  const gw = await startTestGateway();
  t.teardown(() => gw.close());
  const tech = await gw.technician("Perm Lost");
  const consoleSocket = await openConsoleSocket(tech.client);
  t.teardown(() => consoleSocket.close());
  await consoleSocket.next("sessions");
  const changed = await gw.admin.patch(`/api/technicians/${tech.id}`, {
    permissions: { attendedAccess: false },
  });
  t.equal(changed.status, 200);
  const closed = await deadline(consoleSocket.closed, "the close");
  t.equal(closed.code, 4401, "the socket is closed");
  t.equal((await tech.client.get("/api/me")).status, 401, "and the cookie is signed out");
});

t.test(
  "a disable is never undone by another admin's edit of the same account made at the same moment",
  async (t) => {
    const gw = await startTestGateway();
    t.teardown(() => gw.close());
    for (let round = 0; round < 3; round += 1) {
      const tech = await gw.technician(`Rita ${round}`);
      // A password change hashes before it writes: the disable lands while it does.
      const [changed, disabled] = await Promise.all([
        gw.admin.patch(`/api/technicians/${tech.id}`, {
          password: `${PASSWORD}-new`,
          name: `Rita ${round} B`,
        }),
        gw.admin.patch(`/api/technicians/${tech.id}`, { disabled: true }),
      ]);
      t.equal(changed.status, 200);
      t.equal(disabled.status, 200);
      const listed = (await gw.admin.get("/api/technicians")).body as {
        technicians: Array<{ id: string; name: string; disabled: boolean }>;
      };
      t.match(
        listed.technicians.find((x) => x.id === tech.id),
        { disabled: true, name: `Rita ${round} B` },
        "both edits stand: disabled, and renamed",
      );
      const signIn = await gw.anonymous().signIn(tech.email, `${PASSWORD}-new`);
      t.not(signIn.status, 200, "the disabled account cannot sign in with its new password");
    }
  },
);
