import type { Test } from "tap";
import t from "tap";
import { errorCode, joinAgent, openConsoleSocket, startTestGateway } from "../helpers/gateway.ts";

type Entries = { entries: Array<{ action: string; detail: Record<string, unknown> }> };

/** Alice's session with its agent joined by PIN and her console open. */
async function joined(t: Test) {
  const gw = await startTestGateway();
  t.teardown(() => gw.close());
  const alice = await gw.technician("Alice");
  const session = await gw.newSession(alice.client);
  const { socket: agent } = await joinAgent(gw.url, { kind: "pin", pin: session.pin });
  t.teardown(() => agent.close());
  const aliceConsole = await openConsoleSocket(alice.client);
  t.teardown(() => aliceConsole.close());
  const path = `/api/sessions/${session.id}/permission`;
  return { gw, alice, session, agent, aliceConsole, path };
}

t.test(
  "view-only asked and granted: the agent is asked for view, a control answer grants view",
  async (t) => {
    const { gw, alice, session, agent, aliceConsole, path } = await joined(t);
    const asked = await alice.client.post(path, { access: "view" });
    t.equal(asked.status, 200);
    const ask = await agent.next("consent.request");
    t.equal(ask.access, "view", "the end user is asked for view only");
    agent.send({ type: "consent", requestId: ask.requestId, decision: "control" });
    const update = await aliceConsole.next("session.updated", (m) =>
      m.session.permissions.some((p) => p.state === "granted"),
    );
    t.same(
      update.session.permissions.map((p) => p.access),
      ["view"],
      "never more than was asked",
    );
    const audit = (await gw.admin.get(`/api/audit?sessionId=${session.id}`)).body as Entries;
    const detail = (action: string) => audit.entries.find((entry) => entry.action === action)?.detail;
    t.match(detail("session.permission_requested"), { access: "view" });
    t.match(detail("session.consent_granted"), { access: "view" });
  },
);

t.test("no body, an empty object or access control asks for control, as before", async (t) => {
  const { alice, agent, aliceConsole, path } = await joined(t);
  // aiohttp sends an empty body as application/octet-stream; fetch sends none with no content type.
  const octets = { "content-type": "application/octet-stream" };
  for (const [body, headers] of [
    [undefined, {}],
    [undefined, octets],
    [{}, {}],
    [{ access: "control" }, {}],
  ] as const) {
    const response = await alice.client.request("POST", path, body, headers);
    t.equal(
      response.status,
      200,
      `body ${JSON.stringify(body)} is accepted: ${JSON.stringify(response.body)}`,
    );
    const ask = await agent.next("consent.request");
    t.equal(ask.access, "control");
    agent.send({ type: "consent", requestId: ask.requestId, decision: "deny" });
    await aliceConsole.next("session.updated", (m) =>
      m.session.permissions.some((p) => p.state === "denied"),
    );
  }
});

t.test("a bad access is BAD_REQUEST and nothing reaches the agent", async (t) => {
  const { alice, session, agent, path } = await joined(t);
  for (const body of [{ access: "admin" }, { access: "view", extra: 1 }, { access: null }, ["view"]]) {
    const response = await alice.client.post(path, body);
    t.equal(response.status, 400, JSON.stringify(body));
    t.equal(errorCode(response.body), "BAD_REQUEST");
  }
  const after = (await alice.client.get(`/api/sessions/${session.id}`)).body as {
    session: { permissions: unknown[] };
  };
  t.same(after.session.permissions, [], "no request is pending");
  // The next message the agent gets is the first valid request's question.
  const valid = await alice.client.post(path, { access: "view" });
  t.equal(valid.status, 200);
  const ask = await agent.next("consent.request");
  t.equal(ask.access, "view");
});
