import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t from "tap";
import { PROTOCOL_VERSION } from "../../shared/limits.ts";
import { startGateway } from "../../signaling/main.ts";
import {
  ADMIN,
  ApiClient,
  errorCode,
  JoinRefused,
  joinAgent,
  openAgentSocket,
  openConsoleSocket,
  PASSWORD,
  startTestGateway,
  TEST_DEVICE,
} from "../helpers/gateway.ts";
import { startGatewayProcess } from "../helpers/gateway-cli.ts";
import { freshDatabase } from "../helpers/postgres.ts";

/**
 * Several gateway instances on one PostgreSQL database: any instance may hold any socket, and what
 * happens on one reaches the sockets of the others (the bus, LISTEN/NOTIFY), including a message
 * too large for a NOTIFY; an instance that dies is declared gone and a survivor clears its agents'
 * presence. One database and two in-process instances for the whole file; the killed instance is a
 * real process.
 */

/** Quick enough to see an instance go within seconds, slow enough not to doubt a live one. */
const CLUSTER_TIMING = { instanceHeartbeatMs: 500, instanceGoneAfterMs: 3_000 };

const database = await freshDatabase();
// Behind a proxy on loopback: the PIN guard's test comes from an address of its own (X-Forwarded-For).
const a = await startTestGateway({
  config: { databaseUrl: database.url, trustProxy: ["127.0.0.1"] },
  options: CLUSTER_TIMING,
});
const dataDirB = mkdtempSync(join(tmpdir(), "sos-gateway-b-"));
const b = await startGateway(
  {
    port: 0,
    host: "127.0.0.1",
    dataDir: dataDirB,
    databaseUrl: database.url,
    trustProxy: ["127.0.0.1"],
    logLevel: "silent",
    admin: ADMIN,
  },
  CLUSTER_TIMING,
);
t.teardown(async () => {
  await b.close();
  await a.close();
  rmSync(dataDirB, { recursive: true, force: true });
  await database.drop();
});

/** The same signed-in technician, talking to another instance. */
function via(client: ApiClient, url: string): ApiClient {
  const other = new ApiClient(url);
  other.cookie = client.cookie;
  other.csrfToken = client.csrfToken;
  return other;
}

/** An SDP padded past PostgreSQL's 8000-byte NOTIFY limit (a real one with many candidates gets there). */
const BIG_OFFER = {
  kind: "description",
  type: "offer",
  sdp: `v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\n${"a=x-padding:0123456789abcdef0123456789abcdef\r\n".repeat(400)}`,
} as const;
const ANSWER = {
  kind: "description",
  type: "answer",
  sdp: "v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\n",
} as const;
const CANDIDATE = {
  kind: "candidate",
  candidate: "candidate:1 1 udp 2122260223 192.0.2.10 54321 typ host",
  sdpMid: "0",
  sdpMLineIndex: 0,
} as const;

