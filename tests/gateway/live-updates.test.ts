import t from "tap";
import { field, openConsoleSocket, startTestGateway } from "../helpers/gateway.ts";
import { parsePrometheusText, sampleValue } from "../helpers/prometheus.ts";

t.test("consoles learn of permission and access changes without reloading", async (t) => {
  const gw = await startTestGateway();
  t.teardown(() => gw.close());
  const alice = await gw.technician("Alice");
  const bob = await gw.technician("Bob");
  const channel = await gw.admin.post("/api/channels", { name: "Team", access: [alice.id] });
  const channelId = field(channel.body, "channel", "id");
  const session = await gw.newSession(alice.client, channelId);

  const bobConsole = await openConsoleSocket(bob.client);
  t.teardown(() => bobConsole.close());
  const initial = await bobConsole.next("sessions");
  t.same(initial.sessions, [], "Bob sees nothing of a channel he has no access to");

  await gw.admin.patch(`/api/channels/${channelId}`, { access: [alice.id, bob.id] });
  const appeared = await bobConsole.next("session.updated", (m) => m.session.id === session.id);
  t.equal(appeared.session.channelId, channelId, "granting access pushes the channel's sessions");

  await gw.admin.patch(`/api/channels/${channelId}`, { access: [alice.id] });
  const removed = await bobConsole.next("session.removed", (m) => m.sessionId === session.id);
  t.equal(removed.sessionId, session.id, "taking access away removes them");

  await gw.admin.patch(`/api/technicians/${bob.id}`, { permissions: { shareSessions: true } });
  const hello = await bobConsole.next("hello", (m) => m.technician.permissions.shareSessions);
  t.equal(hello.technician.id, bob.id, "a permission change re-sends hello with the new permissions");
});

t.test("the channel list starts with Home, then my Private channel", async (t) => {
  const gw = await startTestGateway();
  t.teardown(() => gw.close());
  const alice = await gw.technician("Alice");
  const response = await alice.client.get("/api/channels");
  const channels = (response.body as { channels: Array<{ id: string; kind: string; name: string }> })
    .channels;
  t.same(
    channels.map((c) => [c.kind, c.name]),
    [
      ["home", "Home"],
      ["private", "Private"],
    ],
  );
  t.equal(channels[0]?.id, "home");
});

t.test(
  "an access change reaches every console with a few store reads per console, not several per session per console",
  async (t) => {
    const token = "live-updates-metrics-token-0123";
    const gw = await startTestGateway({ config: { metricsToken: token } });
    t.teardown(() => gw.close());
    const alice = await gw.technician("Alice");
    const bob = await gw.technician("Bob");
    const channel = await gw.admin.post("/api/channels", { name: "Team", access: [alice.id, bob.id] });
    const channelId = field(channel.body, "channel", "id");
    const sessions = 30;
    const ids: string[] = [];
    for (let i = 0; i < sessions; i += 1) ids.push((await gw.newSession(alice.client, channelId)).id);
    const consoles = [await openConsoleSocket(alice.client), await openConsoleSocket(bob.client)];
    for (const socket of consoles) {
      t.teardown(() => socket.close());
      t.equal((await socket.next("sessions")).sessions.length, sessions);
    }
    const [aliceConsole, bobConsole] = consoles as [(typeof consoles)[0], (typeof consoles)[0]];
    const reads = async () => {
      const response = await fetch(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
      const samples = await parsePrometheusText(await response.text());
      const count = (operation: string) =>
        sampleValue(samples, "sos_store_operation_seconds_count", { operation }) ?? 0;
      return count("getTechnician") + count("getInvites") + count("getChannel") + count("hasChannelAccess");
    };
    const before = await reads();
    t.equal((await gw.admin.patch(`/api/channels/${channelId}`, { access: [alice.id] })).status, 200);
    for (const id of ids) await bobConsole.next("session.removed", (m) => m.sessionId === id);
    for (const id of ids) await aliceConsole.next("session.updated", (m) => m.session.id === id);
    const spent = (await reads()) - before;
    t.ok(spent < sessions, `${spent} reads of accounts, invites and channels for ${sessions} sessions`);
  },
);
