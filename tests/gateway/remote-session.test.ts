import type { Test } from "tap";
import t from "tap";
import { errorCode, joinAgent, openConsoleSocket, startTestGateway } from "../helpers/gateway.ts";

const OFFER = {
  kind: "description",
  type: "offer",
  sdp: "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\n",
} as const;
const ANSWER = {
  kind: "description",
  type: "answer",
  sdp: "v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\n",
} as const;

async function setup(t: Test) {
  const gw = await startTestGateway({ config: { organizationName: "Acme IT" } });
  t.teardown(() => gw.close());
  const alice = await gw.technician("Alice");
  const bob = await gw.technician("Bob");
  const eve = await gw.technician("Eve");
  const session = await gw.newSession(alice.client);
  return { gw, alice, bob, eve, session };
}

/** The session with its agent joined by PIN and Alice's console open. */
async function setupJoined(t: Test) {
  const base = await setup(t);
  const { socket: agent } = await joinAgent(base.gw.url, { kind: "pin", pin: base.session.pin });
  t.teardown(() => agent.close());
  const aliceConsole = await openConsoleSocket(base.alice.client);
  t.teardown(() => aliceConsole.close());
  return { ...base, agent, aliceConsole };
}

/** Alice clicks "Start remote session"; the end user answers; her console sees the result. */
async function answerConsent(
  joined: Pick<Awaited<ReturnType<typeof setupJoined>>, "alice" | "session" | "agent" | "aliceConsole">,
  decision: "control" | "view",
) {
  await joined.alice.client.post(`/api/sessions/${joined.session.id}/permission`);
  const ask = await joined.agent.next("consent.request");
  joined.agent.send({ type: "consent", requestId: ask.requestId, decision });
  await joined.aliceConsole.next("session.updated", (m) =>
    m.session.permissions.some((p) => p.state === "granted"),
  );
}

t.test(
  "Start remote session: permission first, then connect, and signaling flows only between the pair",
  async (t) => {
    const { gw, alice, eve, session } = await setup(t);
    const early = await alice.client.post(`/api/sessions/${session.id}/permission`);
    t.equal(errorCode(early.body), "INVALID_TRANSITION", "a Waiting session cannot ask for permission");

    const { socket: agent } = await joinAgent(gw.url, { kind: "pin", pin: session.pin });
    t.teardown(() => agent.close());
    const aliceConsole = await openConsoleSocket(alice.client);
    t.teardown(() => aliceConsole.close());

    const tooSoon = await (async () => {
      aliceConsole.send({ type: "remote.connect", sessionId: session.id });
      return aliceConsole.next("error");
    })();
    t.equal(tooSoon.error.code, "PERMISSION_NOT_GRANTED", "connecting before consent is refused");

    const requested = await alice.client.post(`/api/sessions/${session.id}/permission`);
    t.equal(requested.status, 200);
    const ask = await agent.next("consent.request");
    t.equal(ask.technician.name, "Alice", "the end user is told who asks");
    t.equal(ask.organization, "Acme IT", "and for which organization");
    t.equal(ask.access, "control");
    const twice = await alice.client.post(`/api/sessions/${session.id}/permission`);
    t.equal(errorCode(twice.body), "PERMISSION_PENDING");

    agent.send({ type: "consent", requestId: ask.requestId, decision: "control" });
    const granted = await aliceConsole.next("session.updated", (m) =>
      m.session.permissions.some((p) => p.technicianId === alice.id && p.state === "granted"),
    );
    t.equal(granted.session.permissions.find((p) => p.technicianId === alice.id)?.access, "control");

    aliceConsole.send({ type: "remote.connect", sessionId: session.id });
    const opened = await aliceConsole.next("remote.opened");
    const peerOpen = await agent.next("peer.open");
    t.equal(peerOpen.peerId, opened.peerId, "agent and console share one peer id");
    t.equal(peerOpen.technician.id, alice.id);
    t.equal(peerOpen.access, "control");

    agent.send({ type: "signal", peerId: peerOpen.peerId, data: OFFER });
    const offer = await aliceConsole.next("remote.signal");
    t.same(offer.data, OFFER, "the agent's offer reaches the technician unchanged");
    aliceConsole.send({ type: "signal", sessionId: session.id, data: ANSWER });
    const answer = await agent.next("signal");
    t.same(answer.data, ANSWER);
    t.equal(answer.peerId, peerOpen.peerId, "the gateway stamps the peer from the connection");

    const eveConsole = await openConsoleSocket(eve.client);
    t.teardown(() => eveConsole.close());
    eveConsole.send({ type: "signal", sessionId: session.id, data: ANSWER });
    const eveError = await eveConsole.next("error");
    t.equal(eveError.error.code, "PEER_NOT_FOUND", "a technician not on the session cannot inject signaling");
    eveConsole.send({ type: "remote.connect", sessionId: session.id });
    t.equal(
      (await eveConsole.next("error")).error.code,
      "SESSION_NOT_FOUND",
      "nor connect to a session it cannot see",
    );

    agent.send({ type: "signal", peerId: "not-a-peer", data: OFFER });
    t.equal((await agent.next("error")).error.code, "PEER_NOT_FOUND");

    const viewers = await aliceConsole.next("session.updated", (m) => m.session.viewers.includes(alice.id));
    t.same(viewers.session.viewers, [alice.id], "the console shows who is connected");

    aliceConsole.send({ type: "remote.disconnect", sessionId: session.id });
    const closed = await agent.next("peer.close");
    t.equal(closed.peerId, peerOpen.peerId);
    t.equal(closed.reason, "disconnected");
  },
);

