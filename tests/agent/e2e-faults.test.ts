import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Test } from "tap";
import t from "tap";
import { WebSocketServer } from "ws";
import { type AgentMessage, agentMessageSchema, type GatewayToAgent } from "../../shared/agent-protocol.ts";
import { decodeMessage } from "../../shared/decode.ts";
import { PROTOCOL_VERSION } from "../../shared/limits.ts";
import { inputRecorder, pointerLocation, startXvfb, waitUntil } from "../helpers/xvfb.ts";
import {
  agentAsked,
  agentJoined,
  grantedTechnician,
  openDesk,
  requestPermission,
  runAgent,
} from "./e2e-support.ts";

const xvfb = await startXvfb({ width: 1280, height: 720 });
t.teardown(() => xvfb.stop());

/**
 * The cases up to the gateway restart share only the X server, and none of them sends it input or
 * watches its input: they run side by side (each its own gateway and agent process). The last two
 * move the pointer or record input: they run after all of those, one after the other.
 */
t.jobs = 2;
const sideBySide: Promise<unknown>[] = [];
function beside(name: string, fn: (t: Test) => Promise<void>): void {
  sideBySide.push(t.test(name, fn));
}

beside("an unknown PIN ends with exit code 5 and a one-line reason", async (t) => {
  const desk = await openDesk(t);
  const agent = runAgent(t, xvfb, ["987654321", "--gateway", desk.gw.url]);
  const { code } = await agent.exited;
  t.equal(code, 5);
  t.equal(agent.stderr(), "sos: No session has this PIN or link. Check it and try again.\n");
});

beside("help piped into a reader that stops early ends quietly with exit code 0", async (t) => {
  const agent = runAgent(t, xvfb, ["--help"]);
  // The reader goes away before the help is written, like `sos --help | head -1` on a slow pipe.
  agent.child.stdout.destroy();
  const { code } = await agent.exited;
  t.equal(code, 0);
  t.equal(agent.stderr(), "", "no stack trace");
});

beside(
  "with stdin closed from the start (a script, a service) the agent still joins and waits",
  async (t) => {
    const desk = await openDesk(t);
    const agent = runAgent(t, xvfb, [desk.session.pin, "--gateway", desk.gw.url]);
    agent.child.stdin.end();
    await agent.line(/Waiting for your technician/);
    await agentJoined(desk);
    t.equal(agent.child.exitCode, null, "still running");
  },
);

beside("a closed session's link ends with exit code 6", async (t) => {
  const desk = await openDesk(t);
  const closed = await desk.alice.client.post(`/api/sessions/${desk.session.id}/close`);
  t.equal(closed.status, 200);
  const agent = runAgent(t, xvfb, [desk.session.link]);
  const { code } = await agent.exited;
  t.equal(code, 6);
  t.match(agent.stderr(), /closed or has expired/);
});

beside("a link carries its gateway: no --gateway needed", async (t) => {
  const desk = await openDesk(t);
  const agent = runAgent(t, xvfb, [desk.session.link]);
  await agent.line(/Waiting for your technician/);
  await agentJoined(desk);
  agent.type("q");
  t.equal((await agent.exited).code, 0);
});

beside("an unreachable gateway ends with exit code 4", async (t) => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  const agent = runAgent(t, xvfb, ["123456789", "--gateway", `http://127.0.0.1:${port}`]);
  t.equal((await agent.exited).code, 4);
  t.match(agent.stderr(), /^sos: Cannot reach the gateway at http:\/\/127\.0\.0\.1:\d+\./);
});

beside("no display ends with exit code 3, no crash", async (t) => {
  const agent = runAgent(t, xvfb, ["123456789", "--gateway", "http://127.0.0.1:9"], { DISPLAY: "" });
  t.equal((await agent.exited).code, 3);
  t.match(agent.stderr(), /^sos: No screen to share/);
  const unreachable = runAgent(t, xvfb, ["123456789", "--gateway", "http://127.0.0.1:9"], {
    DISPLAY: ":4093",
  });
  t.equal((await unreachable.exited).code, 3, "an X server that is not there: the same");
});

beside("a malformed PIN or option ends with exit code 2", async (t) => {
  const pin = runAgent(t, xvfb, ["12345", "--gateway", "http://127.0.0.1:9"]);
  t.equal((await pin.exited).code, 2);
  t.match(pin.stderr(), /Not a session PIN or link: 12345/);
  const codec = runAgent(t, xvfb, ["123456789", "--codec", "mjpeg"]);
  t.equal((await codec.exited).code, 2);
  const noGateway = runAgent(t, xvfb, ["123456789"]);
  t.equal((await noGateway.exited).code, 2);
  t.match(noGateway.stderr(), /No gateway address/);
});