t.test(
  "an agent on instance A, the technician's console on B: consent, signaling and live updates cross",
  async (t) => {
    t.ok(Buffer.byteLength(JSON.stringify(BIG_OFFER)) > 8_000, "the offer is over the NOTIFY limit");
    const alice = await a.technician("Alice");
    const aliceOnB = via(alice.client, b.url);
    const consoleB = await openConsoleSocket(aliceOnB);
    t.teardown(() => consoleB.close());
    await consoleB.next("sessions");
    const consoleA = await openConsoleSocket(alice.client);
    t.teardown(() => consoleA.close());
    await consoleA.next("sessions");

    const session = await a.newSession(alice.client);
    await consoleB.next("session.updated", (m) => m.session.id === session.id);
    const { socket: agent } = await joinAgent(a.url, { kind: "pin", pin: session.pin });
    t.teardown(() => agent.close());
    const online = await consoleB.next(
      "session.updated",
      (m) => m.session.id === session.id && m.session.agent.connected,
    );
    t.equal(online.session.status, "Active", "the console on B sees the agent that joined A");

    t.equal((await aliceOnB.post(`/api/sessions/${session.id}/permission`)).status, 200);
    const ask = await agent.next("consent.request");
    t.equal(ask.technician.id, alice.id, "the permission asked on B reaches the agent on A");
    agent.send({ type: "consent", requestId: ask.requestId, decision: "control" });
    await consoleB.next("session.updated", (m) =>
      m.session.permissions.some((p) => p.technicianId === alice.id && p.state === "granted"),
    );

    consoleB.send({ type: "remote.connect", sessionId: session.id });
    const opened = await consoleB.next("remote.opened");
    const peerOpen = await agent.next("peer.open");
    t.equal(peerOpen.peerId, opened.peerId, "agent on A and console on B share one peer");

    agent.send({ type: "signal", peerId: peerOpen.peerId, data: BIG_OFFER });
    t.same((await consoleB.next("remote.signal")).data, BIG_OFFER, "the large offer crosses unchanged");
    agent.send({ type: "signal", peerId: peerOpen.peerId, data: CANDIDATE });
    t.same((await consoleB.next("remote.signal")).data, CANDIDATE, "then the agent's candidate, in order");
    consoleB.send({ type: "signal", sessionId: session.id, data: ANSWER });
    consoleB.send({ type: "signal", sessionId: session.id, data: CANDIDATE });
    const answer = await agent.next("signal");
    t.same(answer.data, ANSWER, "the answer from B reaches the agent on A");
    t.equal(answer.peerId, peerOpen.peerId);
    t.same((await agent.next("signal")).data, CANDIDATE, "then the console's candidate, in order");
    agent.send({ type: "signal", peerId: "not-a-peer", data: CANDIDATE });
    t.equal((await agent.next("error")).error.code, "PEER_NOT_FOUND", "an unknown peer is still refused");

    const viewers = await consoleA.next("session.updated", (m) => m.session.viewers.includes(alice.id));
    t.same(viewers.session.viewers, [alice.id], "a console on A sees the view held on B");

    // The agent on A reports a file that moved over Alice's view, whose console is on B: taken
    // (answered with nothing, so the refused signal after it is the next error) and audited.
    const file = { direction: "to_end_user", name: "a.txt", size: 3, sha256: "0".repeat(64) } as const;
    agent.send({ type: "file.transferred", technicianId: alice.id, ...file });
    agent.send({ type: "signal", peerId: "not-a-peer", data: CANDIDATE });
    t.equal(
      (await agent.next("error")).inReplyTo,
      "signal",
      "the report of a file over a view on B is taken",
    );
    const audited = async () =>
      (
        (await a.admin.get(`/api/audit?action=session.file&sessionId=${session.id}`)).body as {
          entries: Array<{ detail: Record<string, unknown> }>;
        }
      ).entries;
    let entries = await audited();
    // Written a moment after it was taken (the audit's own write, never the report's failure).
    for (const deadline = Date.now() + 5_000; entries.length === 0 && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      entries = await audited();
    }
    t.same(
      entries.map((entry) => entry.detail),
      [{ technicianId: alice.id, peerId: opened.peerId, ...file }],
      "session.file with the view on B",
    );

    t.equal((await alice.client.post(`/api/sessions/${session.id}/close`)).status, 200);
    t.equal((await agent.next("session.ended")).reason, "closed", "closed on A, the agent is told");
    t.equal((await consoleB.next("remote.closed")).reason, "session_closed", "the view on B closes");
    const late = await joinAgent(b.url, { kind: "pin", pin: session.pin }).then(
      ({ socket }) => {
        socket.close();
        return "joined";
      },
      (error: unknown) => (error instanceof JoinRefused ? error.code : String(error)),
    );
    t.equal(late, "SESSION_NOT_FOUND", "the closed session's PIN does not join on B a moment later");
  },
);