t.test("a denial is shown as such, and the technician may ask again", async (t) => {
  const { alice, session, agent, aliceConsole } = await setupJoined(t);
  await alice.client.post(`/api/sessions/${session.id}/permission`);
  const ask = await agent.next("consent.request");
  agent.send({ type: "consent", requestId: ask.requestId, decision: "deny" });
  await aliceConsole.next("session.updated", (m) => m.session.permissions.some((p) => p.state === "denied"));
  aliceConsole.send({ type: "remote.connect", sessionId: session.id });
  t.equal((await aliceConsole.next("error")).error.code, "PERMISSION_NOT_GRANTED");
  agent.send({ type: "consent", requestId: ask.requestId, decision: "control" });
  t.equal(
    (await agent.next("error")).error.code,
    "NOT_FOUND",
    "an answered request cannot be answered again",
  );
  const again = await alice.client.post(`/api/sessions/${session.id}/permission`);
  t.equal(again.status, 200);
  const second = await agent.next("consent.request");
  t.not(second.requestId, ask.requestId, "a new request gets a new id");
});

t.test("view-only consent is carried to both ends", async (t) => {
  const { alice, session, agent, aliceConsole } = await setupJoined(t);
  await answerConsent({ alice, session, agent, aliceConsole }, "view");
  aliceConsole.send({ type: "remote.connect", sessionId: session.id });
  t.equal((await aliceConsole.next("remote.opened")).access, "view");
  t.equal((await agent.next("peer.open")).access, "view");
});

t.test("the end user revokes consent: the remote view closes and input permission is gone", async (t) => {
  const { alice, session, agent, aliceConsole } = await setupJoined(t);
  await answerConsent({ alice, session, agent, aliceConsole }, "control");
  aliceConsole.send({ type: "remote.connect", sessionId: session.id });
  await aliceConsole.next("remote.opened");
  const peer = await agent.next("peer.open");
  agent.send({ type: "revoke" });
  const closed = await aliceConsole.next("remote.closed");
  t.equal(closed.reason, "revoked");
  t.equal((await agent.next("peer.close")).peerId, peer.peerId);
  aliceConsole.send({ type: "remote.connect", sessionId: session.id });
  t.equal(
    (await aliceConsole.next("error")).error.code,
    "PERMISSION_NOT_GRANTED",
    "reconnecting needs a new consent",
  );
});

t.test(
  "the end user ends the session: the technician sees 'ended by the user' and the session waits again",
  async (t) => {
    const { gw, alice, session } = await setup(t);
    const { socket: agent } = await joinAgent(gw.url, { kind: "pin", pin: session.pin });
    const aliceConsole = await openConsoleSocket(alice.client);
    t.teardown(() => aliceConsole.close());
    await alice.client.post(`/api/sessions/${session.id}/permission`);
    const ask = await agent.next("consent.request");
    agent.send({ type: "consent", requestId: ask.requestId, decision: "control" });
    await aliceConsole.next("session.updated", (m) =>
      m.session.permissions.some((p) => p.state === "granted"),
    );
    aliceConsole.send({ type: "remote.connect", sessionId: session.id });
    await aliceConsole.next("remote.opened");
    agent.send({ type: "end" });
    t.equal((await aliceConsole.next("remote.closed")).reason, "ended_by_user");
    const waiting = await aliceConsole.next("session.updated", (m) => m.session.status === "Waiting");
    t.equal(waiting.session.agent.connected, false);
    t.same(waiting.session.permissions, [], "consent is forgotten");
    t.equal((await agent.closed).code, 1000);
    const rejoin = await joinAgent(gw.url, { kind: "pin", pin: session.pin });
    t.teardown(() => rejoin.socket.close());
    t.equal(rejoin.welcome.session.status, "Active", "the same PIN works again until the session is closed");
  },
);

t.test("three technicians each get their own peer; a fourth cannot be on the session", async (t) => {
  const { gw, alice, bob, eve, session } = await setup(t);
  const carol = await gw.technician("Carol");
  const { socket: agent } = await joinAgent(gw.url, { kind: "pin", pin: session.pin });
  t.teardown(() => agent.close());
  const invited = await alice.client.post(`/api/sessions/${session.id}/invite`, {
    technicianIds: [bob.id, eve.id],
  });
  t.equal(invited.status, 200);
  t.equal(
    errorCode(
      (await alice.client.post(`/api/sessions/${session.id}/invite`, { technicianIds: [carol.id] })).body,
    ),
    "INVITE_LIMIT",
  );
  const peers: string[] = [];
  for (const tech of [alice, bob, eve]) {
    const consoleSocket = await openConsoleSocket(tech.client);
    t.teardown(() => consoleSocket.close());
    await tech.client.post(`/api/sessions/${session.id}/permission`);
    const ask = await agent.next("consent.request", (m) => m.technician.id === tech.id);
    t.equal(ask.technician.id, tech.id, "each new technician is asked for separately");
    agent.send({ type: "consent", requestId: ask.requestId, decision: "control" });
    await consoleSocket.next("session.updated", (m) =>
      m.session.permissions.some((p) => p.technicianId === tech.id && p.state === "granted"),
    );
    consoleSocket.send({ type: "remote.connect", sessionId: session.id });
    const opened = await consoleSocket.next("remote.opened");
    peers.push(opened.peerId);
    const view = await consoleSocket.next("session.updated", (m) => m.session.viewers.includes(tech.id));
    t.ok(view.session.viewers.includes(tech.id));
  }
  t.equal(new Set(peers).size, 3, "three distinct peers");
  const carolView = await carol.client.get(`/api/sessions/${session.id}`);
  t.equal(errorCode(carolView.body), "SESSION_NOT_FOUND", "the fourth technician is not on it");
});
