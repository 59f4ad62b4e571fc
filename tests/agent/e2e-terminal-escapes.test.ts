import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import t, { type Test } from "tap";
import { WebSocketServer } from "ws";
import { agentMessageSchema, type GatewayToAgent } from "../../shared/agent-protocol.ts";
import { decodeMessage } from "../../shared/decode.ts";
import { PROTOCOL_VERSION } from "../../shared/limits.ts";
import { startTestGateway } from "../helpers/gateway.ts";
import { startXvfb } from "../helpers/xvfb.ts";
import { type AgentProcess, requestPermission, runAgent } from "./e2e-support.ts";

/**
 * Terminal escape injection, end to end: the real agent process prints names that carry ANSI/VT
 * sequences, and its stdout (and stderr) bytes hold none of them, with the consent question and
 * its warning whole, after a marker line, last on screen.
 */

const xvfb = await startXvfb({ width: 1024, height: 768 });
t.teardown(() => xvfb.stop());

const SPOOF = "IT desk: verified. Type y + Enter to finish";
const HOSTILE = {
  organization: `Acme\u001b]0;IT desk\u0007\u001b[8m ${SPOOF}`,
  technician: `\u001b[2K\r\u001b[1A${SPOOF}\u202e`,
  session: `Printer\r\b\b\u001b[2K\u009b2K${SPOOF}`,
};

/** Every byte the process writes to a stream, as it comes. */
function captured(stream: NodeJS.ReadableStream): () => Buffer {
  const chunks: Buffer[] = [];
  stream.on("data", (chunk: Buffer) => chunks.push(chunk));
  return () => Buffer.concat(chunks);
}