t.test("chat crosses instances: the agent on A and the technician's console on B", async (t) => {
  const dora = await a.technician("Dora");
  const session = await a.newSession(dora.client);
  const consoleB = await openConsoleSocket(via(dora.client, b.url));
  t.teardown(() => consoleB.close());
  await consoleB.next("sessions");
  const { socket: agent } = await joinAgent(a.url, { kind: "pin", pin: session.pin });
  t.teardown(() => agent.close());
  await consoleB.next("session.updated", (m) => m.session.id === session.id && m.session.agent.connected);

  consoleB.send({ type: "chat.send", sessionId: session.id, text: "Hello from B" });
  const heard = await agent.next("chat", (m) => m.text === "Hello from B");
  t.equal(heard.from.id, dora.id, "the agent on A gets the line typed on B, with its author");
  agent.send({ type: "chat", text: "Hello from the end user" });
  const line = await consoleB.next("chat.line", (m) => m.line.text === "Hello from the end user");
  t.equal(line.line.kind, "enduser", "the end user's line reaches the console on B");
});

t.test("an agent that resumes on B replaces its connection on A; the session ends there too", async (t) => {
  const bob = await a.technician("Bob");
  const session = await a.newSession(bob.client);
  const { socket: first, welcome } = await joinAgent(a.url, { kind: "pin", pin: session.pin });
  t.teardown(() => first.close());
  const { socket: second } = await joinAgent(b.url, {
    kind: "resume",
    sessionId: welcome.resume.sessionId,
    secret: welcome.resume.secret,
  });
  t.teardown(() => second.close());
  t.equal((await first.next("session.ended")).reason, "replaced", "the older connection on A is told");
  t.equal((await first.closed).code > 0, true);
  t.equal((await bob.client.post(`/api/sessions/${session.id}/close`)).status, 200);
  t.equal((await second.next("session.ended")).reason, "closed", "closed on A, the agent on B is told");
});

t.test("a technician disabled on A loses their console on B", async (t) => {
  const carol = await a.technician("Carol");
  const consoleB = await openConsoleSocket(via(carol.client, b.url));
  await consoleB.next("sessions");
  t.equal((await a.admin.patch(`/api/technicians/${carol.id}`, { disabled: true })).status, 200);
  t.equal((await consoleB.closed).reason, "account disabled");
});

