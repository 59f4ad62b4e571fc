import t, { type Test } from "tap";
import type { TestTechnician } from "../helpers/technician-peer.ts";
import { inOrder, inputRecorder, pointerLocation, startXvfb, waitUntil } from "../helpers/xvfb.ts";
import {
  type AgentProcess,
  agentAsked,
  agentJoined,
  connectTechnician,
  type Desk,
  openDesk,
  permission,
  requestPermission,
  runAgent,
} from "./e2e-support.ts";

const xvfb = await startXvfb({ width: 1280, height: 720 });
t.teardown(() => xvfb.stop());
const recorder = await inputRecorder(xvfb);

/** The agent joined by PIN and a pending "Start remote session" from Alice on screen. */
async function asked(t: Test, extraArgs: string[] = []): Promise<{ desk: Desk; agent: AgentProcess }> {
  const desk = await openDesk(t);
  return { desk, agent: await agentAsked(t, xvfb, desk, extraArgs) };
}

/**
 * Sends `message` and then re-selects the shown monitor; the agent handles control messages in
 * order and answers the re-selection with a state message, so once that arrives the first
 * message has been applied or dropped.
 */
async function sendAndSettle(technician: TestTechnician, message: Parameters<TestTechnician["send"]>[0]) {
  const from = technician.controls.length;
  technician.send(message);
  technician.send({ type: "monitor", index: 0 });
  await technician.nextControl((control) => control.type === "state", 10_000, from);
}

async function movePointerTo(x: number, y: number) {
  await xvfb.x("xdotool", ["mousemove", String(x), String(y)]);
  await waitUntil(async () => {
    const at = await pointerLocation(xvfb);
    return at.x === x && at.y === y;
  });
}

t.test("view only: the technician sees the screen but their input is dropped", async (t) => {
  const { desk, agent } = await asked(t);
  agent.type("v");
  t.equal(await permission(desk.console, desk.session.id, desk.alice.id, "granted"), "view");
  await agent.line(/Allowed: Alice may see your screen \(view only\)/);
  const { technician, access } = await connectTechnician(t, desk.console, desk.session.id);
  t.equal(access, "view");
  const frame = await technician.nextFrame(undefined, 20_000, 0);
  t.equal(frame.width, 1280);
  const state = await technician.nextControl((message) => message.type === "state");
  t.match(state, { access: "view" });

  await movePointerTo(10, 10);
  await sendAndSettle(technician, { type: "pointer", x: 0.5, y: 0.5 });
  t.same(await pointerLocation(xvfb), { x: 10, y: 10 }, "the pointer did not move");
  const from = recorder.events.length;
  await sendAndSettle(technician, { type: "key", code: "KeyX", down: true });
  t.same(recorder.events.slice(from), [], "no key reached the display");
});

t.test("view-only asked and granted: the question asks to see only, input is dropped", async (t) => {
  const desk = await openDesk(t);
  const agent = runAgent(t, xvfb, [desk.session.pin, "--gateway", desk.gw.url]);
  await agentJoined(desk);
  await requestPermission(desk.alice.client, desk.session.id, "view");
  await agent.line(/Technician Alice \(.*\) asks to SEE your screen\./);
  agent.type("y");
  t.equal(await permission(desk.console, desk.session.id, desk.alice.id, "granted"), "view");
  await agent.line(/Allowed: Alice may see your screen \(view only\)/);
  const { technician, access } = await connectTechnician(t, desk.console, desk.session.id);
  t.equal(access, "view");
  const state = await technician.nextControl((message) => message.type === "state");
  t.match(state, { access: "view" });

  await movePointerTo(30, 30);
  await sendAndSettle(technician, { type: "pointer", x: 0.5, y: 0.5 });
  t.same(await pointerLocation(xvfb), { x: 30, y: 30 }, "the pointer did not move");
  const from = recorder.events.length;
  await sendAndSettle(technician, { type: "key", code: "KeyX", down: true });
  t.same(recorder.events.slice(from), [], "no key reached the display");
});

t.test("deny: the gateway hears it and the agent ends with exit code 7", async (t) => {
  const { desk, agent } = await asked(t);
  agent.type("n");
  await permission(desk.console, desk.session.id, desk.alice.id, "denied");
  await agent.line(/Denied: Alice may not see your screen/);
  const { code } = await agent.exited;
  t.equal(code, 7);
  t.match(agent.stderr(), /You denied the request/);
});

