import { z } from "zod";

/**
 * Consent that stays current: after the session's channel interval (`reconfirmMinutes`) the end
 * user is asked again whether the session may continue; no answer in CONTINUE_ANSWER_MS, or a no,
 * ends it. The gateway keeps this clock per session, as data:
 * running: counting since the agent joined (`since`). asked: the question is open until `deadline`.
 * confirmed: the end user said yes at `since`; counting again from then. declined: the end user said
 * no; the session ended. unanswered: no answer by the deadline; the session ended.
 * unsupported: the session's agent cannot be asked (it did not name the `continue` feature in its
 * hello: an SOS executable built before this existed); no clock runs until an agent that can joins.
 */
export const CONTINUATION_STATES = [
  "running",
  "asked",
  "confirmed",
  "declined",
  "unanswered",
  "unsupported",
] as const;
export const continuationStateSchema = z.enum(CONTINUATION_STATES);
export type ContinuationState = z.infer<typeof continuationStateSchema>;

/**
 * joined: an agent that can be asked joined anew (or resumed a session without a clock).
 * joinedUnaskable: an agent that cannot be asked joined. due: the interval passed. yes/no: the
 * answer. timeout: none by the deadline.
 */
export const CONTINUATION_EVENTS = ["joined", "joinedUnaskable", "due", "yes", "no", "timeout"] as const;
export type ContinuationEvent = (typeof CONTINUATION_EVENTS)[number];

/** The one transition table; a missing entry is refused. */
export const CONTINUATION_TRANSITIONS: Readonly<
  Record<ContinuationState, Readonly<Partial<Record<ContinuationEvent, ContinuationState>>>>
> = {
  running: { joined: "running", joinedUnaskable: "unsupported", due: "asked" },
  asked: {
    joined: "running",
    joinedUnaskable: "unsupported",
    yes: "confirmed",
    no: "declined",
    timeout: "unanswered",
  },
  confirmed: { joined: "running", joinedUnaskable: "unsupported", due: "asked" },
  declined: { joined: "running", joinedUnaskable: "unsupported" },
  unanswered: { joined: "running", joinedUnaskable: "unsupported" },
  unsupported: { joined: "running", joinedUnaskable: "unsupported" },
};

export function nextContinuation(
  from: ContinuationState,
  event: ContinuationEvent,
): ContinuationState | undefined {
  return CONTINUATION_TRANSITIONS[from][event];
}

/** The states whose clock runs toward the next question. */
export function isCounting(state: ContinuationState): boolean {
  return state === "running" || state === "confirmed";
}

/** What the consoles are shown of a session's clock: the end user being asked, and the outcome. */
export const continuationViewSchema = z.object({
  state: continuationStateSchema,
  /** When the clock started: the agent joined, or the end user last said yes (or no). */
  since: z.iso.datetime(),
  /** While asked: when the session ends without an answer. */
  deadline: z.iso.datetime().nullable(),
});
export type ContinuationView = z.infer<typeof continuationViewSchema>;

/** The end user's answer in the agent's terminal. */
export const continueAnswerSchema = z.enum(["yes", "no"]);
export type ContinueAnswer = z.infer<typeof continueAnswerSchema>;
