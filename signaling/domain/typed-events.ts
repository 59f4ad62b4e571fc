/**
 * A typed event map with listeners: the domain emits, transports subscribe. Listeners run in the
 * order they were added, synchronously, so an event is handled before the action returns.
 */
export class TypedEvents<M extends Record<keyof M, unknown[]>> {
  readonly #listeners = new Map<keyof M, Array<(...args: M[keyof M]) => void>>();

  on<K extends keyof M>(event: K, listener: (...args: M[K]) => void): void {
    const list = this.#listeners.get(event) ?? [];
    // Stored under its own key and only ever called with that key's arguments (emit).
    list.push(listener as (...args: M[keyof M]) => void);
    this.#listeners.set(event, list);
  }

  emit<K extends keyof M>(event: K, ...args: M[K]): void {
    for (const listener of this.#listeners.get(event) ?? []) listener(...args);
  }
}
