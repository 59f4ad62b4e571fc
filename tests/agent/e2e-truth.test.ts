import t from "tap";
import { startXvfb } from "../helpers/xvfb.ts";
import { agentAsked, connectTechnician, openDesk, permission } from "./e2e-support.ts";

/**
 * What the end user is told about a technician's connection is true: "is now viewing" only once
 * video went out on a connection that came up; "could not connect" when none does.
 */

const xvfb = await startXvfb({ width: 640, height: 480 });
t.teardown(() => xvfb.stop());

t.test(
  "a technician whose side never answers: the end user sees 'could not connect', never 'viewing'",
  async (t) => {
    const desk = await openDesk(t);
    // --answer-timeout 3: the side that never answers is given up on after 3 s, not the default 20.
    const agent = await agentAsked(t, xvfb, desk, ["--answer-timeout", "3"]);
    agent.type("y");
    await permission(desk.console, desk.session.id, desk.alice.id, "granted");
    // The view opens on the gateway, but nothing answers the agent's offer.
    desk.console.send({ type: "remote.connect", sessionId: desk.session.id });
    await desk.console.next("remote.opened", (m) => m.sessionId === desk.session.id, 15_000);
    // Within 15 s: the option reached the peer (the default would give up only after 20 s).
    const line = await agent.line(/Could not connect to Alice/, 15_000);
    t.match(line, /Nobody sees your screen/);
    t.notOk(
      agent.lines.some((l) => /is now viewing/.test(l)),
      `no line claims a view: ${agent.lines.join(" | ")}`,
    );
  },
);

t.test("a technician who connects: 'is now viewing' comes once video went out", async (t) => {
  const desk = await openDesk(t);
  const agent = await agentAsked(t, xvfb, desk);
  agent.type("y");
  await permission(desk.console, desk.session.id, desk.alice.id, "granted");
  const { technician } = await connectTechnician(t, desk.console, desk.session.id);
  await agent.line(/Alice is now viewing and controlling your screen/, 20_000);
  const frame = await technician.nextFrame(() => true, 10_000, 0);
  t.ok(frame.width > 0, "the technician has a picture");
});
