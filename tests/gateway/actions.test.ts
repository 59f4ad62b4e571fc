import t from "tap";
import {
  errorCode,
  field,
  JoinRefused,
  joinAgent,
  openConsoleSocket,
  startTestGateway,
} from "../helpers/gateway.ts";

t.test("Service Desk actions and their permission checks", async (t) => {
  const gw = await startTestGateway();
  t.teardown(() => gw.close());
  const alice = await gw.technician("Alice");
  const bob = await gw.technician("Bob");
  const carol = await gw.technician("Carol");
  const dave = await gw.technician("Dave");
  const sharer = await gw.technician("Sam Sharer", { shareSessions: true });
  const outsider = await gw.technician("Olga Outsider");
  const noDesk = await gw.technician("Nora NoDesk", { attendedAccess: false });
  const team = await gw.admin.post("/api/channels", {
    name: "Team",
    access: [alice.id, bob.id, carol.id, dave.id, sharer.id],
  });
  const teamId = field(team.body, "channel", "id");
  const other = await gw.admin.post("/api/channels", { name: "Other", access: [sharer.id] });
  const otherId = field(other.body, "channel", "id");

  await t.test(
    "a technician without the attended-access permission cannot use the Service Desk",
    async (t) => {
      const response = await noDesk.client.post("/api/sessions", { channelId: "home" });
      t.equal(response.status, 403);
      t.equal(errorCode(response.body), "FORBIDDEN");
    },
  );

  await t.test("new session in a team channel needs access to it", async (t) => {
    const refused = await outsider.client.post("/api/sessions", { channelId: teamId });
    t.equal(errorCode(refused.body), "CHANNEL_NOT_FOUND");
    const session = await gw.newSession(alice.client, teamId);
    const seen = await bob.client.get(`/api/sessions/${session.id}`);
    t.equal(seen.status, 200, "a colleague with channel access sees it");
    const hidden = await outsider.client.get(`/api/sessions/${session.id}`);
    t.equal(errorCode(hidden.body), "SESSION_NOT_FOUND", "a technician without access does not");
  });

  await t.test("a session in my Private channel is seen only by me", async (t) => {
    const session = await gw.newSession(alice.client, "home");
    t.equal((await alice.client.get(`/api/sessions/${session.id}`)).status, 200);
    t.equal(errorCode((await bob.client.get(`/api/sessions/${session.id}`)).body), "SESSION_NOT_FOUND");
    t.equal(errorCode((await gw.admin.get(`/api/sessions/${session.id}`)).body), "SESSION_NOT_FOUND");
  });

  await t.test(
    "assigning to another technician needs the share permission; taking it yourself does not",
    async (t) => {
      const session = await gw.newSession(alice.client, teamId);
      const refused = await alice.client.post(`/api/sessions/${session.id}/assign`, { technicianId: bob.id });
      t.equal(errorCode(refused.body), "FORBIDDEN");
      const stillAlice = await alice.client.get(`/api/sessions/${session.id}`);
      t.equal(field(stillAlice.body, "session", "assignee", "id"), alice.id, "nothing changed");

      const given = await sharer.client.post(`/api/sessions/${session.id}/assign`, { technicianId: bob.id });
      t.equal(given.status, 200);
      t.equal(field(given.body, "session", "assignee", "id"), bob.id);
      const bobHome = await bob.client.get("/api/sessions?channelId=home");
      t.ok(JSON.stringify(bobHome.body).includes(session.id), "it is in Bob's Home now");
      const aliceHome = await alice.client.get("/api/sessions?channelId=home");
      t.notOk(JSON.stringify(aliceHome.body).includes(session.id), "and no longer in Alice's");
    },
  );

  await t.test("transfer to a technician needs the share permission", async (t) => {
    const session = await gw.newSession(alice.client, teamId);
    const refused = await alice.client.post(`/api/sessions/${session.id}/transfer`, { technicianId: bob.id });
    t.equal(errorCode(refused.body), "FORBIDDEN");
    const session2 = await gw.newSession(sharer.client, teamId);
    const moved = await sharer.client.post(`/api/sessions/${session2.id}/transfer`, {
      technicianId: carol.id,
    });
    t.equal(field(moved.body, "session", "assignee", "id"), carol.id);
  });

  await t.test("a technician without channel access cannot transfer into it", async (t) => {
    const session = await gw.newSession(alice.client, teamId);
    const refused = await alice.client.post(`/api/sessions/${session.id}/transfer`, { channelId: otherId });
    t.equal(refused.status, 403);
    t.equal(errorCode(refused.body), "FORBIDDEN");
    const unchanged = await alice.client.get(`/api/sessions/${session.id}`);
    t.equal(field(unchanged.body, "session", "channelId"), teamId, "the session stayed in its channel");
    const session2 = await gw.newSession(sharer.client, teamId);
    const moved = await sharer.client.post(`/api/sessions/${session2.id}/transfer`, { channelId: otherId });
    t.equal(field(moved.body, "session", "channelId"), otherId, "with access the transfer goes through");
  });

  await t.test("invite technicians: at most two more, three in all", async (t) => {
    const session = await gw.newSession(alice.client, teamId);
    const notLead = await bob.client.post(`/api/sessions/${session.id}/invite`, {
      technicianIds: [carol.id],
    });
    t.equal(errorCode(notLead.body), "FORBIDDEN", "only the assignee invites");
    const self = await alice.client.post(`/api/sessions/${session.id}/invite`, { technicianIds: [alice.id] });
    t.equal(errorCode(self.body), "ALREADY_ON_SESSION");
    const two = await alice.client.post(`/api/sessions/${session.id}/invite`, {
      technicianIds: [bob.id, carol.id],
    });
    t.equal(two.status, 200);
    const third = await alice.client.post(`/api/sessions/${session.id}/invite`, { technicianIds: [dave.id] });
    t.equal(third.status, 409);
    t.equal(errorCode(third.body), "INVITE_LIMIT");
    const view = await alice.client.get(`/api/sessions/${session.id}`);
    t.equal(JSON.stringify(view.body).includes(dave.id), false, "the refused invite changed nothing");
    const carolHome = await carol.client.get("/api/sessions?channelId=home");
    t.ok(JSON.stringify(carolHome.body).includes(session.id), "an invited technician finds it in Home");
    const noDeskInvite = await gw.admin.post(
      `/api/sessions/${(await gw.newSession(gw.admin, teamId)).id}/invite`,
      {
        technicianIds: [noDesk.id],
      },
    );
    t.equal(
      errorCode(noDeskInvite.body),
      "FORBIDDEN",
      "a technician without attended access cannot be invited",
    );
  });

  await t.test("release sends it to the queue unassigned; a colleague takes it again", async (t) => {
    const session = await gw.newSession(alice.client, teamId);
    const notLead = await bob.client.post(`/api/sessions/${session.id}/release`);
    t.equal(errorCode(notLead.body), "FORBIDDEN", "only the assignee releases");
    const released = await alice.client.post(`/api/sessions/${session.id}/release`);
    t.equal(field(released.body, "session", "status"), "Queued");
    t.equal((released.body as { session: { assignee: unknown } }).session.assignee, null);
    const again = await alice.client.post(`/api/sessions/${session.id}/release`);
    t.equal(errorCode(again.body), "FORBIDDEN", "a released session has no assignee to release it");
    const taken = await bob.client.post(`/api/sessions/${session.id}/assign`, { technicianId: bob.id });
    t.equal(field(taken.body, "session", "status"), "Waiting", "no agent yet: back to Waiting");
    t.equal(field(taken.body, "session", "assignee", "id"), bob.id);
  });

  await t.test("close kills link and PIN; nothing but delete works afterwards", async (t) => {
    const session = await gw.newSession(alice.client, teamId);
    const notLead = await bob.client.post(`/api/sessions/${session.id}/close`);
    t.equal(errorCode(notLead.body), "FORBIDDEN");
    const closed = await alice.client.post(`/api/sessions/${session.id}/close`);
    t.equal(field(closed.body, "session", "status"), "Closed");
    for (const [path, body] of [
      ["release", {}],
      ["close", {}],
      ["assign", { technicianId: alice.id }],
      ["invite", { technicianIds: [bob.id] }],
      ["permission", {}],
    ] as const) {
      const refused = await alice.client.post(`/api/sessions/${session.id}/${path}`, body);
      t.equal(errorCode(refused.body), "INVALID_TRANSITION", `${path} on a Closed session`);
    }
    const invitation = await alice.client.get(`/api/sessions/${session.id}/invitation`);
    t.equal(errorCode(invitation.body), "SESSION_CLOSED", "no link or PIN for a closed session");
    const agent = await joinAgent(gw.url, { kind: "link", token: session.token }).catch(
      (error: unknown) => error,
    );
    t.ok(
      agent instanceof JoinRefused && agent.code === "SESSION_CLOSED",
      "the agent cannot join a closed session by link",
    );
  });

  await t.test("delete removes it from every console; it then answers like an unknown session", async (t) => {
    const session = await gw.newSession(alice.client, teamId);
    const bobConsole = await openConsoleSocket(bob.client);
    t.teardown(() => bobConsole.close());
    await bobConsole.next("sessions");
    const outsiderDelete = await outsider.client.delete(`/api/sessions/${session.id}`);
    t.equal(errorCode(outsiderDelete.body), "SESSION_NOT_FOUND");
    const deleted = await alice.client.delete(`/api/sessions/${session.id}`);
    t.equal(deleted.status, 200);
    const removed = await bobConsole.next("session.removed", (m) => m.sessionId === session.id);
    t.equal(removed.sessionId, session.id);
    t.equal(errorCode((await alice.client.get(`/api/sessions/${session.id}`)).body), "SESSION_NOT_FOUND");
  });

  await t.test("copy link / show PIN give the invitation and are audited", async (t) => {
    const session = await gw.newSession(alice.client, teamId);
    const invitation = await bob.client.get(`/api/sessions/${session.id}/invitation`);
    t.equal(field(invitation.body, "pin"), session.pin);
    t.equal(field(invitation.body, "link"), session.link);
    const audit = await gw.admin.get(`/api/audit?sessionId=${session.id}`);
    const actions = (audit.body as { entries: Array<{ action: string; actor: { id: string | null } }> })
      .entries;
    t.ok(
      actions.some((e) => e.action === "session.created" && e.actor.id === alice.id),
      "creation is audited with its actor",
    );
    t.ok(
      actions.some((e) => e.action === "session.pin_shown" && e.actor.id === bob.id),
      "showing the PIN is audited",
    );
  });

  await t.test("the audit log is for admins, and exports as CSV", async (t) => {
    const refused = await alice.client.get("/api/audit");
    t.equal(errorCode(refused.body), "FORBIDDEN");
    const csv = await gw.admin.get("/api/audit?format=csv&action=session.created");
    t.equal(csv.status, 200);
    t.match(csv.headers.get("content-type") ?? "", /text\/csv/);
    const lines = String(csv.body).trim().split("\r\n");
    t.match(lines[0] ?? "", /^id,at,actor_kind/);
    t.ok(
      lines.length > 1 && lines.slice(1).every((line) => line.includes('"session.created"')),
      "filtered rows only",
    );
  });
});

t.test("an unlicensed gateway refuses the Service Desk with NOT_LICENSED", async (t) => {
  const gw = await startTestGateway({ config: { license: { attendedAccess: false } } });
  t.teardown(() => gw.close());
  const response = await gw.admin.post("/api/sessions", { channelId: "home" });
  t.equal(response.status, 403);
  t.equal(errorCode(response.body), "NOT_LICENSED");
  const me = await gw.admin.get("/api/me");
  t.equal(
    (me.body as { organization: { features: { attendedAccess: boolean } } }).organization.features
      .attendedAccess,
    false,
  );
});
