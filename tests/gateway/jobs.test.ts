import { mock } from "node:test";
import { pino } from "pino";
import t, { type Test } from "tap";
import { JOB_RETRY, Jobs } from "../../signaling/jobs.ts";

/**
 * The gateway's job runner (signaling/jobs.ts) alone: when a failed job is tried again (after,
 * untilDone, every), that a cancelled or stopped one is not, and what health is told meanwhile.
 * Node's timers and Date are mocked (node:test's MockTimers), so 30-second backoffs take no time
 * and every attempt's time is exact; time moves in steps of 100 ms, and between steps the
 * promise continuations of the jobs run.
 */

const STEP_MS = 100;

/** Work that fails its first `failures` runs and records when each run started (mocked time). */
function flaky(failures: number) {
  const at: number[] = [];
  const work = () => {
    at.push(Date.now());
    if (at.length <= failures) return Promise.reject(new Error(`run ${at.length} failed`));
    return Promise.resolve();
  };
  return { at, work };
}

/** Lets the jobs' promise continuations run (they arm the next timer). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Moves the mocked time on by `ms`, step by step, the jobs running between steps. */
async function advance(ms: number) {
  // Timers due now (a delay of 0) first.
  mock.timers.tick(0);
  await settle();
  for (let moved = 0; moved < ms; moved += STEP_MS) {
    mock.timers.tick(STEP_MS);
    await settle();
  }
}

/** Each run's start after the first, relative to the first. */
const offsets = (at: number[]) => at.map((time) => time - (at[0] ?? 0));

t.beforeEach(() => {
  mock.timers.enable({ apis: ["setTimeout", "setInterval", "Date"], now: 0 });
});
t.afterEach(() => {
  mock.timers.reset();
});

function newJobs(t: Test) {
  const jobs = new Jobs(pino({ level: "silent" }));
  t.teardown(() => jobs.stop());
  return jobs;
}

t.test(
  "after: runs once after its delay, and after failures again in 1 s, 2 s, 4 s … at most 30 s, until it succeeds",
  async (t) => {
    const jobs = newJobs(t);
    const { at, work } = flaky(7);
    jobs.after("resync#s1", 500, work);
    await advance(400);
    t.same(at, [], "not before its delay");
    await advance(100);
    t.same(at, [500], "at its delay");
    t.match(jobs.failing(), [{ job: "resync", count: 1, attempts: 1, error: "run 1 failed" }]);
    await advance(200_000);
    t.same(
      offsets(at),
      [0, 1_000, 3_000, 7_000, 15_000, 31_000, 61_000, 91_000],
      "1, 2, 4, 8, 16, then 30 s (not 32) apart",
    );
    t.same(jobs.failing(), [], "not failing once it succeeded");
    await advance(60_000);
    t.equal(at.length, 8, "and never run again");
  },
);

t.test(
  "untilDone: runs at once, in the call, and after failures again in 1 s, 2 s, 4 s … until it succeeds",
  async (t) => {
    const jobs = newJobs(t);
    const { at, work } = flaky(3);
    jobs.untilDone("audit#s1", work);
    t.same(at, [0], "started in the call (writes keep their order)");
    await advance(20_000);
    t.same(offsets(at), [0, 1_000, 3_000, 7_000], "the same backoff as every other retried job");
    t.same(jobs.failing(), []);
  },
);

t.test("a cancelled job is not tried again and no longer shows as failing", async (t) => {
  const jobs = newJobs(t);
  const waiting = flaky(Number.POSITIVE_INFINITY);
  const cancelWaiting = jobs.after("grace#a", 0, waiting.work);
  await advance(1_000);
  t.equal(waiting.at.length, 2, "failed twice");
  t.match(jobs.failing(), [{ job: "grace", count: 1 }]);
  cancelWaiting();
  t.same(jobs.failing(), [], "cancelled between tries: not failing");

  // Cancelled while a run is going that then fails: that failure does not count.
  let fail: (error: Error) => void = () => {};
  let runs = 0;
  const cancelRunning = jobs.after("grace#b", 0, () => {
    runs += 1;
    return new Promise<void>((_, reject) => {
      fail = reject;
    });
  });
  await advance(STEP_MS);
  t.equal(runs, 1, "running");
  cancelRunning();
  fail(new Error("the store is locked"));
  await settle();
  t.same(jobs.failing(), [], "cancelled during a run that failed: not failing");
  await advance(120_000);
  t.equal(waiting.at.length, 2, "neither is tried again");
  t.equal(runs, 1);
  cancelWaiting();
  t.pass("cancelling twice is harmless");
});

