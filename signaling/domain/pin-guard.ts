import { SosError } from "../../shared/errors.ts";
import { AttemptLimiter, WindowCounter } from "../auth/attempt-limiter.ts";
import type { Clock } from "../clock.ts";
import type { DomainEvents } from "./events.ts";

/**
 * Limits PIN guessing, per address and across all addresses.
 * - Per address: 5 wrong PINs within 10 minutes block the address for 1 minute, doubling per block up
 *   to 1 hour.
 * - Globally: once 30 wrong PINs arrived within a minute from anywhere, addresses that guessed wrong
 *   within the last day are refused until the minute has room again. Addresses with no wrong guess
 *   still get their lookup, so a legitimate end user is not locked out by an attack on others.
 * The README computes what this means for an attacker's chance.
 */
export const PIN_LIMITS = {
  perAddressFailures: 5,
  perAddressWindowMs: 10 * 60_000,
  perAddressBlockMs: 60_000,
  perAddressMaxBlockMs: 60 * 60_000,
  globalFailuresPerMinute: 30,
  suspectMemoryMs: 24 * 60 * 60_000,
} as const;

export class PinGuard {
  readonly #perAddress: AttemptLimiter;
  readonly #global: WindowCounter;
  readonly #events: DomainEvents;

  /** Each refusal is emitted as `pinRefused`. */
  constructor(clock: Clock, events: DomainEvents) {
    this.#events = events;
    this.#perAddress = new AttemptLimiter(
      {
        maxFailures: PIN_LIMITS.perAddressFailures,
        windowMs: PIN_LIMITS.perAddressWindowMs,
        baseBlockMs: PIN_LIMITS.perAddressBlockMs,
        maxBlockMs: PIN_LIMITS.perAddressMaxBlockMs,
      },
      clock,
    );
    this.#global = new WindowCounter(60_000, clock);
  }

  /** Throws PIN_RATE_LIMITED when this address may not look up a PIN now. */
  check(address: string): void {
    const blocked = this.#perAddress.retryAfterMs(address);
    if (blocked > 0) throw this.#rateLimited(blocked);
    if (
      this.#global.count() >= PIN_LIMITS.globalFailuresPerMinute &&
      this.#perAddress.hasRecentFailure(address, PIN_LIMITS.suspectMemoryMs)
    ) {
      throw this.#rateLimited(this.#global.msUntilSlot());
    }
  }

  failed(address: string): void {
    this.#global.add();
    this.#perAddress.fail(address);
    this.#events.emit("pinRefused", "wrong");
    this.#events.emit("pinTried", address, "wrong");
  }

  succeeded(address: string): void {
    this.#perAddress.succeed(address);
    this.#events.emit("pinTried", address, "right");
  }

  /** A PIN tried on another gateway instance: counted here as if tried here (limits are shared). */
  heard(address: string, outcome: "wrong" | "right"): void {
    if (outcome === "right") {
      this.#perAddress.succeed(address);
      return;
    }
    this.#global.add();
    this.#perAddress.fail(address);
  }

  /** Emits the refusal and makes its error. */
  #rateLimited(ms: number): SosError {
    this.#events.emit("pinRefused", "rate_limited");
    return new SosError("PIN_RATE_LIMITED", "Too many wrong PINs. Wait a moment and try again.", {
      retryAfter: Math.max(1, Math.ceil(ms / 1000)),
    });
  }
}
