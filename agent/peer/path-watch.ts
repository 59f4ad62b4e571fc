/**
 * Where a technician's connection stands and which ICE server list (attempt) it uses, as data: the
 * phases, one transition table (PATH_TRANSITIONS), and the clock and what werift reports as the
 * events. technician-peer.ts asks once a second and acts on the answer.
 *
 * Before the first connection: the technician has `answer` ms to answer the offer, and each
 * attempt `attempt` ms to connect; then an ICE restart on the next TURN transport (UDP, TCP, TLS),
 * and after the last the peer ends (`failed`). An attempt that one before it already tries is left
 * out (attemptOrder: werift's TURN/UDP gathering falls back to TCP on the same port, so after UDP,
 * TCP to the TURN port has been tried): with the product's URLs the order is UDP, then TLS (twice,
 * the restarts a third transport had), and a strict firewall's TLS gets its turn after 15 s, not 30.
 * After it, RFC 7675 consent: werift sends a consent check on the selected pair every 4-6 s
 * without retransmission (ice/src/ice.js, queryConsent) and counts the responses
 * (`CandidatePair.responsesReceived`). A path silent for `quiet` ms is recovering: an ICE restart
 * on the attempt that carried it (it passed this network and this relay before), then every
 * `retry` ms (or once werift's gathering ended, if later: the answer is applied only then) on the
 * next of the others, best first, the covered ones left out (after a break on UDP: UDP, TLS, UDP,
 * ...), and round again, so a relay restart or a network change finds whatever path exists within
 * the consent time. The restart that brings the path back becomes the one tried first next time.
 * A restart waits for the answer to the previous offer (the technician answers offers in order;
 * one answer applied to the next offer would pair the wrong ICE generations), and before the
 * first connection an offer unanswered for `answer` ms ends the peer (`no_answer`). Only the
 * consent timeout ends a recovering path: silent for `consent` ms (30 s, RFC 7675's timeout), the
 * peer ends (`consent_expired`). werift's own consent expiry is the same 30 s (iceBase.js
 * CONSENT_TIMEOUT, a constant, not an option) but an ICE restart stops it, so the agent keeps its
 * own deadline.
 *
 * A renewed TURN credential (`peer.ice`) changes no phase and no attempt: the gateway renews at
 * 80 % of a credential's life, so an attempt under way already has a valid one, and the next
 * restart takes the new one.
 */

/** Why a peer ended, as logged, printed and sent to the gateway in `peer.closed`. */
export const PEER_END_REASONS = {
  noAnswer: "no_answer",
  failed: "failed",
  dtlsFailed: "dtls_failed",
  consentExpired: "consent_expired",
} as const;

export const PATH_DEFAULTS = {
  answer: 20_000,
  attempt: 15_000,
  /** RFC 7675's consent timeout. */
  consent: 30_000,
  /** Two consent checks (every 4-6 s, no retransmission) unanswered: ICE restarts. */
  quiet: 12_000,
  /**
   * Each ICE restart of a path that had worked: three fit between `quiet` and `consent` (one per
   * TURN transport). A restart that works is back within 1-2 s (measured in the relay tests).
   */
  retry: 5_000,
} as const;

export type PathTimeouts = {
  readonly answer: number;
  readonly attempt: number;
  readonly consent: number;
  readonly quiet: number;
  readonly retry: number;
};

export const PATH_PHASES = ["connecting", "up", "recovering", "ended"] as const;
export type PathPhase = (typeof PATH_PHASES)[number];

/**
 * What moves the path: it came up (DTLS the first time; after that, a new answer on the path), an
 * attempt failed or ran out of time, the path went quiet, or it stayed silent past consent.
 */
export type PathEvent = "up" | "attempt_failed" | "quiet" | "expired";

