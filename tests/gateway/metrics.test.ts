import perfHooks from "node:perf_hooks";
import t from "tap";
import { GatewayMetrics } from "../../signaling/metrics/gateway-metrics.ts";
import {
  ApiClient,
  errorCode,
  JoinRefused,
  joinAgent,
  openConsoleSocket,
  startTestGateway,
} from "../helpers/gateway.ts";
import { parsePrometheusText, type Sample, sampleValue } from "../helpers/prometheus.ts";

const TOKEN = "metrics-token-0123456789abcdef";
const OFFER = {
  kind: "description",
  type: "offer",
  sdp: "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\n",
} as const;
const ANSWER = {
  kind: "description",
  type: "answer",
  sdp: "v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\n",
} as const;

async function scrape(url: string, token = TOKEN): Promise<Sample[]> {
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  if (response.status !== 200) throw new Error(`scrape answered ${response.status}`);
  return parsePrometheusText(await response.text());
}

t.test("an unauthenticated scrape is refused", async (t) => {
  const gw = await startTestGateway({ config: { metricsToken: TOKEN, metricsListen: "127.0.0.1:0" } });
  t.teardown(() => gw.close());
  const listener = gw.gateway.metricsUrl;
  if (listener === undefined) throw new Error("no metrics listener");
  for (const url of [`${gw.url}/metrics`, listener]) {
    const bare = await fetch(url);
    t.equal(bare.status, 401, `${url} without a token`);
    t.equal(errorCode(await bare.json()), "UNAUTHENTICATED");
    t.match(bare.headers.get("www-authenticate"), /^Bearer /);
    const wrong = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}x` } });
    t.equal(wrong.status, 401, `${url} with a wrong token`);
    const basic = await fetch(url, { headers: { authorization: `Basic ${btoa(`x:${TOKEN}`)}` } });
    t.equal(basic.status, 401, `${url} with the token as a password`);
    const right = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
    t.equal(right.status, 200, `${url} with the token`);
    t.match(right.headers.get("content-type"), /^text\/plain; version=0\.0\.4/);
  }
  const signedIn = await gw.admin.get("/metrics");
  t.equal(signedIn.status, 401, "an admin's cookie is no metrics token");
  const other = await fetch(listener.replace("/metrics", "/api/me"));
  t.equal(other.status, 404, "the metrics listener serves /metrics only");
});

t.test("without a token /metrics is not served on the gateway's listener", async (t) => {
  const gw = await startTestGateway({ config: { metricsListen: "127.0.0.1:0" } });
  t.teardown(() => gw.close());
  const response = await fetch(`${gw.url}/metrics`);
  t.equal(response.status, 404, "not the console's page either");
  t.equal(errorCode(await response.json()), "NOT_FOUND");
  const listener = gw.gateway.metricsUrl;
  if (listener === undefined) throw new Error("no metrics listener");
  const open = await fetch(listener);
  t.equal(open.status, 200, "the separate listener answers without a token when none is set");
});

t.test("a metrics token shorter than 16 characters refuses to start", async (t) => {
  await t.rejects(startTestGateway({ config: { metricsToken: "short" } }), /at least 16 characters/);
  await t.rejects(startTestGateway({ config: { metricsListen: "9464" } }), /host:port/);
});

t.test("/metrics parses as Prometheus text and moves when a session changes", async (t) => {
  const gw = await startTestGateway({ config: { metricsToken: TOKEN } });
  t.teardown(() => gw.close());
  const url = `${gw.url}/metrics`;
  const alice = await gw.technician("Alice");
  const session = await gw.newSession(alice.client);

  const before = await scrape(url);
  const families = new Set(before.map((sample) => sample.family));
  for (const family of [
    "sos_connected_agents",
    "sos_connected_consoles",
    "sos_sessions",
    "sos_sessions_ended",
    "sos_remote_views",
    "sos_pin_refusals",
    "sos_sign_in_refusals",
    "sos_signal_relay_seconds",
    "sos_store_operation_seconds",
    "sos_store_up",
    "nodejs_eventloop_lag_seconds",
    "nodejs_eventloop_lag_p99_seconds",
  ]) {
    t.ok(families.has(family), `${family} is exposed`);
  }
  t.equal(sampleValue(before, "sos_connected_agents"), 0);
  t.equal(sampleValue(before, "sos_sessions", { status: "Waiting" }), 1);
  t.equal(sampleValue(before, "sos_sessions", { status: "Active" }), 0);
  t.equal(sampleValue(before, "sos_store_up"), 1);
  t.ok(
    (sampleValue(before, "sos_store_operation_seconds_count", { operation: "transaction" }) ?? 0) > 0,
    "the session's creation was a timed store transaction",
  );

  const { socket: agent } = await joinAgent(gw.url, { kind: "pin", pin: session.pin });
  t.teardown(() => agent.close());
  const aliceConsole = await openConsoleSocket(alice.client);
  t.teardown(() => aliceConsole.close());
  // A console counts once it has its sessions (the hub registers it with its snapshot).
  await aliceConsole.next("sessions");
  const joined = await scrape(url);
  t.equal(sampleValue(joined, "sos_connected_agents"), 1, "the agent joined");
  t.equal(sampleValue(joined, "sos_connected_consoles"), 1, "Alice's console is open");
  t.equal(sampleValue(joined, "sos_sessions", { status: "Waiting" }), 0);
  t.equal(sampleValue(joined, "sos_sessions", { status: "Active" }), 1, "the session turned Active");

  const wrongPin = session.pin === "000000000" ? "000000001" : "000000000";
  await t.rejects(joinAgent(gw.url, { kind: "pin", pin: wrongPin }), { code: "SESSION_NOT_FOUND" });
  const refusedPin = await scrape(url);
  t.equal(
    sampleValue(refusedPin, "sos_pin_refusals_total", { reason: "wrong" }),
    (sampleValue(joined, "sos_pin_refusals_total", { reason: "wrong" }) ?? 0) + 1,
    "a wrong PIN counts one refusal",
  );

  // Guessing on from the same address until the PIN guard holds it back.
  let wrong = 1;
  for (;;) {
    const refused = await joinAgent(gw.url, { kind: "pin", pin: wrongPin }).then(
      () => undefined,
      (error: unknown) => error,
    );
    if (!(refused instanceof JoinRefused)) throw new Error("a wrong PIN was accepted");
    if (refused.code === "PIN_RATE_LIMITED") break;
    wrong += 1;
  }
  const guessing = await scrape(url);
  t.equal(
    sampleValue(guessing, "sos_pin_refusals_total", { reason: "wrong" }),
    wrong,
    "each wrong PIN counted",
  );
  t.equal(
    sampleValue(guessing, "sos_pin_refusals_total", { reason: "rate_limited" }),
    1,
    "and the hold-back",
  );

  const stranger = new ApiClient(gw.url);
  const denied = await stranger.signIn("alice.1@example.test", "not-her-password");
  t.equal(errorCode(denied.body), "INVALID_CREDENTIALS");
  const refusedSignIn = await scrape(url);
  t.equal(sampleValue(refusedSignIn, "sos_sign_in_refusals_total", { reason: "invalid_credentials" }), 1);

  // A remote view: consent, connect, one signal each way.
  await alice.client.post(`/api/sessions/${session.id}/permission`);
  const ask = await agent.next("consent.request");
  agent.send({ type: "consent", requestId: ask.requestId, decision: "control" });
  await aliceConsole.next("session.updated", (m) => m.session.permissions.some((p) => p.state === "granted"));
  aliceConsole.send({ type: "remote.connect", sessionId: session.id });
  const peer = await agent.next("peer.open");
  agent.send({ type: "signal", peerId: peer.peerId, data: OFFER });
  await aliceConsole.next("remote.signal");
  aliceConsole.send({ type: "signal", sessionId: session.id, data: ANSWER });
  await agent.next("signal");
  const viewing = await scrape(url);
  t.equal(sampleValue(viewing, "sos_remote_views"), 1, "one remote view is open");
  t.equal(sampleValue(viewing, "sos_remote_views_opened_total"), 1);
  for (const direction of ["agent_to_console", "console_to_agent"]) {
    t.equal(
      sampleValue(viewing, "sos_signal_relay_seconds_count", { direction }),
      1,
      `one ${direction} relay observed`,
    );
    t.equal(
      sampleValue(viewing, "sos_signal_relay_seconds_bucket", { direction, le: "+Inf" }),
      1,
      "in the histogram's buckets",
    );
  }

  const closed = await alice.client.post(`/api/sessions/${session.id}/close`);
  t.equal(closed.status, 200);
  const after = await scrape(url);
  t.equal(sampleValue(after, "sos_connected_agents"), 0, "the closed session's agent is let go");
  t.equal(sampleValue(after, "sos_remote_views"), 0, "the view closed with the session");
  t.equal(sampleValue(after, "sos_remote_views_closed_total", { reason: "session_closed" }), 1);
  t.equal(sampleValue(after, "sos_sessions", { status: "Active" }), 0);
  t.equal(sampleValue(after, "sos_sessions", { status: "Closed" }), undefined, "closed ones are not a gauge");
  t.equal(sampleValue(after, "sos_sessions_ended_total", { reason: "closed" }), 1, "but an ended session");
});

t.test(
  "gateways started one after another in a process share one event-loop monitor: none is left running per closed gateway",
  async (t) => {
    // Counts the monitors prom-client asks Node for (it calls this when default metrics start).
    const original = perfHooks.monitorEventLoopDelay;
    let created = 0;
    perfHooks.monitorEventLoopDelay = (options) => {
      created += 1;
      return original(options);
    };
    t.teardown(() => {
      perfHooks.monitorEventLoopDelay = original;
    });
    for (let i = 0; i < 3; i += 1) {
      const gw = await startTestGateway({ config: { metricsToken: TOKEN } });
      const samples = await scrape(`${gw.url}/metrics`);
      t.ok(
        samples.some((s) => s.name === "nodejs_eventloop_lag_p99_seconds"),
        `gateway ${i + 1} shows the event-loop lag`,
      );
      await gw.close();
    }
    const more = [new GatewayMetrics(), new GatewayMetrics()];
    for (const metrics of more) t.match((await metrics.scrape()).body, /^nodejs_eventloop_lag_seconds /m);
    t.ok(created <= 1, `at most one monitor for the process (${created} created by 5 gateways' metrics)`);
  },
);
