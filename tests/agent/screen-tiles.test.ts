import t from "tap";
import {
  BUDGET_BYTES_PER_SECOND,
  BUDGET_HOLD_MS,
  MAX_REENTER_AFTER_MS,
  REENTER_AFTER_MS,
  ScreenTiles,
  SETTLED_MS,
  TILE_EVENTS,
  TILE_STATES,
  TILE_TRANSITIONS,
} from "../../agent/media/screen-tiles.ts";

t.test(
  "the table: a tile enters when it fits, leaves on overflow or cost, and cools before coming back",
  async (t) => {
    const tiles = new ScreenTiles(2);
    t.equal(tiles.state(0), "video");
    t.notOk(tiles.fire(0, "overflow", 0), "a video tile cannot overflow");
    t.ok(tiles.fire(0, "fits", 0));
    t.equal(tiles.state(0), "lossless");
    t.same([...tiles.frozen()], [1, 0]);
    t.notOk(tiles.fire(0, "fits", 10), "already lossless");
    t.ok(tiles.fire(0, "overflow", 20));
    t.equal(tiles.state(0), "cooling");
    t.notOk(tiles.fire(0, "fits", 30), "a cooling tile does not enter");
    t.notOk(tiles.mayEnter(0, 20 + REENTER_AFTER_MS - 1), "not before REENTER_AFTER_MS");
    t.ok(tiles.mayEnter(0, 20 + REENTER_AFTER_MS), "then video again");
    t.equal(tiles.state(0), "video");
    for (const state of TILE_STATES)
      for (const to of Object.values(TILE_TRANSITIONS[state]))
        t.ok(TILE_STATES.includes(to), `${state} -> ${to}`);
    t.ok(
      Object.values(TILE_TRANSITIONS).every((moves) =>
        Object.keys(moves).every((e) => TILE_EVENTS.includes(e as never)),
      ),
    );
  },
);

t.test(
  "each further leave doubles the wait, up to MAX_REENTER_AFTER_MS; a settled tile starts over",
  async (t) => {
    const tiles = new ScreenTiles(1);
    let at = 0;
    const waits: number[] = [];
    for (let k = 0; k < 8; k += 1) {
      tiles.fire(0, "fits", at);
      tiles.fire(0, "overflow", at + 10);
      const until = tiles.coolingUntil(0) ?? 0;
      waits.push(until - (at + 10));
      at = until;
      t.ok(tiles.mayEnter(0, at));
    }
    t.same(waits, [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 32_000, 32_000]);
    t.equal(MAX_REENTER_AFTER_MS, 32_000);
    tiles.fire(0, "fits", at);
    tiles.fire(0, "overBudget", at + SETTLED_MS);
    t.equal((tiles.coolingUntil(0) ?? 0) - (at + SETTLED_MS), REENTER_AFTER_MS, "lossless 10 s: 1 s again");
  },
);

t.test("the budget: a leaky bucket of BUDGET_HOLD_MS at BUDGET_BYTES_PER_SECOND", async (t) => {
  const tiles = new ScreenTiles(1);
  tiles.fire(0, "fits", 0);
  // Exactly the budget, 20 times a second for 10 s: never over.
  const perFrame = BUDGET_BYTES_PER_SECOND / 20;
  for (let at = 0; at < 10_000; at += 50) {
    tiles.charge(0, perFrame, at);
    if (tiles.overBudget(0, at)) t.fail(`over budget at ${at} ms while spending the budget`);
  }
  // Twice the budget: over once the bucket filled (BUDGET_HOLD_MS of budget), about 3 s later.
  let over = -1;
  for (let at = 10_000; at < 20_000 && over < 0; at += 50) {
    tiles.charge(0, 2 * perFrame, at);
    if (tiles.overBudget(0, at)) over = at - 10_000;
  }
  t.ok(
    over >= BUDGET_HOLD_MS - 100 && over <= BUDGET_HOLD_MS + 100,
    `over after ${over} ms at twice the budget`,
  );
  t.notOk(tiles.overBudget(0, 10_000 + over + BUDGET_HOLD_MS), "drained after as long again without cost");
});

t.test("off hands a lossless tile straight back to video; a bad tile index throws", async (t) => {
  const tiles = new ScreenTiles(1);
  tiles.fire(0, "fits", 0);
  t.ok(tiles.fire(0, "off", 5));
  t.equal(tiles.state(0), "video");
  t.notOk(tiles.fire(0, "off", 6));
  t.throws(() => tiles.fire(1, "fits", 0));
});