export type PathState = {
  readonly phase: PathPhase;
  /** The attempt under way or carrying the path (an index into the peer's ICE server lists). */
  readonly attempt: number;
  /** The attempt that carried the path last: the first one tried again after a break. */
  readonly working: number;
  /** ICE restarts since the start (connecting) or since the path went quiet (recovering). */
  readonly restarts: number;
  /** How many attempts there are: one per TURN transport, or one without TURN. */
  readonly attempts: number;
  /**
   * Per attempt, the other attempts it already tries (werift's TURN/UDP attempt falls back to TCP
   * on the same address: ice-servers.ts, attemptCovers): left out of the order after one that
   * covers them (attemptOrder).
   */
  readonly covers: readonly (readonly number[])[];
};

/**
 * ICE restarts tried before the first connection (at least one per further attempt in the order;
 * with fewer, the last one is tried again).
 */
const MAX_FIRST_RESTARTS = 2;

/**
 * The attempts in the order they are tried: `first` (0 before the first connection, the one that
 * worked after a break), then the others in their order (best first), leaving out one that an
 * attempt before it already tries (`covers`: TURN/TCP to the address a TURN/UDP attempt falls back
 * to). Every attempt spent on a transport the last one found blocked is time a strict firewall's
 * only transport (TLS) waits: before the first connection 15 s, after a break the consent time.
 */
export function attemptOrder(
  first: number,
  attempts: number,
  covers: readonly (readonly number[])[] = [],
): number[] {
  const order: number[] = [];
  for (const i of [first, ...Array.from({ length: attempts }, (_, n) => n)]) {
    if (!order.includes(i) && !order.some((j) => covers[j]?.includes(i))) order.push(i);
  }
  return order;
}

/** The attempt of the `n`th restart of a recovering path: attemptOrder, round and round. */
export function recoveryAttempt(
  working: number,
  attempts: number,
  n: number,
  covers: readonly (readonly number[])[] = [],
): number {
  const order = attemptOrder(working, attempts, covers);
  return order[n % order.length] ?? 0;
}

const recover = (state: PathState): PathState => ({
  ...state,
  phase: "recovering",
  attempt: recoveryAttempt(state.working, state.attempts, 0, state.covers),
  restarts: 1,
});
const backUp = (state: PathState): PathState => ({
  ...state,
  phase: "up",
  working: state.attempt,
  restarts: 0,
});
const end = (state: PathState): PathState => ({ ...state, phase: "ended" });

/** The one transition table: what each event does in each phase (absent: nothing). */
export const PATH_TRANSITIONS: {
  readonly [P in PathPhase]: { readonly [E in PathEvent]?: (state: PathState) => PathState };
} = {
  connecting: {
    up: backUp,
    attempt_failed: (state) => {
      const order = attemptOrder(0, state.attempts, state.covers);
      return state.restarts >= Math.max(MAX_FIRST_RESTARTS, order.length - 1)
        ? end(state)
        : {
            ...state,
            attempt: order[Math.min(state.restarts + 1, order.length - 1)] ?? 0,
            restarts: state.restarts + 1,
          };
    },
  },
  up: { quiet: recover, attempt_failed: recover, expired: end },
  recovering: {
    up: backUp,
    expired: end,
    attempt_failed: (state) => ({
      ...state,
      attempt: recoveryAttempt(state.working, state.attempts, state.restarts, state.covers),
      restarts: state.restarts + 1,
    }),
  },
  ended: {},
};

export function initialPath(attempts: number, covers: readonly (readonly number[])[] = []): PathState {
  return {
    phase: "connecting",
    attempt: 0,
    working: 0,
    restarts: 0,
    attempts: Math.max(1, attempts),
    covers,
  };
}

/** The state after `event`; the same state when the table lists nothing for it. */
export function nextPath(state: PathState, event: PathEvent): PathState {
  return PATH_TRANSITIONS[state.phase][event]?.(state) ?? state;
}

/**
 * What the peer does now: nothing; end (with the reason); an ICE restart on `attempt` (the first
 * after a break is `interrupted`); or tell that the path is back (`restored`).
 */
export type PathAction =
  | "none"
  | "no_answer"
  | "failed"
  | "consent_expired"
  | "interrupted"
  | "restart"
  | "restored";

