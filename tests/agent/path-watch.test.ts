import t from "tap";
import { PATH_DEFAULTS, PathWatch, type SelectedPair } from "../../agent/peer/path-watch.ts";

/**
 * When the agent calls a connection restored, lost or in need of another attempt, decided from
 * what the path answers (the nominated pair and its consent responses), never from werift's
 * connection states, which say "connected" again while an ICE restart over a dead path begins.
 */

function connectedWatch(pair: SelectedPair) {
  const watch = new PathWatch(PATH_DEFAULTS);
  watch.attemptStarted(0);
  watch.answered();
  watch.up(0);
  watch.check(0, pair);
  return watch;
}

t.test(
  "a path silent past the quiet time gets another attempt, and nothing restores it without an answer",
  async (t) => {
    const pair = { responsesReceived: 3 };
    const watch = connectedWatch(pair);
    t.equal(watch.check(PATH_DEFAULTS.quiet + 1, pair), "next_attempt");
    watch.interrupt();
    watch.attemptStarted(PATH_DEFAULTS.quiet + 1);
    // The same pair with no new response, as werift shows it while the restart begins.
    t.equal(watch.check(PATH_DEFAULTS.quiet + 500, pair), "none", "no restore from a silent pair");
    t.ok(watch.interrupted, "still interrupted");
    t.equal(watch.check(PATH_DEFAULTS.consent + 1, pair), "consent_expired", "30 s of silence end it");
  },
);

t.test(
  "an interrupted path is restored once the pair answers again, or a new pair is nominated",
  async (t) => {
    const pair = { responsesReceived: 3 };
    const watch = connectedWatch(pair);
    watch.check(PATH_DEFAULTS.quiet + 1, pair);
    watch.interrupt();
    t.equal(watch.check(PATH_DEFAULTS.quiet + 2_000, { responsesReceived: 1 }), "restored", "a new pair");
    t.notOk(watch.interrupted);
    t.equal(watch.check(PATH_DEFAULTS.quiet + 3_000, { responsesReceived: 1 }), "none");

    const again = connectedWatch(pair);
    again.interrupt();
    t.equal(again.check(1_000, { ...pair }), "restored", "a different pair object counts as nominated anew");
    const same = { responsesReceived: 3 };
    const third = connectedWatch(same);
    third.interrupt();
    same.responsesReceived = 4;
    t.equal(third.check(1_000, same), "restored", "a consent response more on the same pair");
  },
);
