import { createHmac } from "node:crypto";
import type { Test } from "tap";
import t from "tap";
import type { IceServer } from "../../shared/signal.ts";
import {
  type ApiClient,
  type ConsoleSocket,
  joinAgent,
  openConsoleSocket,
  startTestGateway,
  TestClock,
} from "../helpers/gateway.ts";
import { CapturedLog } from "../helpers/security.ts";

const SECRET = "gateway-turn-secret-7f3a9c1e5b";
const STUN = "stun:relay.sos.test:3478";
const TURN_UDP = "turn:relay.sos.test:3478?transport=udp";
const TURN_TCP = "turn:relay.sos.test:3478?transport=tcp";
const TURN_TLS = "turns:relay.sos.test:443?transport=tcp";
const TTL_SECONDS = 3600;

/** The RFC's scheme, computed independently: base64(HMAC-SHA1(secret, username)). */
function expectedCredential(username: string): string {
  return createHmac("sha1", SECRET).update(username).digest("base64");
}

/** Every text frame a socket receives, from now on (the test's own record, beside the queue). */
function recordFrames(socket: {
  socket: { on(event: "message", listener: (data: Buffer) => void): unknown };
}) {
  const frames: string[] = [];
  socket.socket.on("message", (data: Buffer) => frames.push(data.toString()));
  return frames;
}

function turnServer(iceServers: readonly IceServer[]): IceServer {
  const turn = iceServers.find((server) => server.urls.some((url) => /^turns?:/.test(url)));
  if (turn === undefined) throw new Error(`no TURN server in ${JSON.stringify(iceServers)}`);
  return turn;
}

async function grantAndConnect(
  tech: { client: ApiClient; id: string },
  consoleSocket: ConsoleSocket,
  agent: Awaited<ReturnType<typeof joinAgent>>["socket"],
  sessionId: string,
) {
  await tech.client.post(`/api/sessions/${sessionId}/permission`);
  const ask = await agent.next("consent.request", (m) => m.technician.id === tech.id);
  agent.send({ type: "consent", requestId: ask.requestId, decision: "control" });
  await consoleSocket.next("session.updated", (m) =>
    m.session.permissions.some((p) => p.technicianId === tech.id && p.state === "granted"),
  );
  consoleSocket.send({ type: "remote.connect", sessionId });
  const opened = await consoleSocket.next("remote.opened");
  const peerOpen = await agent.next("peer.open", (m) => m.peerId === opened.peerId);
  return { opened, peerOpen };
}

async function relayGateway(t: Test, log: CapturedLog, clock = new TestClock()) {
  const gw = await startTestGateway({
    config: {
      iceUrls: [STUN],
      // Given out of order: the gateway hands them out UDP, TCP, TLS.
      turnUrls: [TURN_TLS, TURN_TCP, TURN_UDP],
      turnSecret: SECRET,
      turnTtlSeconds: TTL_SECONDS,
    },
    options: { log: log.logger, clock },
  });
  t.teardown(() => gw.close());
  return gw;
}

