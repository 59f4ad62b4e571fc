/**
 * Consent that stays current, with the real agent under Xvfb and the real gateway: after the
 * channel's interval the end user is asked in the agent's terminal whether the session may
 * continue; yes keeps it (and the clock starts again), no or no answer in 5 minutes ends it on
 * both sides. The gateway runs on a clock the test moves and sweeps when the test says
 * (sweepIntervalMs 0), so "30 minutes later" takes no time.
 */
import t, { type Test } from "tap";
import type { GatewayToConsole } from "../../shared/console-protocol.ts";
import { CONTINUE_ANSWER_MS } from "../../shared/limits.ts";
import { selectSession } from "../console/desk-page.ts";
import { launchBrowser, openConsole, signIn } from "../helpers/browser.ts";
import {
  type ApiClient,
  type ConsoleSocket,
  field,
  joinAgent,
  openConsoleSocket,
  PASSWORD,
  startTestGateway,
  TestClock,
} from "../helpers/gateway.ts";
import { startXvfb } from "../helpers/xvfb.ts";
import { runAgent } from "./e2e-support.ts";

const MINUTE = 60_000;

const xvfb = await startXvfb({ width: 640, height: 480 });
t.teardown(() => xvfb.stop());
const clock = new TestClock();
const gw = await startTestGateway({
  config: { organizationName: "Acme IT" },
  options: { clock, sweepIntervalMs: 0 },
});
t.teardown(() => gw.close());
const alice = await gw.technician("Alice");
// A team channel that asks again after 10 minutes (the default is 30).
const created = await gw.admin.post("/api/channels", {
  name: "Helpdesk",
  reconfirmMinutes: 10,
  access: [alice.id],
});
const channelId = field(created.body, "channel", "id");
const desk = await openConsoleSocket(alice.client);
t.teardown(() => desk.close());

type SessionUpdate = Extract<GatewayToConsole, { type: "session.updated" }>;

function update(socket: ConsoleSocket, id: string, where: (s: SessionUpdate["session"]) => boolean) {
  return socket.next("session.updated", (m) => m.session.id === id && where(m.session), 15_000);
}

/** A session in the Helpdesk channel with the real agent joined by PIN; its question not yet due. */
async function joined(t: Test, name: string) {
  const created = await alice.client.post("/api/sessions", { channelId, name });
  const session = { id: field(created.body, "session", "id"), pin: field(created.body, "invitation", "pin") };
  const agent = runAgent(t, xvfb, [session.pin, "--gateway", gw.url]);
  await update(desk, session.id, (s) => s.agent.connected && s.continuation?.state === "running");
  return { session, agent };
}

/** The interval passes; the sweep asks; the question is on the agent's screen and in the console. */
async function asked(t: Test, id: string, agent: ReturnType<typeof runAgent>, advanceMs = 10 * MINUTE) {
  clock.advance(advanceMs);
  t.ok((await gw.gateway.continuationSweep()) >= 1, "the sweep asked");
  await agent.line(/=== SOS: CONTINUE THE SESSION\? ===/);
  await agent.line(/running for 10 minutes since you last agreed\. May it continue\?/);
  const shown = await update(desk, id, (s) => s.continuation?.state === "asked");
  return shown.session;
}

async function actions(client: ApiClient, id: string): Promise<string[]> {
  const answer = await client.get(`/api/audit?sessionId=${id}`);
  const entries = (answer.body as { entries: Array<{ action: string }> }).entries;
  return entries.map((entry) => entry.action).reverse();
}

t.test("the end user's yes in the agent's terminal keeps the session; the clock starts again", async (t) => {
  const { session, agent } = await joined(t, "Yes");
  clock.advance(9 * MINUTE);
  await gw.gateway.continuationSweep();
  const early = await alice.client.get(`/api/sessions/${session.id}`);
  t.equal(field(early.body, "session", "continuation", "state"), "running", "not asked before 10 minutes");

  const shown = await asked(t, session.id, agent, MINUTE);
  t.equal(
    Date.parse(shown.continuation?.deadline ?? "") - clock.now(),
    CONTINUE_ANSWER_MS,
    "the console shows the 5-minute deadline",
  );
  agent.type("y");
  await agent.line(/Thank you: the session continues\./);
  const confirmed = await update(desk, session.id, (s) => s.continuation?.state === "confirmed");
  t.equal(confirmed.session.status, "Active");
  t.equal(confirmed.session.continuation?.since, new Date(clock.now()).toISOString());

  // Past the old deadline: nothing ends, and the next question comes 10 minutes after the yes.
  clock.advance(9 * MINUTE);
  await gw.gateway.continuationSweep();
  const later = await alice.client.get(`/api/sessions/${session.id}`);
  t.equal(field(later.body, "session", "status"), "Active");
  t.equal(field(later.body, "session", "continuation", "state"), "confirmed");
  t.equal(agent.child.exitCode, null, "the agent runs on");
  t.match(await actions(gw.admin, session.id), [
    "session.created",
    "agent.joined",
    "session.continue_asked",
    "session.continue_confirmed",
  ]);
});

t.test(
  "no answer within 5 minutes ends the session on both sides, audited and shown in the console",
  async (t) => {
    const { session, agent } = await joined(t, "Unanswered");
    const browser = await launchBrowser();
    t.teardown(() => browser.close());
    const { page, errors } = await openConsole(browser, gw.url);
    page.setDefaultTimeout(15_000);
    await signIn(page, alice.email, PASSWORD);
    await page.getByRole("navigation").getByRole("link", { name: "Helpdesk" }).click();
    const panel = await selectSession(page, "Unanswered");
    await asked(t, session.id, agent);
    await panel.getByText(/^Asking the end user whether the session may continue \(answer by /).waitFor();
    t.pass("the console shows that the end user is being asked");
    clock.advance(CONTINUE_ANSWER_MS - 1_000);
    await gw.gateway.continuationSweep();
    t.equal(agent.child.exitCode, null, "still open a second before the deadline");
    clock.advance(1_000);
    await gw.gateway.continuationSweep();
    t.equal((await agent.exited).code, 7, "exit code 7: consent denied");
    t.match(agent.stderr(), /No answer in time: the session has ended\./);
    const ended = await update(desk, session.id, (s) => s.status === "Closed");
    t.equal(ended.session.continuation?.state, "unanswered", "the console shows why");
    t.equal(ended.session.agent.connected, false);
    const audited = await actions(gw.admin, session.id);
    t.ok(audited.includes("session.continue_unanswered"), audited.join(", "));
    await panel.getByText(/^No answer from the end user by .*: ended$/).waitFor();
    t.pass("and the outcome");
    t.same(errors, [], "no errors in the technician's page");
  },
);

t.test("the end user's no ends the session at once", async (t) => {
  const { session, agent } = await joined(t, "No");
  await asked(t, session.id, agent);
  agent.type("maybe");
  await agent.line(/Please answer y or n\./);
  agent.type("n");
  t.equal((await agent.exited).code, 7);
  t.match(agent.stderr(), /You did not allow the session to continue\. The session has ended\./);
  const ended = await update(desk, session.id, (s) => s.status === "Closed");
  t.equal(ended.session.continuation?.state, "declined");
  const audited = await actions(gw.admin, session.id);
  t.ok(audited.includes("session.continue_declined"), audited.join(", "));
  // The link and PIN are dead: the end user's no is final.
  const again = await joinAgent(gw.url, { kind: "pin", pin: session.pin }).catch((error: unknown) => error);
  t.match(again, { code: "SESSION_NOT_FOUND" }, "the PIN no longer joins");
});
