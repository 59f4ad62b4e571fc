/**
 * How the agent ends: a reason, its documented process exit code, and the one error class that
 * carries a reason up to the command line. The message is the one line the end user reads.
 */

export const EXIT_REASONS = [
  "ended",
  "internal",
  "usage",
  "no_display",
  "gateway_unreachable",
  "unknown_session",
  "session_closed",
  "consent_denied",
  "refused",
  "certificate_refused",
] as const;
export type ExitReason = (typeof EXIT_REASONS)[number];

/** Process exit codes, documented in agent/README.md. */
export const EXIT_CODES: Readonly<Record<ExitReason, number>> = {
  /** Ended by the end user, or the technician closed the session. */
  ended: 0,
  /** A bug: an error the agent did not expect. */
  internal: 1,
  /** Bad command line: unknown option, malformed PIN, link or gateway address. */
  usage: 2,
  /** No screen to share: DISPLAY unset or unreachable, capture not permitted. */
  no_display: 3,
  /** The gateway cannot be reached, or stayed unreachable past the resume grace. */
  gateway_unreachable: 4,
  /** No session has this PIN or link. */
  unknown_session: 5,
  /** The session is closed, expired or deleted. */
  session_closed: 6,
  /** The end user denied the request (or did not answer in time). */
  consent_denied: 7,
  /** The gateway refused the agent: rate limited, unsupported version, replaced by another agent. */
  refused: 8,
  /** The gateway's TLS certificate is not trusted (unknown CA, wrong name, expired); see --ca. */
  certificate_refused: 9,
};

export class AgentError extends Error {
  readonly reason: ExitReason;

  constructor(reason: ExitReason, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AgentError";
    this.reason = reason;
  }
}

/** How one run of the agent ended. */
export type AgentOutcome = { readonly reason: ExitReason; readonly message: string };

export function outcomeOf(error: unknown): AgentOutcome {
  if (error instanceof AgentError) return { reason: error.reason, message: error.message };
  const message = error instanceof Error ? error.message : String(error);
  return { reason: "internal", message: `Unexpected error: ${message}` };
}
