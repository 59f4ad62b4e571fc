import t, { type Test } from "tap";
import { WebSocket } from "ws";
import {
  MAX_JSON_DEPTH,
  MAX_QUEUED_SOCKET_MESSAGES,
  MAX_SOCKET_FRAME_BYTES,
  PROTOCOL_VERSION,
} from "../../../shared/limits.ts";
import {
  type AgentSocket,
  type ConsoleSocket,
  joinAgent,
  openAgentSocket,
  openConsoleSocket,
  startTestGateway,
  TEST_DEVICE,
  type TestGateway,
  wsUrl,
} from "../../helpers/gateway.ts";
import { deadline, SDP_ANSWER, tryUpgrade } from "../../helpers/security.ts";

/**
 * Oversize and malformed frames (ws GHSA-6663-c963-2gqg: unbounded payloads crashed servers).
 * A frame above the limit closes that socket with 1009 before it is buffered; malformed, truncated,
 * deeply nested or wrongly typed messages get an error code and the socket stays usable; nothing
 * else is disturbed.
 */

const UNKNOWN_PEER = "00000000-0000-4000-8000-000000000000";

/** A JSON text of exactly `bytes` bytes (padded with spaces, which JSON allows). */
function padded(message: object, bytes: number): string {
  const text = JSON.stringify(message);
  return text + " ".repeat(bytes - Buffer.byteLength(text));
}

/** An object `depth` levels deep in total, as the message `{ type, x: {...} }`. */
function nested(type: string, depth: number): string {
  let inner = "{}";
  for (let level = 2; level < depth; level += 1) inner = `{"a":${inner}}`;
  return `{"type":"${type}","x":${inner}}`;
}

/** A joined agent is alive and answering: a signal to an unknown peer gets PEER_NOT_FOUND. */
async function agentAnswers(agent: AgentSocket): Promise<string> {
  agent.send({ type: "signal", peerId: UNKNOWN_PEER, data: SDP_ANSWER });
  return (await agent.next("error")).error.code;
}

/** A console is alive and answering: disconnecting a view it does not have gets PEER_NOT_FOUND. */
async function consoleAnswers(consoleSocket: ConsoleSocket): Promise<string> {
  consoleSocket.send({ type: "remote.disconnect", sessionId: UNKNOWN_PEER });
  return (await consoleSocket.next("error")).error.code;
}

async function bystanders(t: Test, gw: TestGateway) {
  const tech = await gw.technician("Betty Bystander");
  const session = await gw.newSession(tech.client);
  const { socket: agent } = await joinAgent(gw.url, { kind: "link", token: session.token });
  t.teardown(() => agent.close());
  const consoleSocket = await openConsoleSocket(tech.client);
  t.teardown(() => consoleSocket.close());
  await consoleSocket.next("sessions");
  return { tech, agent, consoleSocket };
}

