import t from "tap";
import {
  CONNECTION_STATES,
  CONNECTION_TRANSITIONS,
  type ConnectionState,
} from "../../agent/session/connection-states.ts";
import { messagesFor } from "../../agent/session/messages.ts";
import { SignalingClient } from "../../agent/session/signaling-client.ts";
import { createLifecycle } from "../../shared/lifecycle.ts";
import { startTestGateway, TEST_DEVICE, type TestGateway } from "../helpers/gateway.ts";
import { deadline } from "../helpers/security.ts";

/** The agent's signaling connection as a state machine, against the real gateway on port 0. */

let gw: TestGateway;
t.before(async () => {
  gw = await startTestGateway();
});
t.teardown(() => gw.close());

function client(pin: string): SignalingClient {
  return new SignalingClient({
    gateway: gw.url,
    join: { kind: "pin", pin },
    device: TEST_DEVICE,
    messages: messagesFor("en"),
    backoff: { baseMs: 20, maxMs: 200 },
    graceMs: 30_000,
  });
}

/** Every move of the client, in order. */
function moves(signaling: SignalingClient): ConnectionState[] {
  const seen: ConnectionState[] = [];
  signaling.on("state", (to) => seen.push(to));
  return seen;
}

function reached(signaling: SignalingClient, state: ConnectionState): Promise<void> {
  return deadline(
    new Promise<void>((resolve) => {
      if (signaling.state === state) resolve();
      signaling.on("state", (to) => {
        if (to === state) resolve();
      });
    }),
    `state ${state}`,
    20_000,
  );
}

t.test("the transition table: every state is reachable from idle, closed is terminal", async (t) => {
  const reachable = new Set<ConnectionState>(["idle"]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const from of [...reachable]) {
      for (const to of CONNECTION_TRANSITIONS[from]) {
        if (!reachable.has(to)) {
          reachable.add(to);
          grew = true;
        }
      }
    }
  }
  t.same([...reachable].sort(), [...CONNECTION_STATES].sort());
  t.same(CONNECTION_TRANSITIONS.closed, []);
  for (const state of CONNECTION_STATES) {
    if (state !== "closed") t.ok(CONNECTION_TRANSITIONS[state].includes("closed"), `${state} can close`);
  }
});

t.test("a lifecycle refuses a move its table does not list", async (t) => {
  const changes: string[] = [];
  const life = createLifecycle({
    name: "test",
    initial: "a" as "a" | "b" | "c",
    transitions: { a: ["b"], b: ["c"], c: [] },
    changed: (to, from) => changes.push(`${from}->${to}`),
  });
  t.throws(() => life.set("c"), { code: "INTERNAL", message: "test: no transition from a to c" });
  t.equal(life.state, "a");
  life.set("b");
  t.ok(life.can("c"));
  t.notOk(life.can("a"));
  t.same(changes, ["a->b"]);
});

t.test("joined, dropped by a gateway restart, resumed: each move in order", async (t) => {
  const session = await gw.newSession(gw.admin);
  const signaling = client(session.pin);
  t.teardown(() => signaling.close());
  const seen = moves(signaling);
  const failed: string[] = [];
  signaling.on("failed", (error) => failed.push(error.message));
  t.equal(signaling.state, "idle");
  await signaling.connect();
  t.same(seen, ["joining", "open"]);
  t.ok(signaling.connected);

  const reconnected = new Promise<void>((resolve) => signaling.once("reconnected", () => resolve()));
  await gw.restart();
  await deadline(reconnected, "the resume", 20_000);
  t.equal(signaling.state, "open");
  t.same(seen.slice(0, 4), ["joining", "open", "waiting", "resuming"]);
  t.equal(seen.at(-1), "open");
  t.same(failed, []);

  signaling.close();
  signaling.close();
  t.equal(signaling.state, "closed");
  t.equal(seen.filter((state) => state === "closed").length, 1, "closed once");
});

t.test("close() during the first hello: connect() rejects and no socket stays joined", async (t) => {
  const session = await gw.newSession(gw.admin);
  const signaling = client(session.pin);
  const joining = signaling.connect();
  signaling.close();
  const refused = await joining.then(
    () => undefined,
    (error: unknown) => error,
  );
  t.match(refused, { name: "AgentError", reason: "gateway_unreachable" });
  t.equal(signaling.state, "closed");
  t.notOk(signaling.connected);
  // The session is free for the end user's next start: a new join is welcomed.
  const again = client(session.pin);
  t.teardown(() => again.close());
  await again.connect();
  t.equal(again.state, "open");
});

t.test("close() while waiting to resume stops for good: no attempt, no failure", async (t) => {
  const session = await gw.newSession(gw.admin);
  const signaling = client(session.pin);
  const seen = moves(signaling);
  const failed: string[] = [];
  signaling.on("failed", (error) => failed.push(error.message));
  await signaling.connect();
  const waiting = reached(signaling, "waiting");
  const restarted = gw.restart();
  await waiting;
  signaling.close();
  await restarted;
  const after = seen.length;
  // A later join of another agent proves the gateway is back; the closed client stays closed.
  const other = client((await gw.newSession(gw.admin)).pin);
  t.teardown(() => other.close());
  await other.connect();
  t.equal(signaling.state, "closed");
  t.same(seen.slice(after), []);
  t.same(failed, []);
});
