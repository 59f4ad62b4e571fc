/**
 * When a technician's connection needs a new attempt or has to end, as data from the clock and
 * what werift reports; technician-peer.ts asks once a second and acts on the answer.
 *
 * Before the first connection: the technician has `answer` ms to answer the offer, and each
 * attempt `attempt` ms to connect. After it, RFC 7675 consent: werift sends a consent check on the
 * selected pair every 4-6 s without retransmission (ice/src/ice.js, queryConsent) and counts the
 * responses (`CandidatePair.responsesReceived`). A path silent for `quiet` ms gets an ICE restart;
 * silent for `consent` ms (30 s, RFC 7675's timeout), the peer ends. werift's own consent expiry
 * is the same 30 s (iceBase.js CONSENT_TIMEOUT, a constant, not an option) but an ICE restart stops
 * it (Connection.restart, stopConsentLifecycle), so the agent keeps its own deadline.
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
} as const;

export type PathTimeouts = {
  readonly answer: number;
  readonly attempt: number;
  readonly consent: number;
  readonly quiet: number;
};

export type PathAction = "none" | "no_answer" | "next_attempt" | "consent_expired" | "restored";

/** What werift shows of the selected pair: the object and its consent responses so far. */
export type SelectedPair = { readonly responsesReceived: number };

export class PathWatch {
  readonly #timeouts: PathTimeouts;
  #attemptStarted = 0;
  #answered = false;
  #connected = false;
  #interrupted = false;
  #lastHeard = 0;
  #pair: SelectedPair | undefined;
  #pairResponses = 0;

  constructor(timeouts: PathTimeouts) {
    this.#timeouts = timeouts;
  }

  /** DTLS came up once: media can flow, and the consent watch starts. */
  get connected(): boolean {
    return this.#connected;
  }

  /** An ICE restart after the path had worked is under way. */
  get interrupted(): boolean {
    return this.#interrupted;
  }

  attemptStarted(now: number): void {
    this.#attemptStarted = now;
  }

  answered(): void {
    this.#answered = true;
  }

  /** DTLS reports the path up the first time. */
  up(now: number): void {
    this.#connected = true;
    this.#interrupted = false;
    this.#lastHeard = now;
  }

  interrupt(): void {
    this.#interrupted = true;
  }

  /** What to do now, given the selected pair werift reports (undefined while there is none). */
  check(now: number, pair: SelectedPair | undefined): PathAction {
    const { answer, attempt, consent, quiet } = this.#timeouts;
    const sinceAttempt = now - this.#attemptStarted;
    if (!this.#connected) {
      if (!this.#answered) return sinceAttempt > answer ? "no_answer" : "none";
      return sinceAttempt > attempt ? "next_attempt" : "none";
    }
    // Only an answer on the path counts as hearing it: a newly nominated pair (nomination needs a
    // check that succeeded) or a consent response more on the selected one. werift's connection
    // states do not: it reports "connected" again while an ICE restart over a dead path begins.
    if (pair !== undefined && (pair !== this.#pair || pair.responsesReceived > this.#pairResponses)) {
      this.#pair = pair;
      this.#pairResponses = pair.responsesReceived;
      this.#lastHeard = now;
      if (this.#interrupted) {
        this.#interrupted = false;
        return "restored";
      }
    }
    const silent = now - this.#lastHeard;
    if (silent > consent) return "consent_expired";
    if (!this.#interrupted) return silent > Math.min(quiet, consent / 2) ? "next_attempt" : "none";
    return sinceAttempt > attempt ? "next_attempt" : "none";
  }
}
