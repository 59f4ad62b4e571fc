import t, { type Test } from "tap";
import { type ApiClient, errorCode, field, joinAgent, startTestGateway } from "../helpers/gateway.ts";
import { waitUntil } from "../helpers/xvfb.ts";

/**
 * A running recording as its session lives on: an agent that comes back (resume) is told again
 * which recordings run, and a channel set to no longer record ends the recordings running in it.
 */

const gw = await startTestGateway();
t.teardown(() => gw.close());
const tom = await gw.technician("Tom");
const created = await gw.admin.post("/api/channels", {
  name: "Recorded desk",
  access: [tom.id],
  recording: { mode: "request", retentionDays: 2 },
});
const channelId = field(created.body, "channel", "id");

/** A session of the channel with its agent joined, Tom allowed to see it, and Tom recording (confirmed). */
async function recording(t: Test) {
  const session = await gw.newSession(tom.client, channelId);
  const { socket: agent, welcome } = await joinAgent(gw.url, { kind: "pin", pin: session.pin });
  t.teardown(() => agent.close());
  await tom.client.post(`/api/sessions/${session.id}/permission`, { access: "view" });
  const ask = await agent.next("consent.request");
  agent.send({ type: "consent", requestId: ask.requestId, decision: "view" });
  await waitUntil(
    async () =>
      (await gw.query("SELECT state FROM session_permissions WHERE session_id = ?", session.id))[0]?.state ===
      "granted",
    5_000,
    "consent stored",
  );
  const started = await tom.client.post(`/api/sessions/${session.id}/recordings`);
  t.equal(started.status, 200, JSON.stringify(started.body));
  const id = field(started.body, "recording", "id");
  await agent.next("recording.start");
  agent.send({ type: "recording.confirm", recordingId: id });
  await waitUntil(async () => (await confirmedAt(tom.client, id)) !== null, 5_000, "confirmed");
  return { session, agent, welcome, id };
}

async function confirmedAt(client: ApiClient, id: string): Promise<string | null> {
  return ((await client.get(`/api/recordings/${id}`)).body as { recording: { confirmedAt: string | null } })
    .recording.confirmedAt;
}

t.test("an agent that resumes mid-recording is told again that the recording runs", async (t) => {
  const { session, agent, welcome, id } = await recording(t);
  const before = await confirmedAt(tom.client, id);
  agent.close();
  await agent.closed;
  const { socket: back } = await joinAgent(gw.url, {
    kind: "resume",
    sessionId: session.id,
    secret: welcome.resume.secret,
  });
  t.teardown(() => back.close());
  t.same(
    await back.next("recording.start"),
    { type: "recording.start", recordingId: id, technician: { id: tom.id, name: "Tom" } },
    "the running recording is announced again",
  );
  // A second confirm of the same recording changes nothing (the agent sends none for an id it knows).
  back.send({ type: "recording.confirm", recordingId: id });
  const stopped = await tom.client.post(`/api/recordings/${id}/stop`, { durationMs: 1_000 });
  t.equal(stopped.status, 200);
  t.equal(await confirmedAt(tom.client, id), before, "confirmed once, when it started");
  t.match(await back.next("recording.stop"), { recordingId: id }, "the stop reaches the resumed agent");
});

t.test(
  "setting the channel's recording to off ends its running recordings: the agent is told, chunks are refused",
  async (t) => {
    const { agent, id } = await recording(t);
    const off = await gw.admin.patch(`/api/channels/${channelId}`, { recording: { mode: "off" } });
    t.equal(off.status, 200);
    t.teardown(() => gw.admin.patch(`/api/channels/${channelId}`, { recording: { mode: "request" } }));
    t.match(await agent.next("recording.stop"), { recordingId: id, technician: { name: "Tom" } });
    const rows = await gw.query("SELECT ended_at FROM recordings WHERE id = ?", id);
    t.not(rows[0]?.ended_at, null, "ended in the store");
    const response = await fetch(`${gw.url}/api/recordings/${id}/chunks?offset=0`, {
      method: "POST",
      headers: {
        "content-type": "application/octet-stream",
        cookie: tom.client.cookie ?? "",
        "x-csrf-token": tom.client.csrfToken ?? "",
      },
      body: "AAAA",
    });
    t.equal(response.status, 409);
    t.equal(errorCode(await response.json()), "RECORDING_ENDED", "the console's next chunk is refused");
    const audit = await gw.query(
      "SELECT actor_kind FROM audit_log WHERE action = 'recording.stopped' AND detail LIKE ?",
      `%${id}%`,
    );
    t.equal(audit.length, 1, "the end is audited once");
  },
);
