import { z } from "zod";

/**
 * The session status machine of the Service Desk, as data.
 * Waiting: created, the end user's app has not started (or has gone away).
 * Active: the app runs and a technician is assigned.
 * Queued: released; waits for a technician to take it.
 * Expired: older than its channel's expiry time without an agent. Terminal.
 * Closed: closed by a technician; link and PIN are dead. Terminal.
 */
export const SESSION_STATUSES = ["Waiting", "Active", "Queued", "Expired", "Closed"] as const;
export const sessionStatusSchema = z.enum(SESSION_STATUSES);
export type SessionStatus = z.infer<typeof sessionStatusSchema>;

/** What can happen to a session. */
export const SESSION_EVENTS = [
  /** The end user's agent connected (join or resume). */
  "agentJoined",
  /** The agent went away for good (ended by the user, or gone past the resume grace). */
  "agentLeft",
  /** A technician was assigned (taken from the queue, assigned, or transferred to a technician). */
  "assigned",
  /** The assignee released the session to the queue. */
  "released",
  /** The channel's expiry time passed without an agent. */
  "expired",
  /** A technician closed it. */
  "closed",
  /** The end user did not confirm that it may continue (said no, or no answer in time): it closes. */
  "lapsed",
] as const;
export const sessionEventSchema = z.enum(SESSION_EVENTS);
export type SessionEvent = z.infer<typeof sessionEventSchema>;

/** Facts the table may look at besides the current status. */
export type TransitionFacts = { readonly agentConnected: boolean };

type Target = SessionStatus | ((facts: TransitionFacts) => SessionStatus);

const whenAssigned = (facts: TransitionFacts): SessionStatus => (facts.agentConnected ? "Active" : "Waiting");

/**
 * The one transition table. A missing entry means the event is refused in that status
 * (INVALID_TRANSITION). Self-transitions are listed where the event is allowed but changes nothing.
 */
export const SESSION_TRANSITIONS: Readonly<
  Record<SessionStatus, Readonly<Partial<Record<SessionEvent, Target>>>>
> = {
  Waiting: {
    agentJoined: "Active",
    agentLeft: "Waiting",
    assigned: "Waiting",
    released: "Queued",
    expired: "Expired",
    closed: "Closed",
    lapsed: "Closed",
  },
  Active: {
    agentJoined: "Active",
    agentLeft: "Waiting",
    assigned: "Active",
    released: "Queued",
    closed: "Closed",
    lapsed: "Closed",
  },
  Queued: {
    agentJoined: "Queued",
    agentLeft: "Queued",
    assigned: whenAssigned,
    expired: "Expired",
    closed: "Closed",
    lapsed: "Closed",
  },
  Expired: {},
  Closed: {},
};

/** The status after `event`, or undefined when the table refuses it. */
export function nextStatus(
  from: SessionStatus,
  event: SessionEvent,
  facts: TransitionFacts,
): SessionStatus | undefined {
  const target = SESSION_TRANSITIONS[from][event];
  if (target === undefined) return undefined;
  return typeof target === "function" ? target(facts) : target;
}

/** Live sessions can still be joined and acted on; Expired and Closed are terminal. */
export const LIVE_STATUSES: readonly SessionStatus[] = ["Waiting", "Active", "Queued"];
export function isLive(status: SessionStatus): boolean {
  return LIVE_STATUSES.includes(status);
}

/**
 * The remote-session permission of one technician on one session.
 * none -> requested -> granted | denied; granted -> revoked (by the end user) ; any -> none when the
 * technician leaves the session. A new request is allowed again after denied or revoked.
 */
export const PERMISSION_STATES = ["none", "requested", "granted", "denied", "revoked"] as const;
export const permissionStateSchema = z.enum(PERMISSION_STATES);
export type PermissionState = z.infer<typeof permissionStateSchema>;

export const PERMISSION_EVENTS = ["request", "grant", "deny", "revoke", "reset"] as const;
export type PermissionEvent = (typeof PERMISSION_EVENTS)[number];

export const PERMISSION_TRANSITIONS: Readonly<
  Record<PermissionState, Readonly<Partial<Record<PermissionEvent, PermissionState>>>>
> = {
  none: { request: "requested", reset: "none" },
  requested: { grant: "granted", deny: "denied", revoke: "revoked", reset: "none" },
  granted: { revoke: "revoked", reset: "none" },
  denied: { request: "requested", reset: "none" },
  revoked: { request: "requested", reset: "none" },
};

export function nextPermission(from: PermissionState, event: PermissionEvent): PermissionState | undefined {
  return PERMISSION_TRANSITIONS[from][event];
}

/** What the end user allowed: full control, or watching only. */
export const ACCESS_MODES = ["control", "view"] as const;
export const accessModeSchema = z.enum(ACCESS_MODES);
export type AccessMode = z.infer<typeof accessModeSchema>;