t.test(
  "a remote view's console and agent get one TURN credential for its peer; nobody else sees it or the secret",
  async (t) => {
    const log = new CapturedLog("debug");
    const clock = new TestClock();
    const gw = await relayGateway(t, log, clock);
    const alice = await gw.technician("Alice");
    const bob = await gw.technician("Bob");
    const session = await gw.newSession(alice.client);
    t.equal(
      (await alice.client.post(`/api/sessions/${session.id}/invite`, { technicianIds: [bob.id] })).status,
      200,
    );

    const aliceConsole = await openConsoleSocket(alice.client);
    t.teardown(() => aliceConsole.close());
    const aliceFrames = recordFrames(aliceConsole);
    const bobConsole = await openConsoleSocket(bob.client);
    t.teardown(() => bobConsole.close());
    const bobFrames = recordFrames(bobConsole);
    const { socket: agent, welcome } = await joinAgent(gw.url, { kind: "pin", pin: session.pin });
    t.teardown(() => agent.close());
    const agentFrames = recordFrames(agent);

    t.same(
      welcome.iceServers,
      [{ urls: [STUN] }],
      "the welcome carries the STUN list and no TURN credential",
    );
    t.notMatch(JSON.stringify(welcome), /turns?:|username|credential/, "nor any TURN URL");

    const { opened, peerOpen } = await grantAndConnect(alice, aliceConsole, agent, session.id);
    const turn = turnServer(opened.iceServers);
    t.same(turn.urls, [TURN_UDP, TURN_TCP, TURN_TLS], "TURN URLs in the order UDP, TCP, TLS");
    t.same(opened.iceServers[0], { urls: [STUN] }, "the STUN list comes first, without a credential");
    const username = turn.username ?? "";
    const [expiry, peerId] = username.split(":");
    t.equal(peerId, opened.peerId, "the username names the view's peer");
    t.equal(
      Number(expiry),
      Math.floor(clock.now() / 1000) + TTL_SECONDS,
      "its expiry is now plus the TTL, in unix seconds",
    );
    t.equal(
      turn.credential,
      expectedCredential(username),
      "the credential is base64(HMAC-SHA1(secret, username))",
    );
    t.same(peerOpen.iceServers, opened.iceServers, "the agent's peer.open carries the same ICE servers");

    // Bob, on the same session, opens his own view: his own credential, never Alice's.
    const bobView = await grantAndConnect(bob, bobConsole, agent, session.id);
    const bobTurn = turnServer(bobView.opened.iceServers);
    t.equal(bobTurn.username?.split(":")[1], bobView.opened.peerId, "Bob's credential names Bob's peer");
    t.not(bobTurn.credential, turn.credential);
    t.equal(bobView.peerOpen.iceServers?.[1]?.credential, bobTurn.credential);

    // The console's path report is audited once per view and path.
    aliceConsole.send({ type: "remote.path", sessionId: session.id, path: "direct" });
    aliceConsole.send({ type: "remote.path", sessionId: session.id, path: "direct" });
    aliceConsole.send({ type: "remote.path", sessionId: session.id, path: "relay-tcp" });
    bobConsole.send({ type: "remote.path", sessionId: session.id, path: "relay-udp" });
    // Messages of one socket are handled in order: the answer to a report on no view comes after.
    aliceConsole.send({ type: "remote.path", sessionId: "no-such-session", path: "direct" });
    t.equal(
      (await aliceConsole.next("error")).error.code,
      "PEER_NOT_FOUND",
      "a path for no open view is refused",
    );
    bobConsole.send({ type: "remote.path", sessionId: "no-such-session", path: "direct" });
    await bobConsole.next("error");
    const audit = await gw.admin.get(`/api/audit?sessionId=${session.id}`);
    const entries = (audit.body as { entries: Array<{ action: string; detail: Record<string, unknown> }> })
      .entries;
    // In each console's order; the two consoles' reports may interleave.
    const paths = entries
      .filter((entry) => entry.action === "session.remote_path")
      .map((entry) => entry.detail)
      .reverse();
    t.same(
      [
        ...paths.filter((detail) => detail.peerId === opened.peerId),
        ...paths.filter((detail) => detail.peerId !== opened.peerId),
      ],
      [
        { peerId: opened.peerId, path: "direct" },
        { peerId: opened.peerId, path: "relay-tcp" },
        { peerId: bobView.opened.peerId, path: "relay-udp" },
      ],
      "session.remote_path: each view's paths, once each",
    );
    const connected = entries.find(
      (entry) => entry.action === "session.remote_connected" && entry.detail.peerId === opened.peerId,
    );
    t.equal(
      connected?.detail.relayCredentialExpiresAt,
      new Date(Number(expiry) * 1000).toISOString(),
      "the audit says until when the view's relay credential is valid",
    );

    // Nobody else: Bob's frames never carry Alice's credential, Alice's never Bob's, no console's hello any.
    const bobText = bobFrames.join("\n");
    t.notOk(bobText.includes(turn.credential ?? "?"), "Bob's console never sees Alice's credential");
    t.notOk(bobText.includes(username), "nor her TURN username");
    t.notOk(aliceFrames.join("\n").includes(bobTurn.credential ?? "?"), "Alice's never sees Bob's");
    for (const frames of [aliceFrames, bobFrames]) {
      const before = frames.filter((frame) => !frame.includes('"remote.opened"'));
      t.notMatch(
        before.join("\n"),
        /"credential"|turns?:/,
        "no other console message carries TURN URLs or credentials",
      );
    }
    const helloAgain = await openConsoleSocket(alice.client);
    t.teardown(() => helloAgain.close());
    const sessions = await helloAgain.next("sessions");
    t.notMatch(JSON.stringify(sessions), /credential|turns?:/, "nor the session list of a new console");
    t.notOk(
      agentFrames.some((frame) => frame.includes(turn.credential ?? "?") && !frame.includes(opened.peerId)),
      "the agent sees the credential only in the peer.open of that peer",
    );

    const published = await Promise.all(
      ["/healthz", "/api/protocol.json", "/api/openapi.json", `/api/audit?sessionId=${session.id}`].map(
        async (path) => ({ path, text: JSON.stringify((await gw.admin.get(path)).body) }),
      ),
    );
    for (const { path, text } of published)
      t.notOk(text.includes(SECRET), `${path} does not carry the secret`);
    t.notOk(published.at(-1)?.text.includes(turn.credential ?? "?"), "the audit does not carry a credential");

    // Closed: the views end, and no view opens again (so no credential is minted again).
    t.equal((await alice.client.post(`/api/sessions/${session.id}/close`)).status, 200);
    t.equal((await aliceConsole.next("remote.closed")).reason, "session_closed");
    aliceConsole.send({ type: "remote.connect", sessionId: session.id });
    const refused = await aliceConsole.next("error");
    t.equal(refused.error.code, "INVALID_TRANSITION", "a view of a closed session is refused");
    t.notOk(
      aliceConsole.received.some((m) => m.type === "remote.opened"),
      "and no remote.opened (no credential) follows",
    );

    t.equal(log.logger.level, "debug", "the whole flow was logged at debug level");
    t.ok(log.lines.length > 0, "and the log holds its lines");
    const logText = log.lines.map((line) => line.text).join("\n");
    t.notOk(logText.includes(SECRET), "the secret never appears in the debug log");
    t.notOk(logText.includes(turn.credential ?? "?"), "nor a minted credential");
    t.equal(
      JSON.stringify(gw.gateway.config).includes(SECRET),
      false,
      "the gateway's config prints the secret as [redacted]",
    );
  },
);

