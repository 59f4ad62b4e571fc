import t from "tap";
import type { Channel } from "../../shared/model.ts";
import {
  allowedActions,
  remoteStep,
  sessionsOfChannel,
} from "../../signaling/console/lib/session-actions.ts";
import { session, technician } from "./fixtures.ts";

const channels: Channel[] = [
  {
    id: "home",
    kind: "home",
    name: "Home",
    sessionExpiryMinutes: 60,
    reconfirmMinutes: 30,
    fileSizeLimitMb: 4096,
    access: [],
    recording: { mode: "off", retentionDays: 30 },
    createdAt: "2026-11-25T10:00:00.000Z",
  },
  {
    id: "team1",
    kind: "team",
    name: "Team",
    sessionExpiryMinutes: 60,
    reconfirmMinutes: 30,
    fileSizeLimitMb: 4096,
    access: [],
    recording: { mode: "off", retentionDays: 30 },
    createdAt: "2026-11-25T10:00:00.000Z",
  },
];
const me = technician("me");

t.test("Start remote session asks first, then waits, then connects once granted", async (t) => {
  t.same(remoteStep(session(), me), { kind: "request", after: "none" });
  const waiting = session({ permissions: [{ technicianId: "me", state: "requested", access: null }] });
  t.same(remoteStep(waiting, me), { kind: "waiting" });
  t.equal(
    allowedActions({ me, session: waiting, channels }).startRemote,
    false,
    "no second request while waiting",
  );
  const granted = session({ permissions: [{ technicianId: "me", state: "granted", access: "view" }] });
  t.same(remoteStep(granted, me), { kind: "connect", access: "view" });
  const open = session({
    permissions: [{ technicianId: "me", state: "granted", access: "control" }],
    viewers: ["me"],
  });
  t.same(remoteStep(open, me), { kind: "open", access: "control" });
  const denied = session({ permissions: [{ technicianId: "me", state: "denied", access: null }] });
  t.same(remoteStep(denied, me), { kind: "request", after: "denied" }, "a denial can be asked again");
});

t.test("Start remote session needs an Active session with its app running and me on it", async (t) => {
  t.equal(
    remoteStep(session({ status: "Waiting", agent: { connected: false, device: null } }), me).kind,
    "unavailable",
  );
  t.equal(remoteStep(session({ agent: { connected: false, device: null } }), me).kind, "unavailable");
  t.equal(remoteStep(session({ assignee: { id: "other", name: "O" } }), me).kind, "unavailable");
  const invited = session({ assignee: { id: "other", name: "O" }, invited: [{ id: "me", name: "ME" }] });
  t.equal(remoteStep(invited, me).kind, "request", "an invited technician may ask too");
  t.equal(
    remoteStep(
      session(),
      technician("me", {
        permissions: { attendedAccess: false, shareSessions: false, viewRecordings: false },
      }),
    ).kind,
    "unavailable",
  );
});

t.test("Release, Close and Invite are the assignee's (or an admin's)", async (t) => {
  const mine = allowedActions({ me, session: session(), channels });
  t.ok(mine.release && mine.close && mine.invite);
  const theirs = allowedActions({ me, session: session({ assignee: { id: "other", name: "O" } }), channels });
  t.notOk(theirs.release || theirs.close || theirs.invite);
  const admin = technician("me", { role: "admin" });
  const asAdmin = allowedActions({
    me: admin,
    session: session({ assignee: { id: "other", name: "O" } }),
    channels,
  });
  t.ok(asAdmin.release && asAdmin.close && asAdmin.invite);
});

t.test(
  "the status table decides: Queued cannot be released, terminal sessions only be deleted",
  async (t) => {
    const queued = allowedActions({ me, session: session({ status: "Queued", assignee: null }), channels });
    t.notOk(queued.release, "nothing to release");
    t.ok(queued.assign, "anyone may take a queued session");
    for (const status of ["Closed", "Expired"] as const) {
      const over = allowedActions({ me, session: session({ status }), channels });
      t.same(
        Object.entries(over)
          .filter(([, allowed]) => allowed)
          .map(([action]) => action),
        ["delete"],
        `${status}: only Delete`,
      );
    }
  },
);

t.test("Invite stops at two invited technicians", async (t) => {
  const full = session({
    invited: [
      { id: "a", name: "A" },
      { id: "b", name: "B" },
    ],
  });
  t.notOk(allowedActions({ me, session: full, channels }).invite);
});

t.test("giving a session to someone else needs the share permission", async (t) => {
  const theirs = session({ assignee: { id: "other", name: "O" } });
  t.notOk(allowedActions({ me, session: theirs, channels }).assign);
  const sharer = technician("me", {
    permissions: { attendedAccess: true, shareSessions: true, viewRecordings: false },
  });
  t.ok(allowedActions({ me: sharer, session: theirs, channels }).assign);
  t.notOk(
    allowedActions({ me, session: session(), channels: channels.slice(0, 1) }).transfer,
    "no channel to go to",
  );
});

t.test("Home lists what is assigned to me or that I was invited to; a channel lists its own", async (t) => {
  const all = [
    session({ id: "a", channelId: "team1" }),
    session({
      id: "b",
      channelId: "team2",
      assignee: { id: "x", name: "X" },
      invited: [{ id: "me", name: "ME" }],
    }),
    session({ id: "c", channelId: "team1", assignee: null }),
  ];
  t.same(
    sessionsOfChannel(all, "home", "me")
      .map((s) => s.id)
      .sort(),
    ["a", "b"],
  );
  t.same(
    sessionsOfChannel(all, "team1", "me")
      .map((s) => s.id)
      .sort(),
    ["a", "c"],
  );
});
