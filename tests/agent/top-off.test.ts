import t from "tap";
import {
  afterFrame,
  afterInput,
  afterTopOff,
  msUntilTopOff,
  NO_TOP_OFF,
  TOP_OFF_AFTER_INPUT_MS,
  TOP_OFF_AFTER_MS,
  TOP_OFFS,
  type TopOff,
  topOffDue,
} from "../../agent/media/top-off.ts";

/** The capture worker encodes a still picture again a few times, then stops until it changes. */

/** Top-offs of a picture encoded at 0 on a screen checked every `stepMs` and never changing. */
function stillScreen(stepMs: number, untilMs: number): number[] {
  let topOff: TopOff = afterFrame(0);
  const at: number[] = [];
  for (let now = stepMs; now <= untilMs; now += stepMs) {
    if (!topOffDue(topOff, now)) continue;
    at.push(now);
    topOff = afterTopOff(topOff, now);
  }
  return at;
}

t.test("a still screen gets TOP_OFFS top-offs, TOP_OFF_AFTER_MS apart, then none", async (t) => {
  t.same(
    stillScreen(10, 60_000),
    Array.from({ length: TOP_OFFS }, (_, i) => (i + 1) * TOP_OFF_AFTER_MS),
  );
});

t.test("nothing is due before the screen has been still for TOP_OFF_AFTER_MS", async (t) => {
  const topOff = afterFrame(1_000);
  t.notOk(topOffDue(topOff, 1_000 + TOP_OFF_AFTER_MS - 1));
  t.ok(topOffDue(topOff, 1_000 + TOP_OFF_AFTER_MS));
  t.equal(msUntilTopOff(topOff, 1_050), TOP_OFF_AFTER_MS - 50, "the worker wakes for it");
  t.equal(msUntilTopOff(topOff, 5_000), 0, "overdue: at once");
});

t.test("a change cancels pending top-offs; the next frame starts them over", async (t) => {
  const partway = afterTopOff(afterFrame(0), TOP_OFF_AFTER_MS);
  t.match(partway, { state: "waiting", left: TOP_OFFS - 1 });
  // The worker drops them when a capture differs, before that capture is encoded.
  t.notOk(topOffDue(NO_TOP_OFF, 60_000), "none after a change");
  t.equal(msUntilTopOff(NO_TOP_OFF, 0), undefined, "and no wake-up for one");
  t.match(afterFrame(500), { state: "waiting", left: TOP_OFFS, dueAt: 500 + TOP_OFF_AFTER_MS });
});

t.test("after the last top-off nothing more is due, however long the screen stays still", async (t) => {
  let topOff: TopOff = afterFrame(0);
  for (let i = 1; i <= TOP_OFFS; i += 1) topOff = afterTopOff(topOff, i * TOP_OFF_AFTER_MS);
  t.same(topOff, NO_TOP_OFF);
  t.same(afterTopOff(topOff, 10_000), NO_TOP_OFF);
});

/**
 * Someone types a key every `gapMs` from 0 until `typingUntil` (the worker hears of input at most
 * every 250 ms, as screen-stream.ts throttles it); each key's echo is a frame 30 ms later. The
 * screen is checked every 10 ms, as the worker wakes for a due top-off. Returns when top-offs came.
 */
function typing(gapMs: number, typingUntil: number): number[] {
  let topOff: TopOff = NO_TOP_OFF;
  let heardAt = Number.NEGATIVE_INFINITY;
  let lastKey = Number.NEGATIVE_INFINITY;
  const at: number[] = [];
  for (let now = 0; now <= typingUntil + 5_000; now += 10) {
    if (now <= typingUntil && now % gapMs === 0) {
      lastKey = now;
      if (now - heardAt >= 250) {
        heardAt = now;
        topOff = afterInput(topOff, now);
      }
    }
    if (now === lastKey + 30) {
      topOff = afterFrame(now, heardAt);
      continue;
    }
    if (!topOffDue(topOff, now)) continue;
    at.push(now);
    topOff = afterTopOff(topOff, now);
  }
  return at;
}

t.test("while someone types, top-offs wait: the next key's echo does not queue behind one", async (t) => {
  // A key every 300 ms for 3 s: before, a top-off came 200 ms after each echo, 70 ms before the
  // next key, and x264 took 20-40 ms for it (more under load) while the next echo waited.
  const at = typing(300, 3_000);
  t.ok(at.length > 0, "top-offs come once typing stops");
  t.ok(
    at.every((time) => time >= 3_000 + TOP_OFF_AFTER_INPUT_MS - 250),
    `none while typing, the first a pause after the last key (${at.join(", ")})`,
  );
  t.equal(at.length, TOP_OFFS, "and all of them");
});

t.test("input while top-offs are waiting moves them past the pause", async (t) => {
  const waiting = afterFrame(0);
  t.match(afterInput(waiting, 100), {
    state: "waiting",
    left: TOP_OFFS,
    dueAt: 100 + TOP_OFF_AFTER_INPUT_MS,
  });
  t.same(afterInput(NO_TOP_OFF, 100), NO_TOP_OFF, "nothing to wait for: still nothing");
  t.same(afterInput(waiting, -10_000), waiting, "old input changes nothing");
  t.match(afterFrame(0, Number.NEGATIVE_INFINITY), { dueAt: TOP_OFF_AFTER_MS }, "no input: as before");
});
