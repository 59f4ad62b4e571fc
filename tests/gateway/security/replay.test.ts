import t from "tap";
import { joinAgent, openConsoleSocket, startTestGateway } from "../../helpers/gateway.ts";
import { deadline, hello, openRemoteView, SDP_ANSWER } from "../../helpers/security.ts";

/**
 * Replay: a resume secret works once, a closed session's secret works never, and signalling
 * messages reach only a peer that is open on the sender's own session right now.
 */

t.test("each resume secret works once; a used one is refused", async (t) => {
  const gw = await startTestGateway();
  t.teardown(() => gw.close());
  const tech = await gw.technician("Remy Replay");
  const session = await gw.newSession(tech.client);
  const other = await gw.newSession(tech.client);

  const first = await joinAgent(gw.url, { kind: "pin", pin: session.pin });
  const s1 = first.welcome.resume.secret;
  const resumed = await hello(gw.url, { kind: "resume", sessionId: session.id, secret: s1 });
  if (!resumed.ok) throw new Error(`resume refused: ${resumed.code}`);
  t.teardown(() => resumed.socket.close());
  const s2 = resumed.welcome.resume.secret;
  t.not(s2, s1, "the welcome of a resume carries a new secret");
  const replaced = await first.socket.next("session.ended");
  t.equal(replaced.reason, "replaced", "the older connection is told it was replaced");
  t.equal((await deadline(first.socket.closed, "the close")).code, 4409);

  const replay = await hello(gw.url, { kind: "resume", sessionId: session.id, secret: s1 });
  t.equal(replay.ok ? "welcome" : replay.code, "RESUME_INVALID", "the used secret is refused");
  if (!replay.ok) t.equal(replay.closeCode, 4400, "and that socket closed");
  t.equal(
    resumed.socket.socket.readyState,
    resumed.socket.socket.OPEN,
    "the refused replay did not displace the agent",
  );

  const crossed = await hello(gw.url, { kind: "resume", sessionId: other.id, secret: s2 });
  t.equal(crossed.ok ? "welcome" : crossed.code, "RESUME_INVALID", "a secret does not open another session");

  const next = await hello(gw.url, { kind: "resume", sessionId: session.id, secret: s2 });
  t.equal(next.ok ? "welcome" : next.code, "welcome", "the newest secret works");
  next.socket.close();
});

t.test("a closed, deleted or ended session's resume secret is refused", async (t) => {
  const gw = await startTestGateway();
  t.teardown(() => gw.close());
  const tech = await gw.technician("Cass Closed");

  type Agent = Awaited<ReturnType<typeof joinAgent>>;
  const endings: Array<[string, (id: string, agent: Agent) => Promise<void>]> = [
    [
      "closed",
      async (id, agent) => {
        t.equal((await tech.client.post(`/api/sessions/${id}/close`)).status, 200);
        t.equal((await agent.socket.next("session.ended")).reason, "closed");
      },
    ],
    [
      "deleted",
      async (id, agent) => {
        t.equal((await tech.client.delete(`/api/sessions/${id}`)).status, 200);
        t.equal((await agent.socket.next("session.ended")).reason, "deleted");
      },
    ],
    [
      "ended by the end user",
      async (_id, agent) => {
        agent.socket.send({ type: "end" });
        t.equal((await deadline(agent.socket.closed, "the close")).code, 1000, "the end user ended it");
      },
    ],
  ];
  for (const [how, end] of endings) {
    const session = await gw.newSession(tech.client);
    const agent = await joinAgent(gw.url, { kind: "pin", pin: session.pin });
    await end(session.id, agent);
    const after = await hello(gw.url, {
      kind: "resume",
      sessionId: session.id,
      secret: agent.welcome.resume.secret,
    });
    t.equal(after.ok ? "welcome" : after.code, "RESUME_INVALID", `${how}: refused`);
  }
});

t.test("signals reach only a peer open on the sender's own session, and not after it closed", async (t) => {
  const gw = await startTestGateway();
  t.teardown(() => gw.close());
  const tech = await gw.technician("Sig Nal");
  const consoleSocket = await openConsoleSocket(tech.client);
  t.teardown(() => consoleSocket.close());
  await consoleSocket.next("sessions");
  const mine = await gw.newSession(tech.client);
  const foreign = await gw.newSession(tech.client);
  const { socket: agent } = await joinAgent(gw.url, { kind: "pin", pin: mine.pin });
  t.teardown(() => agent.close());
  const { socket: intruder } = await joinAgent(gw.url, { kind: "pin", pin: foreign.pin });
  t.teardown(() => intruder.close());

  const peerId = await openRemoteView(tech.client, consoleSocket, agent, mine.id);

  agent.send({ type: "signal", peerId: "00000000-0000-4000-8000-000000000000", data: SDP_ANSWER });
  t.equal((await agent.next("error")).error.code, "PEER_NOT_FOUND", "a made-up peer id: PEER_NOT_FOUND");

  intruder.send({
    type: "signal",
    peerId,
    data: { kind: "description", type: "offer", sdp: "v=0 intruder" },
  });
  t.equal(
    (await intruder.next("error")).error.code,
    "PEER_NOT_FOUND",
    "another session's agent cannot signal this session's peer",
  );
  agent.send({ type: "signal", peerId, data: { kind: "description", type: "offer", sdp: "v=0 genuine" } });
  const relayed = await consoleSocket.next("remote.signal");
  t.match(relayed.data, { sdp: "v=0 genuine" }, "the technician receives only the genuine offer");

  consoleSocket.send({ type: "remote.disconnect", sessionId: mine.id });
  t.equal((await agent.next("peer.close", (m) => m.peerId === peerId)).reason, "disconnected");
  t.equal((await consoleSocket.next("remote.closed")).reason, "disconnected");
  agent.send({ type: "signal", peerId, data: SDP_ANSWER });
  t.equal((await agent.next("error")).error.code, "PEER_NOT_FOUND", "a closed peer's id is refused");
  consoleSocket.send({ type: "signal", sessionId: mine.id, data: SDP_ANSWER });
  t.equal(
    (await consoleSocket.next("error")).error.code,
    "PEER_NOT_FOUND",
    "an old SDP answer from the console after the view closed is refused",
  );

  // Permission stands, so the technician reconnects straight away.
  consoleSocket.send({ type: "remote.connect", sessionId: mine.id });
  const reopened = await consoleSocket.next("remote.opened", (m) => m.sessionId === mine.id);
  t.not(reopened.peerId, peerId, "a new view gets a new peer id");
  t.equal((await tech.client.post(`/api/sessions/${mine.id}/close`)).status, 200);
  t.equal(
    (await consoleSocket.next("remote.closed", (m) => m.sessionId === mine.id)).reason,
    "session_closed",
  );
  consoleSocket.send({ type: "signal", sessionId: mine.id, data: SDP_ANSWER });
  t.equal(
    (await consoleSocket.next("error")).error.code,
    "PEER_NOT_FOUND",
    "an SDP answer for a closed session is refused",
  );
});