t.test("an instance started after a view opened relays its signals once the agent moves there", async (t) => {
  const gina = await a.technician("Gina");
  const session = await a.newSession(gina.client);
  const { socket: first, welcome } = await joinAgent(a.url, { kind: "pin", pin: session.pin });
  t.teardown(() => first.close());
  const consoleA = await openConsoleSocket(gina.client);
  t.teardown(() => consoleA.close());
  await gina.client.post(`/api/sessions/${session.id}/permission`);
  const ask = await first.next("consent.request");
  first.send({ type: "consent", requestId: ask.requestId, decision: "view" });
  await consoleA.next("session.updated", (m) => m.session.permissions.some((p) => p.state === "granted"));
  consoleA.send({ type: "remote.connect", sessionId: session.id });
  const { peerId } = await first.next("peer.open");

  // A rolling restart: a new instance D comes up, and the agent's connection moves to it.
  const dataDir = mkdtempSync(join(tmpdir(), "sos-gateway-d-"));
  const d = await startGateway(
    { port: 0, host: "127.0.0.1", dataDir, databaseUrl: database.url, logLevel: "silent" },
    CLUSTER_TIMING,
  );
  t.teardown(async () => {
    await d.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const { socket: moved } = await joinAgent(d.url, {
    kind: "resume",
    sessionId: welcome.resume.sessionId,
    secret: welcome.resume.secret,
  });
  t.teardown(() => moved.close());
  await first.next("session.ended");
  moved.send({ type: "signal", peerId, data: CANDIDATE });
  t.same((await consoleA.next("remote.signal")).data, CANDIDATE, "D knows the view A holds and relays to it");
  consoleA.send({ type: "signal", sessionId: session.id, data: ANSWER });
  t.same((await moved.next("signal")).data, ANSWER, "and the console's answer reaches the agent on D");
  moved.send({ type: "revoke", technicianId: gina.id });
  t.equal((await consoleA.next("remote.closed")).reason, "revoked", "revoked on D, the view on A closes");
  t.equal((await moved.next("peer.close")).peerId, peerId, "and the agent on D is told");
});

/**
 * Waits until B has handled everything A published so far: A's bus messages arrive in order, so
 * once a console on B sees a session A creates now, B has counted A's earlier attempts too.
 */
async function settled(): Promise<void> {
  const frank = await a.technician("Frank");
  const consoleB = await openConsoleSocket(via(frank.client, b.url));
  await consoleB.next("sessions");
  const session = await a.newSession(frank.client);
  await consoleB.next("session.updated", (m) => m.session.id === session.id);
  consoleB.close();
}

t.test("the PIN guard and the sign-in throttle count attempts made on every instance", async (t) => {
  const erin = await a.technician("Erin");
  const session = await a.newSession(erin.client);
  const from = { "x-forwarded-for": "198.51.100.7" };
  const wrongPin = session.pin === "000000000" ? "000000001" : "000000000";
  for (let i = 0; i < 5; i += 1) {
    const refused = await joinAgent(a.url, { kind: "pin", pin: wrongPin }, TEST_DEVICE, from).catch(
      (error: unknown) => (error instanceof JoinRefused ? error.code : String(error)),
    );
    t.equal(refused, "SESSION_NOT_FOUND", `wrong PIN ${i + 1} on A`);
  }
  for (let i = 0; i < 5; i += 1) {
    t.equal((await new ApiClient(a.url).signIn(erin.email, "wrong-password")).status, 401);
  }
  await settled();
  const onB = await joinAgent(b.url, { kind: "pin", pin: session.pin }, TEST_DEVICE, from).catch(
    (error: unknown) => (error instanceof JoinRefused ? error.code : String(error)),
  );
  t.equal(
    onB,
    "PIN_RATE_LIMITED",
    "the address that guessed on A is held back on B, even with the right PIN",
  );
  const signIn = await new ApiClient(b.url).signIn(erin.email, PASSWORD);
  t.equal(errorCode(signIn.body), "SIGNIN_THROTTLED", "the account guessed on A is throttled on B");
});

t.test("an instance killed with SIGKILL is declared gone: a survivor shows its agent offline", async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), "sos-gateway-c-"));
  const c = startGatewayProcess(
    ["--port", "0", "--host", "127.0.0.1", "--data-dir", dataDir, "--database-url", database.url],
    {},
  );
  t.teardown(async () => {
    await c.kill();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const cUrl = (await c.waitFor(/listening on (\S+)\)/))[1] ?? "";
  const dave = await a.technician("Dave");
  const consoleA = await openConsoleSocket(dave.client);
  t.teardown(() => consoleA.close());
  const session = await a.newSession(dave.client);
  const agent = await openAgentSocket(cUrl);
  agent.send({
    type: "hello",
    v: PROTOCOL_VERSION,
    join: { kind: "pin", pin: session.pin },
    device: TEST_DEVICE,
  });
  const welcome = await agent.next("welcome");
  await consoleA.next("session.updated", (m) => m.session.id === session.id && m.session.agent.connected);

  const killedAt = Date.now();
  await c.kill();
  const offline = await consoleA.next(
    "session.updated",
    (m) => m.session.id === session.id && m.session.status === "Active" && !m.session.agent.connected,
    15_000,
  );
  t.equal(offline.session.status, "Active", "the session waits for its agent (resume grace)");
  t.comment(`declared gone ${Date.now() - killedAt} ms after SIGKILL`);
  const { socket: back } = await joinAgent(a.url, {
    kind: "resume",
    sessionId: welcome.resume.sessionId,
    secret: welcome.resume.secret,
  });
  t.teardown(() => back.close());
  await consoleA.next("session.updated", (m) => m.session.id === session.id && m.session.agent.connected);
  t.pass("the agent resumed on the survivor");
});
