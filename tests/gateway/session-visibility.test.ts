import t from "tap";
import { field, openConsoleSocket } from "../helpers/clients.ts";
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