t.test(
  "a credential never outlives the session: the TTL is capped at the channel's session expiry",
  async (t) => {
    const log = new CapturedLog("info");
    const clock = new TestClock();
    const gw = await relayGateway(t, log, clock);
    const alice = await gw.technician("Alice");
    const channel = await gw.admin.post("/api/channels", {
      name: "Short desk",
      sessionExpiryMinutes: 20,
      access: [alice.id],
    });
    t.equal(channel.status, 200);
    const session = await gw.newSession(
      alice.client,
      (channel.body as { channel: { id: string } }).channel.id,
    );
    const aliceConsole = await openConsoleSocket(alice.client);
    t.teardown(() => aliceConsole.close());
    const { socket: agent } = await joinAgent(gw.url, { kind: "pin", pin: session.pin });
    t.teardown(() => agent.close());
    const { opened } = await grantAndConnect(alice, aliceConsole, agent, session.id);
    const expiry = Number(turnServer(opened.iceServers).username?.split(":")[0]);
    t.equal(expiry, Math.floor(clock.now() / 1000) + 20 * 60, "20 minutes, not the hour of --turn-ttl");
  },
);

t.test("without a relay, the ICE servers are the --ice-url list as before, with no credential", async (t) => {
  const gw = await startTestGateway({ config: { iceUrls: [STUN] } });
  t.teardown(() => gw.close());
  const alice = await gw.technician("Alice");
  const session = await gw.newSession(alice.client);
  const aliceConsole = await openConsoleSocket(alice.client);
  t.teardown(() => aliceConsole.close());
  const { socket: agent, welcome } = await joinAgent(gw.url, { kind: "pin", pin: session.pin });
  t.teardown(() => agent.close());
  t.same(welcome.iceServers, [{ urls: [STUN] }]);
  const { opened, peerOpen } = await grantAndConnect(alice, aliceConsole, agent, session.id);
  t.same(opened.iceServers, [{ urls: [STUN] }]);
  t.same(peerOpen.iceServers, [{ urls: [STUN] }]);
});

/** The expiry (ms) and peer id a TURN username names. */
function usernameOf(iceServers: readonly IceServer[]): { expiresAt: number; peerId: string } {
  const [expiry, peerId] = (turnServer(iceServers).username ?? "").split(":");
  return { expiresAt: Number(expiry) * 1000, peerId: peerId ?? "" };
}

/** The frames after the first that matches `marker` (all of them when none does yet). */
function framesAfter(frames: readonly string[], marker: RegExp): string[] {
  return frames.slice(frames.findIndex((frame) => marker.test(frame)) + 1);
}

/** Resolves once the wall clock has passed `at` (ms): nothing can be awaited for a message that must not come. */
function pastTime(at: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now()) + 500));
}

