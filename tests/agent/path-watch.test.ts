import t from "tap";
import {
  attemptOrder,
  nextPath,
  PATH_DEFAULTS,
  PathWatch,
  recoveryAttempt,
  type SelectedPair,
} from "../../agent/peer/path-watch.ts";

/**
 * When the agent calls a connection restored, lost or in need of another attempt, and on which
 * TURN transport it restarts ICE, decided from what the path answers (the nominated pair and its
 * consent responses), never from werift's connection states, which say "connected" again while an
 * ICE restart over a dead path begins. Attempts 0, 1, 2 are TURN/UDP, TCP, TLS (ice-servers.ts).
 */

const { answer, attempt, consent, quiet, retry } = PATH_DEFAULTS;

/** A watch whose path came up at 0 on `on` (after the restarts that took), with `pair` selected. */
function connectedWatch(pair: SelectedPair, attempts = 3, on = 0) {
  const watch = new PathWatch(PATH_DEFAULTS, attempts);
  let now = 0;
  watch.attemptStarted(now);
  watch.answered();
  while (watch.attempt < on) {
    now += attempt + 1;
    watch.check(now, undefined);
    watch.attemptStarted(now);
    watch.answered();
  }
  watch.up(0);
  watch.check(0, pair);
  return watch;
}

t.test("before the first connection: each TURN transport once, in order, then the peer ends", async (t) => {
  const watch = new PathWatch(PATH_DEFAULTS, 3);
  watch.attemptStarted(0);
  t.equal(watch.check(answer + 1, undefined), "no_answer", "no answer to the offer");

  const answered = new PathWatch(PATH_DEFAULTS, 3);
  answered.attemptStarted(0);
  answered.answered();
  t.equal(answered.check(attempt, undefined), "none");
  const seen: string[] = [];
  for (let now = attempt + 1; answered.state.phase === "connecting"; now += attempt + 1) {
    seen.push(`${answered.check(now, undefined)}:${answered.attempt}`);
    answered.attemptStarted(now);
    answered.answered();
  }
  t.same(seen, ["restart:1", "restart:2", "failed:2"], "UDP, then TCP, then TLS, then failed");
  t.equal(answered.failed(), "none", "nothing moves an ended path");

  const covered = new PathWatch(PATH_DEFAULTS, 3, [[1], [], []]);
  covered.attemptStarted(0);
  covered.answered();
  const order: string[] = [];
  for (let now = attempt + 1; covered.state.phase === "connecting"; now += attempt + 1) {
    order.push(`${covered.check(now, undefined)}:${covered.attempt}`);
    covered.attemptStarted(now);
    covered.answered();
  }
  t.same(
    order,
    ["restart:2", "restart:2", "failed:2"],
    "UDP covering TCP (werift's fallback): TLS next, after 15 s, not 30; as many restarts as before",
  );

  const one = new PathWatch(PATH_DEFAULTS, 1);
  one.attemptStarted(0);
  one.answered();
  t.same(
    [one.failed(), one.failed(), one.failed()],
    ["restart", "restart", "failed"],
    "no TURN: two restarts",
  );

  const restarted = new PathWatch(PATH_DEFAULTS, 3);
  restarted.attemptStarted(0);
  restarted.answered();
  t.equal(restarted.check(attempt + 1, undefined), "restart");
  restarted.attemptStarted(attempt + 1);
  t.equal(restarted.check(attempt + 1 + answer + 1, undefined), "no_answer", "a restart's offer unanswered");
});

t.test(
  "a path silent past the quiet time restarts on the transport that carried it, then the others best first, round and round, until the consent timeout",
  async (t) => {
    const pair = { responsesReceived: 3 };
    const watch = connectedWatch(pair, 3, 2);
    t.equal(watch.state.phase, "up");
    t.equal(watch.check(quiet + 1, pair), "interrupted");
    t.equal(watch.attempt, 2, "first the TLS that worked");
    const order: number[] = [];
    let now = quiet + 1;
    watch.attemptStarted(now);
    watch.answered();
    for (; now < consent; now += 1_000) {
      const action = watch.check(now, pair);
      if (action === "restart") {
        order.push(watch.attempt);
        watch.attemptStarted(now);
        watch.answered();
      } else t.equal(action, "none", `nothing else at ${now} ms`);
    }
    t.same(order, [0, 1], "then UDP, then TCP, within the consent time");
    t.ok(watch.interrupted, "still interrupted: only the consent timeout ends it");
    t.equal(watch.check(consent + 1, pair), "consent_expired", "30 s of silence end it");
    t.equal(watch.state.phase, "ended");

    t.same(
      Array.from({ length: 7 }, (_, n) => recoveryAttempt(1, 3, n)),
      [1, 0, 2, 1, 0, 2, 1],
      "the ladder goes round (it never runs out while the consent time lasts)",
    );
    t.same(
      Array.from({ length: 3 }, (_, n) => recoveryAttempt(0, 1, n)),
      [0, 0, 0],
      "without TURN, the one list again",
    );
    t.ok(retry * 3 <= consent - quiet, "every transport gets a restart before the consent timeout");
  },
);

