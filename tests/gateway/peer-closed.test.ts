import t from "tap";
import { joinAgent, openConsoleSocket, startTestGateway } from "../helpers/gateway.ts";
import { openRemoteView } from "../helpers/security.ts";

/**
 * When the agent gives up on a technician's connection it says why (`peer.closed.reason`), and the
 * technician's console is told that reason, so the view can say whether the relay was unreachable
 * or the path went silent, rather than only "failed".
 */
const CASES = [
  { agent: "consent_expired", console: "path_lost" },
  { agent: "failed", console: "no_path" },
  { agent: "no_answer", console: "no_answer" },
  { agent: "dtls_failed", console: "peer_failed" },
  { agent: "something-new", console: "peer_failed" },
  { agent: undefined, console: "peer_failed" },
] as const;

t.test("the reason the agent closed its peer reaches the technician's view", async (t) => {
  const gw = await startTestGateway();
  t.teardown(() => gw.close());
  const alice = await gw.technician("Alice");
  const consoleSocket = await openConsoleSocket(alice.client);
  t.teardown(() => consoleSocket.close());
  for (const { agent: reason, console: expected } of CASES) {
    const session = await gw.newSession(alice.client);
    const { socket: agent } = await joinAgent(gw.url, { kind: "pin", pin: session.pin });
    t.teardown(() => agent.close());
    const peerId = await openRemoteView(alice.client, consoleSocket, agent, session.id);
    agent.send(
      reason === undefined ? { type: "peer.closed", peerId } : { type: "peer.closed", peerId, reason },
    );
    const closed = await consoleSocket.next("remote.closed", (m) => m.sessionId === session.id);
    t.equal(closed.reason, expected, `${reason ?? "no reason"} -> ${expected}`);
  }
});

t.test(
  "a new agent joining by PIN while the old one is within its resume grace ends the old one's views",
  async (t) => {
    const gw = await startTestGateway({ options: { resumeGraceMs: 30_000 } });
    t.teardown(() => gw.close());
    const alice = await gw.technician("Alice");
    const consoleSocket = await openConsoleSocket(alice.client);
    t.teardown(() => consoleSocket.close());
    const session = await gw.newSession(alice.client);
    const first = await joinAgent(gw.url, { kind: "pin", pin: session.pin });
    await openRemoteView(alice.client, consoleSocket, first.socket, session.id);
    first.socket.close();
    await first.socket.closed;

    const second = await joinAgent(gw.url, { kind: "pin", pin: session.pin });
    t.teardown(() => second.socket.close());
    const closed = await consoleSocket.next("remote.closed", (m) => m.sessionId === session.id);
    t.equal(closed.reason, "agent_offline", "the view of the agent that is gone is over");
    const view = await alice.client.get(`/api/sessions/${session.id}`);
    t.same(
      (view.body as { session: { viewers: string[] } }).session.viewers,
      [],
      "nobody is listed as viewing",
    );
  },
);