t.test("a frame above 64 KiB closes that socket with 1009, and nobody else is disturbed", async (t) => {
  const gw = await startTestGateway();
  t.teardown(() => gw.close());
  const { tech, agent: bystander, consoleSocket: bystanderConsole } = await bystanders(t, gw);

  const exact = await openAgentSocket(gw.url);
  t.teardown(() => exact.close());
  exact.send(padded({ type: "end" }, MAX_SOCKET_FRAME_BYTES));
  t.equal(
    (await exact.next("error")).error.code,
    "NOT_JOINED",
    "a frame of exactly 64 KiB is read and answered",
  );

  const unjoined = await openAgentSocket(gw.url);
  unjoined.send(padded({ type: "end" }, MAX_SOCKET_FRAME_BYTES + 1));
  t.equal(
    (await deadline(unjoined.closed, "the close")).code,
    1009,
    "one byte more closes an agent socket before hello with 1009",
  );

  const session = await gw.newSession(tech.client);
  const { socket: joined } = await joinAgent(gw.url, { kind: "pin", pin: session.pin });
  joined.send("x".repeat(4 * MAX_SOCKET_FRAME_BYTES));
  t.equal(
    (await deadline(joined.closed, "the close")).code,
    1009,
    "a joined agent socket is closed with 1009 too",
  );

  const consoleAttacker = await openConsoleSocket(tech.client);
  consoleAttacker.send(
    padded({ type: "remote.disconnect", sessionId: session.id }, MAX_SOCKET_FRAME_BYTES + 1),
  );
  t.equal(
    (await deadline(consoleAttacker.closed, "the close")).code,
    1009,
    "a console socket is closed with 1009",
  );

  const fragmented = await openAgentSocket(gw.url);
  const half = Buffer.alloc(MAX_SOCKET_FRAME_BYTES / 2 + 1, 0x20);
  fragmented.socket.send(half, { fin: false, binary: false });
  fragmented.socket.send(half, { fin: true, binary: false });
  t.equal(
    (await deadline(fragmented.closed, "the close")).code,
    1009,
    "fragments adding up to more than 64 KiB close it with 1009",
  );

  const deflating = new WebSocket(wsUrl(gw.url, "/ws/agent"), { perMessageDeflate: true });
  const deflatingClosed = new Promise<number>((resolve) => deflating.once("close", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    deflating.once("open", () => resolve());
    deflating.once("error", reject);
  });
  deflating.send(" ".repeat(16 * MAX_SOCKET_FRAME_BYTES));
  t.equal(
    await deadline(deflatingClosed, "the close"),
    1009,
    "compression does not get a larger message past the limit",
  );

  const bystanderNow = await agentAnswers(bystander);
  t.equal(bystanderNow, "PEER_NOT_FOUND", "another agent socket on the gateway still answers");
  t.equal(await consoleAnswers(bystanderConsole), "PEER_NOT_FOUND", "a console socket still answers");
  const health = await gw.anonymous().get("/healthz");
  t.match(
    health.body,
    { ok: true, agents: 1, consoles: 1 },
    "the gateway is up with only the bystanders left",
  );
});

t.test("a frame header announcing 4 GiB is refused with 1009 before any payload is sent", async (t) => {
  const gw = await startTestGateway();
  t.teardown(() => gw.close());
  const upgrade = await tryUpgrade(gw.url, "/ws/agent", {});
  if (!upgrade.upgraded) throw new Error(`upgrade refused: ${upgrade.status}`);
  const raw = upgrade.socket;
  t.teardown(() => raw.destroy());
  const received: Buffer[] = [];
  const closeFrame = new Promise<Buffer>((resolve) => {
    raw.on("data", (chunk: Buffer) => {
      received.push(chunk);
      const all = Buffer.concat(received);
      if (all.length >= 4) resolve(all);
    });
  });
  // FIN + text, masked, 64-bit length 2^32, masking key; and no payload at all.
  const header = Buffer.alloc(14);
  header[0] = 0x81;
  header[1] = 0x80 | 127;
  header.writeBigUInt64BE(2n ** 32n, 2);
  header.writeUInt32BE(0x01020304, 10);
  raw.write(header);
  const frame = await deadline(closeFrame, "a close frame");
  t.equal(frame[0], 0x88, "the gateway answers with a close frame");
  t.equal(frame.readUInt16BE(2), 1009, "with code 1009 (message too big)");
  const health = await gw.anonymous().get("/healthz");
  t.match(health.body, { ok: true }, "the gateway is up");
});

