import t from "tap";
import { field, joinAgent, openConsoleSocket } from "../helpers/clients.ts";
import { startTestGateway } from "../helpers/gateway.ts";

/**
 * Which sessions a technician sees when nothing narrows the list (REST without a channel, and the
 * console socket's first snapshot): those in channels they may see (their own private one; team
 * channels they have access to, all of them for an admin) and those they are on (assignee or
 * invited), never another technician's private sessions. The gateway decides this for many
 * sessions at once (Policy.sessionsVisibleTo); the rule is the one canSeeSession applies to one.
 */
const gw = await startTestGateway();
t.teardown(() => gw.close());

t.test("each technician sees their channels' sessions and those they are on, nothing else", async (t) => {
  const tom = await gw.technician("Tom", { shareSessions: true });
  const kim = await gw.technician("Kim", { shareSessions: true });
  const olga = await gw.technician("Olga");
  const team = await gw.admin.post("/api/channels", { name: "Team", access: [tom.id] });
  const teamId = field(team.body, "channel", "id");
  const inTeam = await gw.newSession(tom.client, teamId);
  const kimsOwn = await gw.newSession(kim.client);
  const kimInvitedTom = await gw.newSession(kim.client);
  const invited = await kim.client.post(`/api/sessions/${kimInvitedTom.id}/invite`, {
    technicianIds: [tom.id],
  });
  t.equal(invited.status, 200, "Kim invites Tom to one of her private sessions");
  const ours = new Set([inTeam.id, kimsOwn.id, kimInvitedTom.id]);

  const expected = [
    { who: "Tom", client: tom.client, sees: [inTeam.id, kimInvitedTom.id] },
    { who: "Kim", client: kim.client, sees: [kimsOwn.id, kimInvitedTom.id] },
    { who: "Olga", client: olga.client, sees: [] },
    { who: "the admin", client: gw.admin, sees: [inTeam.id] },
  ];
  for (const { who, client, sees } of expected) {
    const listed = (await client.get("/api/sessions")).body as { sessions: { id: string }[] };
    const rest = listed.sessions.map((s) => s.id).filter((id) => ours.has(id));
    t.same(rest.sort(), [...sees].sort(), `${who}: GET /api/sessions`);
    const socket = await openConsoleSocket(client);
    const { sessions } = await socket.next("sessions");
    const snapshot = sessions.map((s) => s.id).filter((id) => ours.has(id));
    t.same(snapshot.sort(), [...sees].sort(), `${who}: the console's first snapshot`);
    socket.close();
  }
});

t.test(
  "a listing and the console's snapshot show each session as its own view does, past one read's 500 sessions",
  async (t) => {
    const ann = await gw.technician("Ann", { shareSessions: true });
    const ben = await gw.technician("Ben", { shareSessions: true });
    const desk = await gw.admin.post("/api/channels", { name: "Busy desk", access: [ann.id, ben.id] });
    const channelId = field(desk.body, "channel", "id");
    // A busy desk: 520 sessions, copied in SQL (two statements: SQLite's limit on UNION ALL) from
    // one made through the API, then three more made through it that carry each part a view adds.
    const model = await gw.newSession(ann.client, channelId);
    for (let part = 0; part < 2; part += 1) {
      const copies = Array.from({ length: 260 }, (_, i) => [`copy-${part}-${i}`, `copy-token-${part}-${i}`]);
      await gw.query(
        `INSERT INTO sessions (id, channel_id, name, note, status, assignee_id, created_by, created_at,
           last_activity_at, expires_at, link_token)
         SELECT v.id, s.channel_id, s.name, s.note, s.status, s.assignee_id, s.created_by, s.created_at,
           s.last_activity_at, s.expires_at, v.token
         FROM sessions s, (${copies.map(() => "SELECT ? AS id, ? AS token").join(" UNION ALL ")}) v
         WHERE s.id = ?`,
        ...copies.flat(),
        model.id,
      );
    }
    const invitedOne = (await gw.newSession(ann.client, channelId)).id;
    await ann.client.post(`/api/sessions/${invitedOne}/invite`, { technicianIds: [ben.id] });
    const joined = await gw.newSession(ann.client, channelId);
    const agent = await joinAgent(gw.url, { kind: "pin", pin: joined.pin });
    t.teardown(() => agent.socket.close());
    const asked = await ann.client.post(`/api/sessions/${joined.id}/permission`, { access: "view" });
    t.equal(asked.status, 200, "Ann asks the end user to see the screen");

    const listed = (await ann.client.get(`/api/sessions?channelId=${channelId}`)).body as {
      sessions: Array<{ id: string }>;
    };
    t.equal(listed.sessions.length, 523, "every session listed");
    const socket = await openConsoleSocket(ann.client);
    t.teardown(() => socket.close());
    const { sessions: snapshot } = await socket.next("sessions");
    for (const id of [model.id, "copy-0-0", "copy-1-259", invitedOne, joined.id]) {
      const own = ((await ann.client.get(`/api/sessions/${id}`)).body as { session: { id: string } }).session;
      t.same(
        listed.sessions.find((s) => s.id === id),
        own,
        `listed as its own view: ${id}`,
      );
      t.same(
        snapshot.find((s) => s.id === id),
        own,
        `in the snapshot as its own view: ${id}`,
      );
    }
    const view = (id: string) => listed.sessions.find((s) => s.id === id);
    t.match(view("copy-1-259"), { assignee: { id: ann.id, name: "Ann" }, createdBy: { name: "Ann" } });
    t.match(view(invitedOne), { invited: [{ id: ben.id, name: "Ben" }] });
    t.match(view(joined.id), {
      agent: { connected: true },
      permissions: [{ technicianId: ann.id, state: "requested" }],
      continuation: { state: "running" },
    });
  },
);
