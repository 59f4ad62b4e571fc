import { performance } from "node:perf_hooks";
import type { Store } from "../store/store.ts";

/**
 * The store with every operation timed, as the gateway sees it: the Store interface unchanged, each
 * method's duration reported by its name. A method that returns a promise (a networked store) is
 * timed until it settles. `transaction` is timed whole: the work inside it and the commit.
 */
export function timedStore(store: Store, observe: (operation: string, seconds: number) => void): Store {
  const timed = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== "function" || typeof property !== "string") return value;
      let wrapper = timed.get(property);
      if (wrapper === undefined) {
        const method = value as (...args: unknown[]) => unknown;
        wrapper = (...args: unknown[]): unknown => {
          const started = performance.now();
          const done = () => observe(property, (performance.now() - started) / 1000);
          let result: unknown;
          try {
            result = method.apply(target, args);
          } catch (error) {
            done();
            throw error;
          }
          if (result instanceof Promise) return result.finally(done);
          done();
          return result;
        };
        timed.set(property, wrapper);
      }
      return wrapper;
    },
  });
}
