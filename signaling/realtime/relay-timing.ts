import { performance } from "node:perf_hooks";

/**
 * A socket handler that reports how long it took once it succeeded: wraps the `signal` relay of
 * each socket for the relay-latency metric. A handler that throws or rejects is not reported (its
 * refusal is no relay); one that returns a promise is timed until it settles.
 */
export function timedRelay<C, M>(
  handler: (context: C, message: M) => void | Promise<void>,
  relayed: (startedAt: number) => void,
): (context: C, message: M) => void | Promise<void> {
  return (context, message) => {
    const startedAt = performance.now();
    const result = handler(context, message);
    if (result instanceof Promise) return result.then(() => relayed(startedAt));
    relayed(startedAt);
  };
}
