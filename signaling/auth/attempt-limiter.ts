import type { Clock } from "../clock.ts";

/**
 * Counts failures per key in a sliding window and blocks a key that has too many, for a time that
 * doubles with each block (up to a ceiling). Used for sign-in (per account, per address) and PIN
 * lookups (per address). Memory is bounded: old keys are swept as new ones arrive.
 */
export type AttemptLimiterOptions = {
  /** Failures allowed within the window before the key is blocked. */
  maxFailures: number;
  windowMs: number;
  /** The first block; each further block doubles it. */
  baseBlockMs: number;
  maxBlockMs: number;
  /** How many keys to remember at most. */
  maxKeys?: number;
};

type Entry = {
  failures: number[];
  blockedUntil: number;
  blocks: number;
  lastSeen: number;
  /** Kept when a block clears `failures`, so a blocked key still counts as having failed. */
  lastFailure: number;
};

export class AttemptLimiter {
  readonly #options: Required<AttemptLimiterOptions>;
  readonly #clock: Clock;
  readonly #entries = new Map<string, Entry>();

  constructor(options: AttemptLimiterOptions, clock: Clock) {
    this.#options = { maxKeys: 100_000, ...options };
    this.#clock = clock;
  }

  /** Milliseconds until `key` may try again; 0 when it may now. */
  retryAfterMs(key: string): number {
    const entry = this.#entries.get(key);
    if (entry === undefined) return 0;
    return Math.max(0, entry.blockedUntil - this.#clock.now());
  }

  /** Whether `key` failed within the last `withinMs`. */
  hasRecentFailure(key: string, withinMs: number): boolean {
    const entry = this.#entries.get(key);
    if (entry === undefined) return false;
    return this.#clock.now() - entry.lastFailure < withinMs;
  }

  /** Records a failure; returns the block now in force (0 when none). */
  fail(key: string): number {
    const now = this.#clock.now();
    const entry = this.#entries.get(key) ?? {
      failures: [],
      blockedUntil: 0,
      blocks: 0,
      lastSeen: now,
      lastFailure: now,
    };
    entry.lastSeen = now;
    entry.lastFailure = now;
    entry.failures = entry.failures.filter((at) => now - at < this.#options.windowMs);
    entry.failures.push(now);
    if (entry.failures.length >= this.#options.maxFailures) {
      const block = Math.min(this.#options.baseBlockMs * 2 ** entry.blocks, this.#options.maxBlockMs);
      entry.blocks += 1;
      entry.blockedUntil = now + block;
      entry.failures = [];
    }
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    this.#evict();
    return Math.max(0, entry.blockedUntil - now);
  }

  /** A success forgets the key's failures (not its block history within the window). */
  succeed(key: string): void {
    const entry = this.#entries.get(key);
    if (entry !== undefined && entry.blockedUntil <= this.#clock.now()) this.#entries.delete(key);
  }

  #evict(): void {
    while (this.#entries.size > this.#options.maxKeys) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) return;
      this.#entries.delete(oldest.value);
    }
  }
}

/**
 * Counts events in a sliding window across all keys (the global PIN failure budget).
 */
export class WindowCounter {
  readonly #windowMs: number;
  readonly #clock: Clock;
  #events: number[] = [];

  constructor(windowMs: number, clock: Clock) {
    this.#windowMs = windowMs;
    this.#clock = clock;
  }

  count(): number {
    const now = this.#clock.now();
    this.#events = this.#events.filter((at) => now - at < this.#windowMs);
    return this.#events.length;
  }

  add(): void {
    this.#events.push(this.#clock.now());
    if (this.#events.length > 100_000) this.#events.splice(0, this.#events.length - 100_000);
  }

  /** Milliseconds until the oldest event leaves the window. */
  msUntilSlot(): number {
    const oldest = this.#events[0];
    return oldest === undefined ? 0 : Math.max(0, oldest + this.#windowMs - this.#clock.now());
  }
}