/** What werift shows of the selected pair: the object and its consent responses so far. */
export type SelectedPair = { readonly responsesReceived: number };

export class PathWatch {
  readonly #timeouts: PathTimeouts;
  #state: PathState;
  #attemptStarted = 0;
  #answered = false;
  #lastHeard = 0;
  #pair: SelectedPair | undefined;
  #pairResponses = 0;

  constructor(timeouts: PathTimeouts, attempts: number, covers: readonly (readonly number[])[] = []) {
    this.#timeouts = timeouts;
    this.#state = initialPath(attempts, covers);
  }

  get state(): PathState {
    return this.#state;
  }

  /** The attempt under way (or carrying the path). */
  get attempt(): number {
    return this.#state.attempt;
  }

  /** DTLS came up once: media can flow, and the consent watch runs. */
  get connected(): boolean {
    return this.#state.phase === "up" || this.#state.phase === "recovering";
  }

  /** ICE restarts after the path had worked are under way. */
  get interrupted(): boolean {
    return this.#state.phase === "recovering";
  }

  /** An offer went out (the first, or an ICE restart's): it waits for its answer. */
  attemptStarted(now: number): void {
    this.#attemptStarted = now;
    this.#answered = false;
  }

  /** The technician answered the latest offer. */
  answered(): void {
    this.#answered = true;
  }

  /** A renewed credential with a different number of attempts (not expected): keep in range. */
  attemptsChanged(attempts: number, covers: readonly (readonly number[])[] = []): void {
    const count = Math.max(1, attempts);
    const clamp = (i: number) => Math.min(i, count - 1);
    const state = this.#state;
    this.#state = {
      ...state,
      attempts: count,
      covers,
      attempt: clamp(state.attempt),
      working: clamp(state.working),
    };
  }

  /** DTLS reports the path up the first time. */
  up(now: number): void {
    if (this.#state.phase !== "connecting") return;
    this.#state = nextPath(this.#state, "up");
    this.#lastHeard = now;
  }

  /** werift says the attempt under way failed: the next attempt, or the end before a first connection. */
  failed(): PathAction {
    if (this.#state.phase === "recovering" && !this.#answered) return "none";
    return this.#move("attempt_failed");
  }

  /** What to do now, given the selected pair werift reports (undefined while there is none). */
  check(now: number, pair: SelectedPair | undefined): PathAction {
    const { answer, attempt, consent, quiet, retry } = this.#timeouts;
    const sinceAttempt = now - this.#attemptStarted;
    const { phase } = this.#state;
    if (phase === "ended") return "none";
    if (phase === "connecting") {
      if (!this.#answered) return sinceAttempt > answer ? "no_answer" : "none";
      return sinceAttempt > attempt ? this.#move("attempt_failed") : "none";
    }
    // Only an answer on the path counts as hearing it: a newly nominated pair (nomination needs a
    // check that succeeded) or a consent response more on the selected one. werift's connection
    // states do not: it reports "connected" again while an ICE restart over a dead path begins.
    if (pair !== undefined && (pair !== this.#pair || pair.responsesReceived > this.#pairResponses)) {
      this.#pair = pair;
      this.#pairResponses = pair.responsesReceived;
      this.#lastHeard = now;
      if (phase === "recovering") return this.#move("up");
    }
    const silent = now - this.#lastHeard;
    if (silent > consent) return this.#move("expired");
    if (phase === "up") return silent > Math.min(quiet, consent / 2) ? this.#move("quiet") : "none";
    // No further restart before the last one was answered: answers would cross offers.
    return this.#answered && sinceAttempt > retry ? this.#move("attempt_failed") : "none";
  }

  #move(event: PathEvent): PathAction {
    const from = this.#state;
    const to = nextPath(from, event);
    this.#state = to;
    if (to === from) return "none";
    if (to.phase === "ended") return event === "expired" ? "consent_expired" : "failed";
    if (from.phase === "recovering" && to.phase === "up") return "restored";
    if (from.phase === "up" && to.phase === "recovering") return "interrupted";
    return "restart";
  }
}
