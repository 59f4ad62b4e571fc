import { useEffect, useRef, useState } from "preact/hooks";

/** A value that components can watch: the console's whole state is a few of these. */
export type Store<T> = {
  get(): T;
  set(next: T): void;
  update(change: (current: T) => T): void;
  subscribe(listener: () => void): () => void;
};

export function createStore<T>(initial: T): Store<T> {
  let value = initial;
  const listeners = new Set<() => void>();
  const set = (next: T): void => {
    if (Object.is(next, value)) return;
    value = next;
    for (const listener of [...listeners]) listener();
  };
  return {
    get: () => value,
    set,
    update: (change) => set(change(value)),
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** Re-renders the component whenever the store changes. */
export function useStore<T>(store: Store<T>): T {
  const value = store.get();
  const rendered = useRef(value);
  rendered.current = value;
  const [, setTick] = useState(0);
  useEffect(() => {
    const rerender = (): void => setTick((tick) => tick + 1);
    const unsubscribe = store.subscribe(rerender);
    // A change between this render and the subscription would otherwise be missed.
    if (store.get() !== rendered.current) rerender();
    return unsubscribe;
  }, [store]);
  return value;
}
