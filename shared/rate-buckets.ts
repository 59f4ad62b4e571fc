import type { SosError } from "./errors.ts";

/** Past this many keys remembered, those whose bucket has filled up again are forgotten. */
const PRUNE_AT = 1_000;

type Bucket = { tokens: number; at: number };

export type RateOptions = {
  /** What a key may do at once. */
  burst: number;
  /** How fast its bucket fills again. */
  perSecond: number;
  /** The refusal when the bucket is empty; `retryAfter`: whole seconds until the next one is taken. */
  refused: (retryAfter: number) => SosError;
};

/**
 * A token bucket per key (a chat sender, a technician's file reports on a session): `burst` at
 * once, refilled at `perSecond`. A key whose bucket is full again is the same as one never seen,
 * so the buckets kept stay few.
 */
export class RateBuckets {
  readonly #clock: { now(): number };
  readonly #options: RateOptions;
  readonly #buckets = new Map<string, Bucket>();
  /** When the keys were last pruned: at most once a second, not on every take of a busy gateway. */
  #prunedAt = Number.NEGATIVE_INFINITY;

  constructor(clock: { now(): number }, options: RateOptions) {
    this.#clock = clock;
    this.#options = options;
  }

  /** Takes one for `key`, or throws the refusal (with when the next one is taken). */
  take(key: string): void {
    const now = this.#clock.now();
    if (this.#buckets.size >= PRUNE_AT && now - this.#prunedAt >= 1_000) this.#prune(now);
    const tokens = this.#check(key, now);
    this.#buckets.set(key, { tokens: tokens - 1, at: now });
  }

  /**
   * Throws the refusal as take() would, but takes nothing and remembers no key: for a check
   * before the work that decides whether the action may be done at all (take() comes after it), so
   * a key whose bucket ran dry is refused at no cost, and one refused for who it is never runs it
   * dry.
   */
  check(key: string): void {
    this.#check(key, this.#clock.now());
  }

  /** The tokens `key` has now, or the refusal when not one. */
  #check(key: string, now: number): number {
    const bucket = this.#buckets.get(key);
    const tokens = bucket === undefined ? this.#options.burst : this.#refilled(bucket, now);
    if (tokens < 1) throw this.#options.refused(Math.ceil((1 - tokens) / this.#options.perSecond));
    return tokens;
  }

  #prune(now: number): void {
    this.#prunedAt = now;
    for (const [key, bucket] of this.#buckets) {
      if (this.#refilled(bucket, now) >= this.#options.burst) this.#buckets.delete(key);
    }
  }

  #refilled(bucket: Bucket, now: number): number {
    const elapsed = Math.max(0, now - bucket.at) / 1000;
    return Math.min(this.#options.burst, bucket.tokens + elapsed * this.#options.perSecond);
  }
}
