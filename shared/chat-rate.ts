import { SosError } from "./errors.ts";
import { CHAT_BURST_LINES, CHAT_LINES_PER_SECOND } from "./limits.ts";

/** Past this many senders remembered, those whose bucket has filled up again are forgotten. */
const PRUNE_AT = 1_000;

type Bucket = { tokens: number; at: number };

/**
 * A token bucket per chat sender: CHAT_BURST_LINES lines at once, refilled at
 * CHAT_LINES_PER_SECOND. A sender whose bucket is full again is the same as one never seen.
 * The gateway holds every sender to it (signaling/domain/chat.ts); the agent holds its end user to
 * it before sending, so a pasted block of lines is refused there, not sent as a flood that the
 * gateway answers by closing the socket (MAX_QUEUED_SOCKET_MESSAGES).
 */
export class ChatRate {
  readonly #clock: { now(): number };
  readonly #buckets = new Map<string, Bucket>();
  /** When the senders were last pruned: at most once a second, not on every line of a busy gateway. */
  #prunedAt = Number.NEGATIVE_INFINITY;

  constructor(clock: { now(): number }) {
    this.#clock = clock;
  }

  /** Takes one line for `sender`, or throws CHAT_TOO_FAST (with when the next one is taken). */
  take(sender: string): void {
    const now = this.#clock.now();
    if (this.#buckets.size >= PRUNE_AT && now - this.#prunedAt >= 1_000) this.#prune(now);
    const tokens = this.#check(sender, now);
    this.#buckets.set(sender, { tokens: tokens - 1, at: now });
  }

  /**
   * Throws CHAT_TOO_FAST as take() would, but takes nothing and remembers no sender: for a check
   * before the work that decides whether the line may be said at all (take() comes after it), so
   * a sender whose lines were taken until the bucket ran dry is refused at no cost, and one whose
   * lines are all refused for who they are never runs it dry.
   */
  check(sender: string): void {
    this.#check(sender, this.#clock.now());
  }

  /** The tokens `sender` has now, or CHAT_TOO_FAST when not one. */
  #check(sender: string, now: number): number {
    const bucket = this.#buckets.get(sender);
    const tokens = bucket === undefined ? CHAT_BURST_LINES : refilled(bucket, now);
    if (tokens < 1) {
      const retryAfter = Math.ceil((1 - tokens) / CHAT_LINES_PER_SECOND);
      throw new SosError("CHAT_TOO_FAST", "Too many chat lines at once: wait a moment.", { retryAfter });
    }
    return tokens;
  }

  #prune(now: number): void {
    this.#prunedAt = now;
    for (const [sender, bucket] of this.#buckets) {
      if (refilled(bucket, now) >= CHAT_BURST_LINES) this.#buckets.delete(sender);
    }
  }
}

function refilled(bucket: Bucket, now: number): number {
  const elapsed = Math.max(0, now - bucket.at) / 1000;
  return Math.min(CHAT_BURST_LINES, bucket.tokens + elapsed * CHAT_LINES_PER_SECOND);
}