t.test("malformed agent messages get error codes and the socket stays usable", async (t) => {
  const gw = await startTestGateway();
  t.teardown(() => gw.close());
  const { tech, agent: bystander } = await bystanders(t, gw);
  const session = await gw.newSession(tech.client);
  const agent = await openAgentSocket(gw.url);
  t.teardown(() => agent.close());

  const expect = async (frame: string | Buffer, code: string, what: string) => {
    agent.socket.send(frame);
    const error = await agent.next("error");
    t.equal(error.error.code, code, `${what}: ${code}`);
    return error;
  };
  const validHello = {
    type: "hello",
    v: PROTOCOL_VERSION,
    join: { kind: "pin", pin: session.pin },
    device: TEST_DEVICE,
  };

  await expect("this is not json{", "BAD_REQUEST", "not JSON");
  await expect('{"type":"hello","v":1,"join":{"kind":"pi', "BAD_REQUEST", "truncated JSON");
  for (const scalar of ["null", "42", '"hello"', "[]", "true"]) {
    await expect(scalar, "BAD_REQUEST", `the JSON value ${scalar}`);
  }
  await expect("{}", "BAD_REQUEST", "no type");
  await expect('{"type":"format-disk"}', "BAD_REQUEST", "an unknown type");
  const wrongTypes = await expect(
    JSON.stringify({ ...validHello, v: "1", join: { kind: "pin", pin: 123456789 } }),
    "BAD_REQUEST",
    "wrongly typed fields",
  );
  t.ok((wrongTypes.error.issues ?? []).length > 0, "the error lists what was wrong");
  await expect(
    JSON.stringify({ ...validHello, device: { ...TEST_DEVICE, hostname: "h".repeat(10_000) } }),
    "BAD_REQUEST",
    "an over-long device field",
  );
  await expect(Buffer.from([0xde, 0xad, 0xbe, 0xef]), "BAD_REQUEST", "a binary frame");
  await expect(nested("end", MAX_JSON_DEPTH), "NOT_JOINED", `${MAX_JSON_DEPTH} levels deep is read`);
  await expect(nested("end", MAX_JSON_DEPTH + 1), "BAD_REQUEST", `${MAX_JSON_DEPTH + 1} levels deep`);
  const deepest = Math.floor((MAX_SOCKET_FRAME_BYTES - 2) / 2);
  await expect(`${"[".repeat(deepest)}${"]".repeat(deepest)}`, "BAD_REQUEST", `${deepest} nested arrays`);
  await expect('{"type":"end","__proto__":{"polluted":true}}', "NOT_JOINED", "a __proto__ key");
  t.equal(
    Object.getOwnPropertyDescriptor(Object.prototype, "polluted"),
    undefined,
    "no prototype was polluted",
  );
  await expect('{"type":"end"}', "NOT_JOINED", "end before hello");
  await expect(
    JSON.stringify({ type: "signal", peerId: UNKNOWN_PEER, data: SDP_ANSWER }),
    "NOT_JOINED",
    "signal",
  );
  await expect(
    JSON.stringify({ type: "consent", requestId: UNKNOWN_PEER, decision: "control" }),
    "NOT_JOINED",
    "consent",
  );

  agent.send(validHello);
  const welcome = await agent.next("welcome");
  t.equal(welcome.session.id, session.id, "after all that, the same socket joins with its hello");

  const again = await expect(JSON.stringify(validHello), "ALREADY_JOINED", "a second hello");
  t.equal(again.inReplyTo, "hello");
  await expect(
    JSON.stringify({ ...validHello, v: PROTOCOL_VERSION + 1 }),
    "ALREADY_JOINED",
    "a second hello of v2",
  );
  await expect("{not json", "BAD_REQUEST", "not JSON after joining");
  await expect(nested("end", MAX_JSON_DEPTH + 1), "BAD_REQUEST", "too deep after joining");
  t.equal(await agentAnswers(agent), "PEER_NOT_FOUND", "the joined socket is still usable");
  const state = await tech.client.get(`/api/sessions/${session.id}`);
  t.match(state.body, { session: { status: "Active", agent: { connected: true } } }, "and still joined");

  const future = await openAgentSocket(gw.url);
  future.send({ ...validHello, v: PROTOCOL_VERSION + 1 });
  const unsupported = await future.next("error");
  t.equal(unsupported.error.code, "UNSUPPORTED_VERSION", "a hello of an unknown protocol version");
  t.equal(
    (await deadline(future.closed, "the close")).code,
    4400,
    "ends that connection (a failed hello has nothing else to do)",
  );

  t.equal(await agentAnswers(bystander), "PEER_NOT_FOUND", "another agent socket is undisturbed");
  t.match((await gw.anonymous().get("/healthz")).body, { ok: true }, "the gateway is up");
});

