/**
 * Runs async work one at a time per key: a run waits for the earlier runs of every key it names
 * (sign-in attempts for the same account or from the same address see each other's outcome).
 */
export class KeyedQueue {
  readonly #tails = new Map<string, Promise<void>>();

  async run<T>(keys: readonly string[], work: () => Promise<T>): Promise<T> {
    const earlier = keys.map((key) => this.#tails.get(key));
    let done = () => {};
    const mine = new Promise<void>((resolve) => {
      done = resolve;
    });
    for (const key of keys) this.#tails.set(key, mine);
    try {
      await Promise.all(earlier);
      return await work();
    } finally {
      done();
      for (const key of keys) if (this.#tails.get(key) === mine) this.#tails.delete(key);
    }
  }
}