t.test(
  "every: runs each interval; a failed run is tried again with backoff, never later than the next tick, and ticks meanwhile start nothing",
  async (t) => {
    const jobs = newJobs(t);
    const { at, work } = flaky(4);
    jobs.every("retention", 5_000, work, { now: true });
    t.same(at, [0], "now: the first run at once");
    await advance(20_000);
    t.same(
      at,
      [0, 1_000, 3_000, 7_000, 12_000, 15_000, 20_000],
      "retried 1, 2, 4, then 5 s (the interval, not 8) later; the ticks at 5 and 10 s started nothing; then every 5 s",
    );
    t.same(jobs.failing(), []);

    const late = flaky(0);
    jobs.every("sweep", 3_000, late.work);
    await advance(2_900);
    t.same(late.at, [], "without now: the first run after an interval");
    await advance(STEP_MS);
    t.equal(late.at.length, 1);
  },
);

t.test("every: a tick while a slow run is going starts no second run", async (t) => {
  const jobs = newJobs(t);
  let finish = () => {};
  let runs = 0;
  jobs.every("sweep", 1_000, () => {
    runs += 1;
    return new Promise<void>((resolve) => {
      finish = resolve;
    });
  });
  await advance(3_500);
  t.equal(runs, 1, "ticks at 2 s and 3 s started nothing");
  finish();
  await advance(1_000);
  t.equal(runs, 2, "the next tick after it ended runs");
});

t.test("stop: no job runs or is retried after it; work handed in then runs once, unretried", async (t) => {
  const jobs = newJobs(t);
  const retried = flaky(Number.POSITIVE_INFINITY);
  jobs.after("grace#a", 0, retried.work);
  const periodic = flaky(Number.POSITIVE_INFINITY);
  jobs.every("sweep", 10_000, periodic.work, { now: true });
  const pending = flaky(0);
  jobs.after("grace#b", 60_000, pending.work);
  await advance(1_000);
  t.equal(retried.at.length, 2);
  t.equal(periodic.at.length, 2);
  jobs.stop();
  jobs.stop();
  const late = flaky(Number.POSITIVE_INFINITY);
  jobs.untilDone("audit#late", late.work);
  t.equal(late.at.length, 1, "untilDone after stop: run once (a write of the shutdown itself)");
  const afterStop = flaky(0);
  jobs.after("grace#c", 0, afterStop.work);
  jobs.every("sweep2", 1_000, afterStop.work, { now: true });
  await advance(120_000);
  t.equal(retried.at.length, 2, "a failing job is not retried");
  t.equal(periodic.at.length, 2, "a periodic one neither retried nor run again");
  t.same(pending.at, [], "a pending one never runs");
  t.equal(late.at.length, 1, "and not retried");
  t.same(afterStop.at, [], "jobs given after stop never run");
});

t.test("failing: by kind, never by id; the first failure's time, the most attempts", async (t) => {
  const jobs = newJobs(t);
  jobs.after("grace#a", 0, flaky(Number.POSITIVE_INFINITY).work);
  await advance(2_000);
  jobs.after("grace#b", 0, flaky(Number.POSITIVE_INFINITY).work);
  await advance(STEP_MS);
  t.same(jobs.failing(), [{ job: "grace", count: 2, since: 0, attempts: 2, error: "run 1 failed" }]);
  t.equal(JOB_RETRY.baseMs, 1_000);
});
