import t from "tap";
import { CHAT_BURST_LINES, MAX_QUEUED_SOCKET_MESSAGES } from "../../shared/limits.ts";
import { startXvfb } from "../helpers/xvfb.ts";
import { openDesk, runAgent } from "./e2e-support.ts";

/**
 * The end user pastes a block of more lines than the gateway holds waiting for one socket: the
 * agent sends the burst the gateway's chat rate takes and refuses the rest itself, so the gateway
 * does not close its socket as a flood (4429) and the session stays connected.
 */

const xvfb = await startXvfb({ width: 1024, height: 768 });
t.teardown(() => xvfb.stop());

t.test(
  "a pasted block of many lines is cut to the chat rate by the agent, not sent as a flood",
  async (t) => {
    const desk = await openDesk(t);
    const agent = runAgent(t, xvfb, [desk.session.pin, "--gateway", desk.gw.url]);
    await agent.line(/Waiting for your technician/);

    const pasted = MAX_QUEUED_SOCKET_MESSAGES + 44;
    agent.child.stdin.write(Array.from({ length: pasted }, (_, i) => `log line ${i}\n`).join(""));

    const first = await agent.line(/^(Not sent: too many lines at once|Connection to the gateway lost)/);
    t.match(
      first,
      /^Not sent: too many lines at once/,
      "the end user is told lines past the rate were not sent",
    );
    // The burst reaches the technician; the last of it is stored after every line before it.
    await desk.console.next(
      "chat.line",
      (m) => m.line.kind === "enduser" && m.line.text === `log line ${CHAT_BURST_LINES - 1}`,
      15_000,
    );
    t.notOk(
      agent.lines.some((line) => /Connection to the gateway lost/.test(line)),
      "the agent's connection to the gateway was not dropped",
    );
    agent.type("q");
    const exited = await agent.exited;
    t.equal(
      agent.lines.filter((line) => /Not sent: too many lines at once/.test(line)).length,
      1,
      "the end user is told once for the whole refused run, not once per line",
    );
    t.equal(exited.code, 0, "the agent was still running; q ends it");
  },
);