t.test(
  "a socket that sends far more messages at once than the gateway holds waiting is closed with 4429; others are undisturbed",
  async (t) => {
    const gw = await startTestGateway();
    t.teardown(() => gw.close());
    const { tech, agent: bystander, consoleSocket: bystanderConsole } = await bystanders(t, gw);
    const flood = 8 * MAX_QUEUED_SOCKET_MESSAGES;

    // Each of these waits on the store (the technician's account) before it is answered.
    const consoleFlooder = await openConsoleSocket(tech.client);
    for (let i = 0; i < flood; i += 1) {
      consoleFlooder.send({ type: "chat.send", sessionId: UNKNOWN_PEER, text: `line ${i}` });
    }
    t.equal((await deadline(consoleFlooder.closed, "the console's close", 10_000)).code, 4429);
    t.ok(
      consoleFlooder.received.filter((m) => m.type === "error").length < flood,
      "not every message was handled",
    );

    const session = await gw.newSession(tech.client);
    const { socket: agentFlooder } = await joinAgent(gw.url, { kind: "pin", pin: session.pin });
    for (let i = 0; i < flood; i += 1) agentFlooder.send({ type: "chat", text: `line ${i}` });
    t.equal((await deadline(agentFlooder.closed, "the agent's close", 10_000)).code, 4429);

    t.equal(await agentAnswers(bystander), "PEER_NOT_FOUND", "another agent socket still answers");
    t.equal(await consoleAnswers(bystanderConsole), "PEER_NOT_FOUND", "a console socket still answers");
    t.match((await gw.anonymous().get("/healthz")).body, { ok: true }, "the gateway is up");
  },
);

t.test("an agent socket that never says hello is closed", async (t) => {
  const gw = await startTestGateway({ options: { helloTimeoutMs: 200 } });
  t.teardown(() => gw.close());
  const silent = await openAgentSocket(gw.url);
  const error = await silent.next("error");
  t.equal(error.error.code, "NOT_JOINED");
  t.equal((await deadline(silent.closed, "the close")).code, 4408, "closed for want of a hello");
});

t.test("malformed console messages get error codes and the socket stays usable", async (t) => {
  const gw = await startTestGateway();
  t.teardown(() => gw.close());
  const { consoleSocket: bystander } = await bystanders(t, gw);
  const tech = await gw.technician("Mal Formed");
  const consoleSocket = await openConsoleSocket(tech.client);
  t.teardown(() => consoleSocket.close());
  await consoleSocket.next("sessions");

  const expect = async (frame: string | Buffer, code: string, what: string) => {
    consoleSocket.socket.send(frame);
    t.equal((await consoleSocket.next("error")).error.code, code, `${what}: ${code}`);
  };
  await expect("{{{", "BAD_REQUEST", "not JSON");
  await expect('{"type":"remote.connect","sessionId":', "BAD_REQUEST", "truncated JSON");
  await expect("null", "BAD_REQUEST", "null");
  await expect('{"type":"admin.grant"}', "BAD_REQUEST", "an unknown type");
  await expect('{"type":"remote.connect","sessionId":42}', "BAD_REQUEST", "a number for an id");
  await expect('{"type":"remote.connect","sessionId":"../../etc/passwd"}', "BAD_REQUEST", "a path for an id");
  await expect(
    JSON.stringify({
      type: "signal",
      sessionId: UNKNOWN_PEER,
      data: { kind: "description", type: "answer", sdp: "" },
    }),
    "BAD_REQUEST",
    "an empty SDP",
  );
  await expect(Buffer.from([1, 2, 3]), "BAD_REQUEST", "a binary frame");
  await expect(nested("remote.disconnect", MAX_JSON_DEPTH + 1), "BAD_REQUEST", "too deep");
  t.equal(await consoleAnswers(consoleSocket), "PEER_NOT_FOUND", "the socket is still usable");
  t.equal(await consoleAnswers(bystander), "PEER_NOT_FOUND", "another console is undisturbed");
});