t.test(
  "an open view's two parties get a fresh credential before the current one expires; nobody else, and never once closed",
  async (t) => {
    const log = new CapturedLog("debug");
    // The system clock: renewals run on real timers. Three seconds, below --turn-ttl's floor (tests only).
    const gw = await startTestGateway({
      config: { iceUrls: [STUN], turnUrls: [TURN_UDP, TURN_TCP], turnSecret: SECRET },
      options: { log: log.logger, turnTtlSeconds: 3 },
    });
    t.teardown(() => gw.close());
    const alice = await gw.technician("Alice");
    const bob = await gw.technician("Bob");
    const session = await gw.newSession(alice.client);
    t.equal(
      (await alice.client.post(`/api/sessions/${session.id}/invite`, { technicianIds: [bob.id] })).status,
      200,
    );
    const aliceConsole = await openConsoleSocket(alice.client);
    t.teardown(() => aliceConsole.close());
    // Alice's second tab and Bob's console see the session but hold no view of it.
    const aliceOther = await openConsoleSocket(alice.client);
    t.teardown(() => aliceOther.close());
    const otherFrames = recordFrames(aliceOther);
    const bobConsole = await openConsoleSocket(bob.client);
    t.teardown(() => bobConsole.close());
    const bobFrames = recordFrames(bobConsole);
    const aliceFrames = recordFrames(aliceConsole);
    const { socket: agent } = await joinAgent(gw.url, { kind: "pin", pin: session.pin });
    t.teardown(() => agent.close());
    const agentFrames = recordFrames(agent);

    const { opened } = await grantAndConnect(alice, aliceConsole, agent, session.id);
    const first = usernameOf(opened.iceServers);
    let current = first.expiresAt;
    for (const round of [1, 2]) {
      const renewed = await aliceConsole.next("remote.ice", () => true, 10_000);
      const arrivedAt = Date.now();
      const peerIce = await agent.next("peer.ice", (m) => m.peerId === opened.peerId, 10_000);
      t.ok(
        arrivedAt < current,
        `renewal ${round} reaches the console before the credential it replaces expires`,
      );
      t.equal(renewed.sessionId, session.id);
      const turn = turnServer(renewed.iceServers);
      const next = usernameOf(renewed.iceServers);
      t.equal(next.peerId, opened.peerId, `renewal ${round} is minted for the view's peer`);
      t.ok(next.expiresAt > current, `renewal ${round} expires later than the one before`);
      t.equal(turn.credential, expectedCredential(turn.username ?? ""), "and validates against the secret");
      t.same(turn.urls, [TURN_UDP, TURN_TCP], "with the same TURN URLs");
      t.same(renewed.iceServers[0], { urls: [STUN] }, "after the same STUN list");
      t.same(peerIce.iceServers, renewed.iceServers, "the agent gets the same servers in peer.ice");
      current = next.expiresAt;
    }
    for (const [who, frames] of [
      ["Alice's second tab", otherFrames],
      ["Bob's console", bobFrames],
    ] as const) {
      t.notMatch(frames.join("\n"), /remote\.ice|"credential"/, `${who} gets no renewal`);
    }
    const logText = log.lines.map((line) => line.text).join("\n");
    t.notMatch(logText, /"credential"|turns?:/, "no renewed credential is logged");
    t.notOk(logText.includes(SECRET), "nor the secret");

    // The view closes: no renewal after its remote.closed, even past the last credential's expiry.
    aliceConsole.send({ type: "remote.disconnect", sessionId: session.id });
    await agent.next("peer.close", (m) => m.peerId === opened.peerId);
    await aliceConsole.next("remote.closed");
    // While Alice's last credential runs out, Bob opens his view (its renewals name his peer).
    const alicePast = pastTime(current);

    // Bob's view, then the session closes: no renewal after.
    const bobView = await grantAndConnect(bob, bobConsole, agent, session.id);
    const bobRenewed = await bobConsole.next("remote.ice", () => true, 10_000);
    t.equal(
      usernameOf(bobRenewed.iceServers).peerId,
      bobView.opened.peerId,
      "Bob's view renews his own peer",
    );
    await agent.next("peer.ice", (m) => m.peerId === bobView.opened.peerId, 10_000);

    await alicePast;
    t.notMatch(
      framesAfter(aliceFrames, /"remote\.closed"/).join("\n"),
      /remote\.ice/,
      "a closed view's console gets no renewal after its remote.closed",
    );
    t.notOk(
      framesAfter(agentFrames, /"peer\.close"/).some(
        (frame) => /"peer\.ice"/.test(frame) && frame.includes(`"${opened.peerId}"`),
      ),
      "nor its agent after its peer.close",
    );
    t.equal((await alice.client.post(`/api/sessions/${session.id}/close`)).status, 200);
    t.equal((await bobConsole.next("remote.closed")).reason, "session_closed");
    await agent.next("session.ended");
    await pastTime(usernameOf(bobRenewed.iceServers).expiresAt);
    t.notMatch(
      framesAfter(bobFrames, /"remote\.closed"/).join("\n"),
      /remote\.ice/,
      "a closed session's view gets no renewal after its remote.closed",
    );
    t.notMatch(
      framesAfter(agentFrames, /"session\.ended"/).join("\n"),
      /peer\.ice/,
      "nor does its agent after session.ended",
    );
    const health = (await gw.admin.get("/healthz")).body as { jobs: unknown[] };
    t.same(health.jobs, [], "no renewal job is failing");
  },
);
