import pg from "pg";
import t from "tap";
import { AGENT_FEATURES } from "../../shared/agent-protocol.ts";
import { PROTOCOL_VERSION } from "../../shared/limits.ts";
import { openAgentSocket, openConsoleSocket, startTestGateway, TEST_DEVICE } from "../helpers/gateway.ts";
import { freshDatabase } from "../helpers/postgres.ts";

/**
 * An agent's first message from the gateway is its `welcome`: the agent takes any other first
 * message as its hello's refusal. A session change fanned out while the welcome is still being
 * prepared (its reads wait on the database; with several instances, another instance's change of
 * the session arrives at any moment) must not reach the agent first: it gets who is on the session
 * after the welcome. The welcome's read of running recordings is held back by a lock on their table.
 */

const database = await freshDatabase();
const gateway = await startTestGateway({ config: { databaseUrl: database.url } });
t.teardown(async () => {
  await gateway.close();
  await database.drop();
});

t.test("a session change while the welcome is prepared reaches the agent after its welcome", async (t) => {
  const alice = await gateway.technician("Alice", { shareSessions: true });
  const bob = await gateway.technician("Bob");
  const session = await gateway.newSession(alice.client);
  const consoleSocket = await openConsoleSocket(alice.client);
  t.teardown(() => consoleSocket.close());
  await consoleSocket.next("sessions");

  const locker = new pg.Client({ connectionString: database.url });
  await locker.connect();
  t.teardown(() => locker.end());
  await locker.query("BEGIN");
  await locker.query("LOCK TABLE recordings IN ACCESS EXCLUSIVE MODE");

  const listener = new pg.Client({ connectionString: database.url });
  await listener.connect();
  t.teardown(() => listener.end());
  await listener.query("LISTEN sos_bus");
  const attached = new Promise<void>((resolve) =>
    listener.on("notification", (n) => {
      if (n.payload?.includes('"agent.attached"') === true && n.payload.includes(session.id)) resolve();
    }),
  );

  const agent = await openAgentSocket(gateway.url);
  t.teardown(() => agent.close());
  const order: string[] = [];
  agent.socket.on("message", (data) => order.push((JSON.parse(data.toString()) as { type: string }).type));
  agent.send({
    type: "hello",
    v: PROTOCOL_VERSION,
    join: { kind: "pin", pin: session.pin },
    device: TEST_DEVICE,
    features: AGENT_FEATURES,
  });
  // The agent is attached (its join stored) before the welcome's reads: the gateway announces it on
  // its cluster bus (the session itself is published only after the welcome).
  await attached;
  const invited = await alice.client.post(`/api/sessions/${session.id}/invite`, {
    technicianIds: [bob.id],
  });
  t.equal(invited.status, 200, "Bob is invited while the welcome waits");
  // The change's fan-out reached the consoles (the agent is told before them).
  await consoleSocket.next(
    "session.updated",
    (m) => m.session.id === session.id && m.session.invited.some((p) => p.id === bob.id),
    10_000,
  );
  t.same(order, [], "nothing reached the agent before its welcome");

  await locker.query("COMMIT");
  await agent.next("welcome", () => true, 10_000);
  const told = await agent.next("technicians", (m) => m.technicians.some((p) => p.id === bob.id), 10_000);
  t.ok(told, "then who is on the session, Bob included");
  t.equal(order[0], "welcome", "the welcome came first");
});
