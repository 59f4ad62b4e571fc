/**
 * The real agent under Xvfb, the real gateway: a recording that runs while the agent reconnects is
 * the same recording to the end user. The gateway announces it again on the agent's resume; the
 * agent, knowing its id, prints no second notice, and the recording's stop still reaches it. A
 * recording stopped while the agent is away is reported stopped when it comes back.
 */
import t, { type Test } from "tap";
import { field, startTestGateway } from "../helpers/gateway.ts";
import { startXvfb, waitUntil } from "../helpers/xvfb.ts";
import { requestPermission, runAgent } from "./e2e-support.ts";

const xvfb = await startXvfb({ width: 640, height: 480 });
t.teardown(() => xvfb.stop());
const gw = await startTestGateway({ config: { organizationName: "Acme IT" } });
t.teardown(() => gw.close());

/**
 * A technician named `name` records a session whose real agent granted view: returns the agent,
 * the recording's id and whether the session's agent counts as connected.
 */
async function recordedSession(t: Test, name: string) {
  const tech = await gw.technician(name);
  const created = await gw.admin.post("/api/channels", {
    name: `Recorded desk of ${name}`,
    access: [tech.id],
    recording: { mode: "request", retentionDays: 2 },
  });
  const session = await gw.newSession(tech.client, field(created.body, "channel", "id"));
  const agent = runAgent(t, xvfb, [session.pin, "--gateway", gw.url]);
  const connected = async (yes: boolean) =>
    (
      (await tech.client.get(`/api/sessions/${session.id}`)).body as {
        session: { agent: { connected: boolean } };
      }
    ).session.agent.connected === yes;
  await waitUntil(() => connected(true), 15_000, "the agent joined");
  await requestPermission(tech.client, session.id, "view");
  await agent.line(/asks to SEE your screen/);
  agent.type("y");
  await waitUntil(
    async () =>
      (await gw.query("SELECT state FROM session_permissions WHERE session_id = ?", session.id))[0]?.state ===
      "granted",
    15_000,
    "view granted",
  );
  const started = await tech.client.post(`/api/sessions/${session.id}/recordings`);
  const id = field(started.body, "recording", "id");
  await agent.line(new RegExp(`● RECORDING: ${name} is recording`));
  return { tech, agent, id, connected };
}

t.test(
  "an agent that reconnects mid-recording keeps the recording without a second notice, and hears its stop",
  async (t) => {
    const { tech: tom, agent, id, connected } = await recordedSession(t, "Tom");
    await waitUntil(
      async () =>
        (
          (await tom.client.get(`/api/recordings/${id}`)).body as {
            recording: { confirmedAt: string | null };
          }
        ).recording.confirmedAt !== null,
      15_000,
      "the agent confirmed",
    );

    await gw.restart();
    await agent.line(/Connected to the gateway again/, 30_000);
    await waitUntil(() => connected(true), 15_000, "the agent resumed");
    // The stop goes after the resumed agent's welcome and the recording's second announcement.
    await tom.client.post(`/api/recordings/${id}/stop`, { durationMs: 1_000 });
    await agent.line(/Recording by Tom stopped\./);
    t.equal(
      agent.lines.filter((line) => line.includes("● RECORDING: Tom is recording")).length,
      1,
      "the end user was told once",
    );
    t.equal(agent.child.exitCode, null, "the agent runs on");
  },
);

t.test("a recording stopped while the agent is away is reported stopped when it resumes", async (t) => {
  const { tech: tina, agent, id, connected } = await recordedSession(t, "Tina");
  // The agent is frozen, so it cannot come back before the recording has stopped.
  agent.child.kill("SIGSTOP");
  t.teardown(() => agent.child.kill("SIGCONT"));
  await gw.restart();
  await waitUntil(() => connected(false), 15_000, "the agent is away");
  await tina.client.post(`/api/recordings/${id}/stop`, { durationMs: 1_000 });
  agent.child.kill("SIGCONT");
  await agent.line(/Connected to the gateway again/, 30_000);
  await agent.line(/Recording by Tina stopped\./);
  t.equal(agent.child.exitCode, null, "the agent runs on");
});
