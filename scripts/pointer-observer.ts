/**
 * For `npm run bench:agent`: notes when the X pointer reaches a given place, from its own thread.
 *
 * The benchmark's main thread also receives the technician's video; timing the pointer there
 * would add that thread's own delays to the agent's input latency. This worker asks the X server
 * for the pointer once a millisecond (a sleep on an Atomics wait, not a busy loop: two cores) and
 * writes the moment it saw the target, on the clock both threads share (timeOrigin + now).
 */
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { openNutInjector } from "../agent/input/nut-injector.ts";

/** Int32 slots: the target's number (bumped per target), x, y, the number seen last, stop. */
const TARGET = 0;
const X = 1;
const Y = 2;
const SEEN = 3;
const STOP = 4;

type Shared = { control: SharedArrayBuffer; seenAt: SharedArrayBuffer };

export type PointerObserver = {
  /** Resolves with the time (timeOrigin + now, ms) the pointer was first seen at (x, y). */
  arrival(x: number, y: number): Promise<number>;
  stop(): Promise<void>;
};

export async function startPointerObserver(): Promise<PointerObserver> {
  const shared: Shared = {
    control: new SharedArrayBuffer(5 * Int32Array.BYTES_PER_ELEMENT),
    seenAt: new SharedArrayBuffer(Float64Array.BYTES_PER_ELEMENT),
  };
  const control = new Int32Array(shared.control);
  const seenAt = new Float64Array(shared.seenAt);
  const worker = new Worker(new URL(import.meta.url), { workerData: shared });
  await new Promise<void>((resolve, reject) => {
    worker.once("message", () => resolve());
    worker.once("error", reject);
  });
  return {
    async arrival(x, y) {
      const target = Atomics.load(control, TARGET) + 1;
      Atomics.store(control, X, x);
      Atomics.store(control, Y, y);
      Atomics.store(control, TARGET, target);
      Atomics.notify(control, TARGET);
      const deadline = performance.now() + 2_000;
      while (Atomics.load(control, SEEN) !== target) {
        const seen = Atomics.load(control, SEEN);
        const result = Atomics.waitAsync(control, SEEN, seen, deadline - performance.now());
        if ((await result.value) === "timed-out")
          throw new Error(`the pointer did not reach ${x},${y} in 2 s`);
      }
      return seenAt[0] ?? Number.NaN;
    },
    async stop() {
      Atomics.store(control, STOP, 1);
      Atomics.notify(control, TARGET);
      await worker.terminate();
    },
  };
}

async function observe({ control: controlBuffer, seenAt: seenBuffer }: Shared): Promise<void> {
  const control = new Int32Array(controlBuffer);
  const seenAt = new Float64Array(seenBuffer);
  const injector = await openNutInjector();
  parentPort?.postMessage("ready");
  while (Atomics.load(control, STOP) === 0) {
    const target = Atomics.load(control, TARGET);
    if (target !== Atomics.load(control, SEEN)) {
      const at = await injector.position();
      if (at.x === Atomics.load(control, X) && at.y === Atomics.load(control, Y)) {
        seenAt[0] = performance.timeOrigin + performance.now();
        Atomics.store(control, SEEN, target);
        Atomics.notify(control, SEEN);
        continue;
      }
      Atomics.wait(control, TARGET, target, 1);
    } else {
      Atomics.wait(control, TARGET, target);
    }
  }
}

if (!isMainThread) await observe(workerData as Shared);