/** Bytes a terminal obeys (C0 but LF, DEL, C1 in UTF-8) or characters that reorder or hide. */
function unsafeIn(bytes: Buffer): string[] {
  const found: string[] = [];
  for (const byte of bytes) {
    if ((byte < 0x20 && byte !== 0x0a) || byte === 0x7f) found.push(`0x${byte.toString(16)}`);
  }
  const text = bytes.toString("utf8");
  for (const match of text.matchAll(/(?![\n\u200c\u200d])[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu)) {
    found.push(`U+${(match[0].codePointAt(0) ?? 0).toString(16)}`);
  }
  return found;
}

/** The consent question at the end of what was printed: marker, who asks, warning, choices. */
function checkQuestion(t: Test, stdout: string, afterHostile: string): void {
  const marker = "\n\n=== SOS: ACCESS REQUEST ===\n";
  const at = stdout.lastIndexOf(marker);
  t.ok(at > stdout.indexOf(afterHostile), "the question comes after the hostile text");
  const lines = stdout.slice(at + 2).split("\n");
  t.equal(lines[0], "=== SOS: ACCESS REQUEST ===", "the marker on a line of its own");
  t.match(lines[1], /^Technician .* asks to SEE and CONTROL your screen\.$/, "who asks for what, whole");
  t.equal(lines[2], "Never allow this if someone contacted you unexpectedly.", "the warning, whole");
  t.match(
    lines[3],
    /^Type y to allow control \(and files sent to you\), o for control but no files, v to allow viewing only, n to deny/,
    "then the choices",
  );
  t.equal(stdout.split("=== SOS: ACCESS REQUEST ===").length, 2, "the marker appears once");
}

async function deniedAndGone(t: Test, agent: AgentProcess): Promise<void> {
  agent.type("n");
  const { code } = await agent.exited;
  t.equal(code, 7, "the end user denies and the agent ends");
}

t.test("names an older gateway stored with escape sequences reach the agent inert", async (t) => {
  const gw = await startTestGateway({ config: { organizationName: "Acme IT" } });
  t.teardown(() => gw.close());
  const alice = await gw.technician("Alice");
  const session = await gw.newSession(alice.client);
  // What an older gateway accepted: written into its store, then the gateway starts again.
  const db = new DatabaseSync(join(gw.dataDir, "gateway.db"));
  db.prepare("UPDATE settings SET value = ? WHERE key = 'organization_name'").run(HOSTILE.organization);
  db.prepare("UPDATE accounts SET name = ? WHERE id = ?").run(HOSTILE.technician, alice.id);
  db.prepare("UPDATE sessions SET name = ? WHERE id = ?").run(HOSTILE.session, session.id);
  db.close();
  await gw.restart();

  const agent = runAgent(t, xvfb, [session.pin, "--gateway", gw.url]);
  const stdout = captured(agent.child.stdout);
  const stderr = captured(agent.child.stderr);
  await agent.line(/Waiting for your technician/);
  await requestPermission(alice.client, session.id);
  await agent.line(/asks to SEE and CONTROL your screen/);

  const printed = stdout().toString("utf8");
  t.same(unsafeIn(stdout()), [], "stdout holds no control, escape or bidi character");
  t.same(unsafeIn(stderr()), [], "nor does stderr");
  t.match(printed, "Connected to Acme\\x1b]0;IT desk\\x07\\x1b[8m", "the organization, shown as text");
  t.match(printed, "(Printer\\x0d\\x08\\x08\\x1b[2K\\x9b2KIT desk", "the session name, shown as text");
  t.match(printed, "Technician \\x1b[2K\\x0d\\x1b[1AIT desk", "the technician's name, shown as text");
  checkQuestion(t, printed, "Connected to Acme");
  await deniedAndGone(t, agent);
});

t.test("a hostile gateway (a stand-in for a malicious third party) cannot spoof the question", async (t) => {
  // A tiny gateway speaking the shared protocol, sending what the real one refuses at the door.
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  t.teardown(() => new Promise((resolve) => server.close(resolve)));
  await once(server, "listening");
  const heard: string[] = [];
  server.on("connection", (socket) => {
    const send = (message: GatewayToAgent) => socket.send(JSON.stringify(message));
    socket.on("message", (data) => {
      const decoded = decodeMessage(agentMessageSchema, data.toString());
      if (!decoded.ok) return;
      heard.push(decoded.value.type);
      if (decoded.value.type !== "hello") return;
      send({
        type: "welcome",
        v: PROTOCOL_VERSION,
        session: { id: "s1", name: `\u001b[2J\u001b[H${"\u009b2K".repeat(3_000)}`, status: "Waiting" },
        organization: { name: `Acme\u2067\u202e${SPOOF}\u2069\u0085` },
        resume: { sessionId: "s1", secret: "a-resume-secret-of-some-length" },
        iceServers: [],
      });
      send({ type: "error", error: { code: "INTERNAL", message: `\u009b2K\u001b[2K\u202e${SPOOF}` } });
      send({
        type: "consent.request",
        requestId: "r1",
        technician: { id: "t1", name: `Mallory\u001b[8m\r${SPOOF}\u001b[0m` },
        organization: `\u001b]2;${SPOOF}\u001b\\Acme`,
        access: "control",
      });
    });
  });
  const { port } = server.address() as AddressInfo;

  const agent = runAgent(t, xvfb, ["123456789", "--gateway", `http://127.0.0.1:${port}`]);
  const stdout = captured(agent.child.stdout);
  const stderr = captured(agent.child.stderr);
  await agent.line(/asks to SEE and CONTROL your screen/);

  const printed = stdout().toString("utf8");
  t.same(unsafeIn(stdout()), [], "stdout holds no control, escape or bidi character");
  const waiting = printed.split("\n").find((line) => line.startsWith("Connected to "));
  t.ok(waiting !== undefined && waiting.length < 300, "a 9 kB session name is cut");
  t.match(waiting, /…\)\. Waiting for your technician/, "and the cut is marked");
  checkQuestion(t, printed, "Connected to ");
  await deniedAndGone(t, agent);
  t.same(unsafeIn(stderr()), [], "the gateway's error message is logged without raw escapes");
  t.match(stderr().toString("utf8"), /gateway error/, "(it was logged)");
  t.ok(heard.includes("consent"), "the hostile gateway heard the answer");
});

t.test("a hostile gateway's refusal is printed inert as the agent's last line", async (t) => {
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  t.teardown(() => new Promise((resolve) => server.close(resolve)));
  await once(server, "listening");
  server.on("connection", (socket) => {
    socket.once("message", () => {
      const refusal: GatewayToAgent = {
        type: "error",
        // A code the agent has no words of its own for: it prints the gateway's message.
        error: { code: "FORBIDDEN", message: `\u001b[2K\r\u009b1A${SPOOF}\u0007` },
        inReplyTo: "hello",
      };
      socket.send(JSON.stringify(refusal));
    });
  });
  const { port } = server.address() as AddressInfo;
  const agent = runAgent(t, xvfb, ["123456789", "--gateway", `http://127.0.0.1:${port}`]);
  const stdout = captured(agent.child.stdout);
  const stderr = captured(agent.child.stderr);
  const { code } = await agent.exited;
  t.equal(code, 8, "refused by the gateway");
  t.same(unsafeIn(stdout()), [], "stdout holds no control or escape character");
  t.same(unsafeIn(stderr()), [], "nor does stderr");
  t.match(
    stderr().toString("utf8"),
    "sos: FORBIDDEN: \\x1b[2K\\x0d\\x9b1AIT desk",
    "the message, shown as text",
  );
});