t.test(
  "after a break, a transport the last restart already tried is left out: a network passing only TLS gets it within the consent time",
  async (t) => {
    // Attempts as ice-servers.ts makes them from the product's URLs: TURN/UDP falls back to TCP on
    // the same port (attemptCovers), so it covers the TURN/TCP attempt.
    const covers = [[1], [], []];
    t.same(attemptOrder(0, 3, covers), [0, 2], "after UDP: TLS, not TCP again");
    t.same(attemptOrder(1, 3, covers), [1, 0, 2], "TCP that worked first, then UDP and TLS");
    t.same(attemptOrder(2, 3, covers), [2, 0], "TLS that worked first, then UDP (with its TCP)");
    t.same(attemptOrder(0, 3), [0, 1, 2], "without covers: every transport");

    const pair = { responsesReceived: 3 };
    const watch = new PathWatch(PATH_DEFAULTS, 3, covers);
    watch.attemptStarted(0);
    watch.answered();
    watch.up(0);
    watch.check(0, pair);
    t.equal(watch.check(quiet + 1, pair), "interrupted");
    t.equal(watch.attempt, 0, "first UDP, which carried the view");
    watch.attemptStarted(quiet + 1);
    // werift's UDP gathering ends (and the answer is applied) after its UDP retries (6.35 s) and
    // its TCP fallback (agent/peer/peer-connection.ts, TURN_CONNECT_TIMEOUT_S).
    const gathered = quiet + 1 + 6_350 + 3_000;
    t.equal(watch.check(gathered - 1, pair), "none", "not before the answer");
    watch.answered();
    t.equal(watch.check(gathered + 1_000, pair), "restart", "at the next look after the answer");
    t.equal(watch.attempt, 2, "on TLS");
    t.ok(consent - (gathered + 1_000) >= 5_000, "with 5 s left for TLS before the consent timeout");
  },
);

t.test("the restart that brought the path back is the one tried first after the next break", async (t) => {
  const pair = { responsesReceived: 3 };
  const watch = connectedWatch(pair, 3, 0);
  t.equal(watch.check(quiet + 1, pair), "interrupted");
  t.equal(watch.attempt, 0);
  watch.attemptStarted(quiet + 1);
  watch.answered();
  t.equal(watch.check(quiet + retry + 2, pair), "restart");
  t.equal(watch.attempt, 1, "UDP did not come back in time: TCP");
  const back = { responsesReceived: 1 };
  t.equal(watch.check(quiet + retry + 3_000, back), "restored", "a new pair is nominated");
  t.same(watch.state, { phase: "up", attempt: 1, working: 1, restarts: 0, attempts: 3, covers: [] });
  const later = quiet + retry + 3_000 + quiet + 1;
  t.equal(watch.check(later, back), "interrupted", "the next break");
  t.equal(watch.attempt, 1, "restarts on TCP, which came back last time");
});

t.test(
  "a further restart waits for the answer to the last one (an answer applied to the next offer would pair the wrong ICE generations)",
  async (t) => {
    const pair = { responsesReceived: 3 };
    const watch = connectedWatch(pair);
    t.equal(watch.check(quiet + 1, pair), "interrupted");
    watch.attemptStarted(quiet + 1);
    t.equal(watch.check(quiet + retry + 2_000, pair), "none", "unanswered: no restart");
    t.equal(watch.failed(), "none", "nor on werift's failed state");
    watch.answered();
    t.equal(watch.check(quiet + retry + 3_000, pair), "restart", "answered: the next transport");
    t.equal(watch.check(consent + 1, pair), "consent_expired", "the consent timeout still ends it");
  },
);

t.test("werift's failed state moves the path as a timed-out attempt does", async (t) => {
  const pair = { responsesReceived: 3 };
  const watch = connectedWatch(pair, 3, 1);
  t.equal(watch.failed(), "interrupted", "a connected path that fails is interrupted");
  t.equal(watch.attempt, 1);
  watch.attemptStarted(1);
  watch.answered();
  t.equal(watch.failed(), "restart");
  t.equal(watch.attempt, 0);
  t.same(nextPath({ ...watch.state, phase: "ended" }, "up").phase, "ended", "ended is final");
});

t.test("a renewed credential with the same URLs changes neither the phase nor the attempt", async (t) => {
  const pair = { responsesReceived: 3 };
  const watch = connectedWatch(pair, 3, 2);
  watch.check(quiet + 1, pair);
  const before = watch.state;
  watch.attemptsChanged(3);
  t.same(watch.state, before);
  watch.attemptsChanged(1);
  t.equal(watch.attempt, 0, "fewer lists (not expected): kept in range");
});

t.test("nothing restores a recovering path without an answer", async (t) => {
  const pair = { responsesReceived: 3 };
  const watch = connectedWatch(pair);
  t.equal(watch.check(quiet + 1, pair), "interrupted");
  watch.attemptStarted(quiet + 1);
  // The same pair with no new response, as werift shows it while the restart begins.
  t.equal(watch.check(quiet + 500, pair), "none", "no restore from a silent pair");
  t.ok(watch.interrupted, "still interrupted");

  const again = connectedWatch(pair);
  again.check(quiet + 1, pair);
  t.equal(
    again.check(quiet + 1_000, { ...pair }),
    "restored",
    "a different pair object counts as nominated anew",
  );
  const same = { responsesReceived: 3 };
  const third = connectedWatch(same);
  third.check(quiet + 1, same);
  same.responsesReceived = 4;
  t.equal(third.check(quiet + 1_000, same), "restored", "a consent response more on the same pair");
  t.notOk(third.interrupted);
});