t.test(
  "a withdrawn request leaves the end user's screen, and they are told nobody is connected",
  async (t) => {
    const { desk, agent } = await asked(t);
    await agent.line(/^Connected: Alice \(chat only\)$/);
    t.equal((await desk.alice.client.post(`/api/sessions/${desk.session.id}/release`)).status, 200);
    await agent.line(/^Request withdrawn: Alice no longer asks\.$/);
    await agent.line(/^No technician is connected any more\. Nobody sees your screen\.$/);
    t.pass("the question is gone and the end user knows the technician left");
    agent.type("q");
    t.equal((await agent.exited).code, 0, "the agent was still running, waiting; q ends it");
  },
);

t.test(
  "a technician's rights change while they stay connected: the end user is not told that nobody is connected",
  async (t) => {
    const { desk, agent } = await asked(t);
    await agent.line(/^Connected: Alice \(chat only\)$/);
    agent.type("y");
    await permission(desk.console, desk.session.id, desk.alice.id, "granted");
    await agent.line(/^Connected: Alice \(control\)$/);
    // A later line of the agent's: everything said about the change was printed before it.
    agent.type("?");
    await agent.line(/^Commands: q = end the session/);
    t.notOk(
      agent.lines.some((line) => line.startsWith("No technician is connected any more.")),
      `nobody left; the agent said:\n${agent.lines.join("\n")}`,
    );
    agent.type("q");
    t.equal((await agent.exited).code, 0);
  },
);

t.test("no answer within the timeout is a deny", async (t) => {
  const { desk, agent } = await asked(t, ["--consent-timeout", "1"]);
  await permission(desk.console, desk.session.id, desk.alice.id, "denied");
  await agent.line(/No answer in time: Alice's request was denied/);
  const { code } = await agent.exited;
  t.equal(code, 7);
});

t.test("revoke: input stops, held keys are released, the technician's view closes", async (t) => {
  const { desk, agent } = await asked(t);
  agent.type("y");
  await permission(desk.console, desk.session.id, desk.alice.id, "granted");
  const { technician } = await connectTechnician(t, desk.console, desk.session.id);
  await technician.nextControl((message) => message.type === "state");
  const { x, y, width, height } = recorder.place;
  technician.send({ type: "pointer", x: (x + width / 2) / 1279, y: (y + height / 2) / 719 });
  const from = recorder.events.length;
  technician.send({ type: "key", code: "ShiftLeft", down: true });
  await recorder.until((events) => events.slice(from).includes("down:Shift_L"));

  agent.type("r");
  await agent.line(/Permissions withdrawn/);
  await recorder.until((events) => inOrder(events.slice(from), ["down:Shift_L", "up:Shift_L"]));
  await desk.console.next("remote.closed", (m) => m.reason === "revoked", 10_000);
  await permission(desk.console, desk.session.id, desk.alice.id, "revoked");
  t.equal(agent.child.exitCode, null, "the agent keeps running: the technician may ask again");

  await requestPermission(desk.alice.client, desk.session.id);
  await agent.line(/asks to SEE and CONTROL your screen/);
  t.pass("a new request is asked again");
});

t.test("while a second technician's request is on screen, input from the first waits", async (t) => {
  const { desk, agent } = await asked(t);
  agent.type("y");
  await permission(desk.console, desk.session.id, desk.alice.id, "granted");
  const { technician } = await connectTechnician(t, desk.console, desk.session.id);
  await technician.nextControl((message) => message.type === "state");

  const bob = await desk.gw.technician("Bob");
  const invited = await desk.alice.client.post(`/api/sessions/${desk.session.id}/invite`, {
    technicianIds: [bob.id],
  });
  t.equal(invited.status, 200);
  await requestPermission(bob.client, desk.session.id);
  await agent.line(/Bob \(Acme IT\) asks to SEE and CONTROL your screen/);

  await movePointerTo(20, 20);
  await sendAndSettle(technician, { type: "pointer", x: 0.5, y: 0.5 });
  t.same(await pointerLocation(xvfb), { x: 20, y: 20 }, "Alice's pointer waits while the question is open");

  agent.type("n");
  await agent.line(/Denied: Bob may not see your screen/);
  await sendAndSettle(technician, { type: "pointer", x: 0.5, y: 0.5 });
  await waitUntil(async () => {
    const at = await pointerLocation(xvfb);
    return at.x === 640 && at.y === 360;
  });
  t.equal(agent.child.exitCode, null, "denying Bob leaves Alice's session running");
});