beside("German from the system locale: the question is asked in German", async (t) => {
  const desk = await openDesk(t);
  const agent = runAgent(t, xvfb, [desk.session.pin, "--gateway", desk.gw.url], { LANG: "de_DE.UTF-8" });
  await agent.line(/Warten auf Ihren Techniker/);
  await agent.line(/^Mit Ihrem Techniker chatten: Nachricht eingeben und Enter drücken\./);
  await agent.line(/^Verbunden: Alice \(nur Chat\)$/);
  await agentJoined(desk);
  await requestPermission(desk.alice.client, desk.session.id);
  await agent.line(/Alice \(Acme IT\) möchte Ihren Bildschirm SEHEN und STEUERN/);
  await agent.line(/Erlauben Sie das nie, wenn Sie unerwartet kontaktiert wurden/);
  agent.type("ja");
  await agent.line(/Erlaubt: Alice darf Ihren Bildschirm sehen und steuern/);
  await agent.line(/^Verbunden: Alice \(Steuerung\)$/);
  agent.type("q");
  await agent.line(/Sitzung beendet/);
  t.equal((await agent.exited).code, 0);
});

beside("the technician closes the session: the agent says so and ends with exit code 0", async (t) => {
  const desk = await openDesk(t);
  const agent = runAgent(t, xvfb, [desk.session.pin, "--gateway", desk.gw.url]);
  await agentJoined(desk);
  await desk.alice.client.post(`/api/sessions/${desk.session.id}/close`);
  await agent.line(/The technician closed the session/);
  t.equal((await agent.exited).code, 0);
});

const restarted = t.test(
  "a gateway restart: the agent resumes and the technician's remote view keeps working",
  async (t) => {
    await Promise.all(sideBySide);
    const desk = await openDesk(t);
    const agent = await agentAsked(t, xvfb, desk);
    const { technician } = await grantedTechnician(t, desk, agent);
    await technician.nextFrame(undefined, 20_000, 0);

    await desk.gw.restart();
    await agent.line(/Connection to the gateway lost/);
    await agent.line(/Connected to the gateway again/, 30_000);
    technician.send({ type: "pointer", x: 0.75, y: 0.25 });
    await waitUntil(async () => {
      const at = await pointerLocation(xvfb);
      return at.x === 959 && at.y === 180;
    });
    t.equal(agent.child.exitCode, null);
  },
);

/** A gateway that does not play by the rules: it opens a peer nobody consented to. */
t.test("a peer opened without the end user's consent is refused and gets no offer", async (t) => {
  await restarted;
  const received: AgentMessage[] = [];
  const server = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  t.teardown(() => new Promise((resolve) => server.close(resolve)));
  const refused = new Promise<void>((resolve) => {
    server.on("connection", (socket) => {
      const send = (message: GatewayToAgent) => socket.send(JSON.stringify(message));
      socket.on("message", (data) => {
        const decoded = decodeMessage(agentMessageSchema, data.toString());
        if (!decoded.ok) throw new Error(`the agent sent an invalid message: ${data.toString()}`);
        received.push(decoded.value);
        if (decoded.value.type === "hello") {
          send({
            type: "welcome",
            v: PROTOCOL_VERSION,
            session: { id: "s1", name: "", status: "Active" },
            organization: { name: "Rogue" },
            resume: { sessionId: "s1", secret: "0123456789abcdef0123" },
            iceServers: [],
          });
          send({
            type: "peer.open",
            peerId: "p1",
            technician: { id: "mallory", name: "Mallory" },
            access: "control",
          });
        }
        if (decoded.value.type === "peer.closed") resolve();
      });
    });
  });
  await new Promise((resolve) => server.once("listening", resolve));
  const { port } = server.address() as AddressInfo;
  const recorder = await inputRecorder(xvfb, "sos-rogue");
  const agent = runAgent(t, xvfb, ["123456789", "--gateway", `http://127.0.0.1:${port}`]);
  await refused;
  t.match(received.at(-1), { type: "peer.closed", peerId: "p1" });
  t.notOk(
    received.some((message) => message.type === "signal"),
    "no offer was made",
  );
  t.same(recorder.events, []);
  agent.type("q");
  t.equal((await agent.exited).code, 0);
});
