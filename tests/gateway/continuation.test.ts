/**
 * Consent that stays current, at the gateway (agent protocol sockets; the real agent answering in
 * its terminal is tests/agent/e2e-continuation.test.ts): the channel setting over the API, 0 =
 * never, the clock kept across a resume and a gateway restart, an answer to no open question.
 */
import t from "tap";
import { CONTINUE_ANSWER_AFTER_RECONNECT_MS, DEFAULT_RECONFIRM_MINUTES } from "../../shared/limits.ts";
import {
  errorCode,
  field,
  joinAgent,
  openConsoleSocket,
  startTestGateway,
  TEST_DEVICE,
  TestClock,
} from "../helpers/gateway.ts";

const MINUTE = 60_000;

t.test(
  "a channel's re-confirmation interval: default 30 minutes, set and changed by an admin, 0 allowed",
  async (t) => {
    const gw = await startTestGateway();
    t.teardown(() => gw.close());
    const plain = await gw.admin.post("/api/channels", { name: "Plain", access: [] });
    const reconfirm = (body: unknown) =>
      (body as { channel: { reconfirmMinutes: number } }).channel.reconfirmMinutes;
    t.equal(reconfirm(plain.body), DEFAULT_RECONFIRM_MINUTES);
    const id = field(plain.body, "channel", "id");
    const never = await gw.admin.patch(`/api/channels/${id}`, { reconfirmMinutes: 0 });
    t.equal(reconfirm(never.body), 0);
    const listed = await gw.admin.get("/api/channels");
    const channels = (listed.body as { channels: Array<{ id: string; reconfirmMinutes: number }> }).channels;
    t.equal(channels.find((c) => c.id === id)?.reconfirmMinutes, 0, "stored with the channel");
    const negative = await gw.admin.patch(`/api/channels/${id}`, { reconfirmMinutes: -1 });
    t.equal(negative.status, 400);
    t.equal(errorCode(negative.body), "BAD_REQUEST");
    const tom = await gw.technician("Tom");
    const refused = await tom.client.patch(`/api/channels/${id}`, { reconfirmMinutes: 5 });
    t.equal(refused.status, 403, "only an admin");
  },
);

t.test("the clock survives a resume and a gateway restart; 0 never asks", async (t) => {
  const clock = new TestClock();
  const gw = await startTestGateway({ options: { clock, sweepIntervalMs: 0 } });
  t.teardown(() => gw.close());
  const alice = await gw.technician("Alice");
  const asking = await gw.admin.post("/api/channels", {
    name: "Asking",
    reconfirmMinutes: 20,
    access: [alice.id],
  });
  const quiet = await gw.admin.post("/api/channels", {
    name: "Quiet",
    reconfirmMinutes: 0,
    access: [alice.id],
  });
  const session = await gw.newSession(alice.client, field(asking.body, "channel", "id"));
  const other = await gw.newSession(alice.client, field(quiet.body, "channel", "id"));
  const first = await joinAgent(gw.url, { kind: "pin", pin: session.pin });
  const silent = await joinAgent(gw.url, { kind: "pin", pin: other.pin });
  t.teardown(() => silent.socket.close());

  // 15 minutes, then the agent drops and resumes: the clock runs on from the join, not the resume.
  clock.advance(15 * MINUTE);
  first.socket.close();
  await first.socket.closed;
  const second = await joinAgent(gw.url, { kind: "resume", ...first.welcome.resume });
  clock.advance(4 * MINUTE);
  t.equal(await gw.gateway.continuationSweep(), 0, "19 minutes: not yet");
  clock.advance(MINUTE);
  t.equal(
    await gw.gateway.continuationSweep(),
    1,
    "20 minutes after the join: asked (the Quiet channel never)",
  );
  const question = await second.socket.next("continue.request");
  t.match(question, { minutes: 20, seconds: 300 });

  // The gateway restarts with the question open and 4 minutes 30 s gone: the resumed agent gets
  // the same question again, with at least the minute a reconnect leaves to answer.
  clock.advance(4.5 * MINUTE);
  await gw.restart();
  await second.socket.closed;
  const third = await joinAgent(gw.url, { kind: "resume", ...second.welcome.resume });
  const again = await third.socket.next("continue.request");
  t.equal(again.requestId, question.requestId, "the same question");
  t.equal(again.seconds, CONTINUE_ANSWER_AFTER_RECONNECT_MS / 1000);
  clock.advance(CONTINUE_ANSWER_AFTER_RECONNECT_MS - 1_000);
  t.equal(await gw.gateway.continuationSweep(), 0, "not ended while the minute runs");

  third.socket.send({ type: "continue", requestId: "not-the-question", answer: "yes" });
  const refused = await third.socket.next("error");
  t.equal(refused.error.code, "NOT_FOUND");
  const desk = await openConsoleSocket(alice.client);
  t.teardown(() => desk.close());
  third.socket.send({ type: "continue", requestId: question.requestId, answer: "yes" });
  const confirmed = await desk.next(
    "session.updated",
    (m) => m.session.id === session.id && m.session.continuation?.state === "confirmed",
  );
  t.equal(confirmed.session.status, "Active", "yes keeps the session");

  // A day later: the Asking session is asked again, the Quiet one (0) never.
  clock.advance(24 * 60 * MINUTE);
  t.equal(await gw.gateway.continuationSweep(), 1);
  await third.socket.next("continue.request", (m) => m.requestId !== question.requestId);
  t.notOk(
    silent.socket.received.some((m) => m.type === "continue.request"),
    "0: the Quiet channel's end user is never asked",
  );
  third.socket.close();
});

t.test(
  "an agent that does not name the continue feature (built before it) is never asked; one that does resumes the clock",
  async (t) => {
    const clock = new TestClock();
    const gw = await startTestGateway({ options: { clock, sweepIntervalMs: 0 } });
    t.teardown(() => gw.close());
    const alice = await gw.technician("Alice");
    const channel = await gw.admin.post("/api/channels", {
      name: "Asking",
      reconfirmMinutes: 20,
      access: [alice.id],
    });
    const session = await gw.newSession(alice.client, field(channel.body, "channel", "id"));
    const desk = await openConsoleSocket(alice.client);
    t.teardown(() => desk.close());
    const old = await joinAgent(gw.url, { kind: "pin", pin: session.pin }, TEST_DEVICE, {}, null);
    const marked = await desk.next(
      "session.updated",
      (m) => m.session.id === session.id && m.session.continuation?.state === "unsupported",
    );
    t.equal(marked.session.status, "Active", "the session goes on as before");

    clock.advance(10 * 60 * MINUTE);
    t.equal(await gw.gateway.continuationSweep(), 0, "ten hours later: not asked, not ended");
    const listed = await alice.client.get(`/api/sessions/${session.id}`);
    t.match(listed.body, { session: { status: "Active", continuation: { state: "unsupported" } } });
    t.notOk(
      old.socket.received.some((m) => m.type === "continue.request" || m.type === "session.ended"),
      "the older agent is sent nothing it cannot answer",
    );

    // The same session resumed by an agent that names the feature: its clock starts at the resume.
    old.socket.close();
    await old.socket.closed;
    const current = await joinAgent(gw.url, { kind: "resume", ...old.welcome.resume });
    t.teardown(() => current.socket.close());
    clock.advance(19 * MINUTE);
    t.equal(await gw.gateway.continuationSweep(), 0, "19 minutes after the resume: not yet");
    clock.advance(MINUTE);
    t.equal(await gw.gateway.continuationSweep(), 1, "20 minutes: asked");
    await current.socket.next("continue.request");
  },
);
