import type { Test } from "tap";
import t from "tap";
import { PROTOCOL_VERSION } from "../../shared/limits.ts";
import {
  type AgentSocket,
  field,
  joinAgent,
  PASSWORD,
  startTestGateway,
  TEST_DEVICE,
} from "../helpers/gateway.ts";

/** Alice's session in a team channel, its agent joined by PIN, and Alice's request pending. */
async function pendingRequest(t: Test) {
  const gw = await startTestGateway();
  t.teardown(() => gw.close());
  const alice = await gw.technician("Alice");
  const bob = await gw.technician("Bob");
  const team = await gw.admin.post("/api/channels", { name: "Team", access: [alice.id, bob.id] });
  const session = await gw.newSession(alice.client, field(team.body, "channel", "id"));
  const { socket: agent } = await joinAgent(gw.url, { kind: "pin", pin: session.pin });
  t.teardown(() => agent.close());
  t.equal((await alice.client.post(`/api/sessions/${session.id}/permission`)).status, 200);
  const ask = await agent.next("consent.request");
  return { gw, alice, bob, session, agent, ask };
}

/**
 * A late answer to a withdrawn request changes nothing and answers nothing: the next error the
 * agent sees is the one for a message sent after it (a second hello).
 */
async function lateAnswerIsIgnored(t: Test, agent: AgentSocket, requestId: string, pin: string) {
  agent.send({ type: "consent", requestId, decision: "control" });
  agent.send({
    type: "hello",
    v: PROTOCOL_VERSION,
    join: { kind: "pin", pin },
    device: TEST_DEVICE,
  });
  const error = await agent.next("error");
  t.equal(error.error.code, "ALREADY_JOINED", "no NOT_FOUND for the late answer: it is ignored");
}

t.test("a released technician's pending request is cancelled at the agent", async (t) => {
  const { alice, session, agent, ask } = await pendingRequest(t);
  t.equal((await alice.client.post(`/api/sessions/${session.id}/release`)).status, 200);
  const cancel = await agent.next("consent.cancel");
  t.equal(cancel.requestId, ask.requestId, "the very question that was pending");
  await lateAnswerIsIgnored(t, agent, ask.requestId, session.pin);
  const after = await alice.client.get(`/api/sessions/${session.id}`);
  t.same(
    (after.body as { session: { permissions: unknown[] } }).session.permissions,
    [],
    "no permission is left or granted by the late answer",
  );
});

t.test("reassigning the session withdraws the previous assignee's pending request", async (t) => {
  const { gw, bob, session, agent, ask } = await pendingRequest(t);
  const given = await gw.admin.post(`/api/sessions/${session.id}/assign`, { technicianId: bob.id });
  t.equal(given.status, 200);
  t.equal((await agent.next("consent.cancel")).requestId, ask.requestId);
});

t.test("transferring the session to another technician withdraws the pending request", async (t) => {
  const { gw, bob, session, agent, ask } = await pendingRequest(t);
  const moved = await gw.admin.post(`/api/sessions/${session.id}/transfer`, { technicianId: bob.id });
  t.equal(moved.status, 200);
  t.equal((await agent.next("consent.cancel")).requestId, ask.requestId);
});

t.test("closing the session cancels the pending request before the session ends", async (t) => {
  const { alice, session, agent, ask } = await pendingRequest(t);
  t.equal((await alice.client.post(`/api/sessions/${session.id}/close`)).status, 200);
  const first = await agent.waitFor((m) => m.type === "consent.cancel" || m.type === "session.ended");
  t.equal(first.type === "consent.cancel" && first.requestId, ask.requestId, "the question goes first");
  t.equal((await agent.next("session.ended")).reason, "closed");
});

t.test("a technician who is disabled has their pending request cancelled", async (t) => {
  const { gw, alice, session, agent, ask } = await pendingRequest(t);
  t.equal((await gw.admin.patch(`/api/technicians/${alice.id}`, { disabled: true })).status, 200);
  t.equal((await agent.next("consent.cancel")).requestId, ask.requestId);
  await lateAnswerIsIgnored(t, agent, ask.requestId, session.pin);
});

t.test("a withdrawn technician may ask again and gets a new question", async (t) => {
  const { alice, session, agent, ask } = await pendingRequest(t);
  await alice.client.post(`/api/sessions/${session.id}/release`);
  await agent.next("consent.cancel");
  t.equal(
    (await alice.client.post(`/api/sessions/${session.id}/assign`, { technicianId: alice.id })).status,
    200,
  );
  t.equal((await alice.client.post(`/api/sessions/${session.id}/permission`)).status, 200);
  const again = await agent.next("consent.request");
  t.not(again.requestId, ask.requestId);
});

t.test("copy link and show PIN are audited as what they are", async (t) => {
  const gw = await startTestGateway();
  t.teardown(() => gw.close());
  const alice = await gw.technician("Alice");
  const session = await gw.newSession(alice.client);
  const link = await alice.client.get(`/api/sessions/${session.id}/invitation?for=link`);
  t.equal(field(link.body, "link"), session.link);
  const pin = await alice.client.get(`/api/sessions/${session.id}/invitation`);
  t.equal(field(pin.body, "pin"), session.pin);
  const audit = await gw.admin.get(`/api/audit?sessionId=${session.id}`);
  const actions = (audit.body as { entries: Array<{ action: string }> }).entries.map((e) => e.action);
  t.ok(actions.includes("session.link_copied"), "copying the link is audited as such");
  t.ok(actions.includes("session.pin_shown"), "showing the PIN as before");
  t.equal(actions.filter((a) => a === "session.pin_shown").length, 1, "and the link copy is not a PIN shown");
});

t.test("listing channels writes nothing; an older account gets its Private channel at start", async (t) => {
  const gw = await startTestGateway();
  t.teardown(() => gw.close());
  const alice = await gw.technician("Alice");
  const privateChannels = async () => {
    const rows = await gw.query(
      "SELECT count(*) AS n FROM channels WHERE kind = 'private' AND owner_id = ?",
      alice.id,
    );
    return Number(rows[0]?.n);
  };
  t.equal(await privateChannels(), 1, "made with the account");
  // An account from before private channels came with the account.
  await gw.query("DELETE FROM channels WHERE kind = 'private' AND owner_id = ?", alice.id);
  const listed = await alice.client.get("/api/channels");
  t.equal(listed.status, 200);
  t.equal(await privateChannels(), 0, "a GET inserts no row");
  await gw.restart();
  t.equal(await privateChannels(), 1, "the start makes the missing Private channel");
  await alice.client.signIn(alice.email, PASSWORD);
  const again = await alice.client.get("/api/channels");
  t.ok(JSON.stringify(again.body).includes('"kind":"private"'), "and it is listed");
});
