import { MAX_INVITED_TECHNICIANS } from "../../../shared/limits.ts";
import { type Channel, HOME_CHANNEL_ID, type Session, type Technician } from "../../../shared/model.ts";
import {
  mayDelete,
  mayLead as mayLeadSession,
  mayShare as mayShareSessions,
  mayUseDesk as mayUseTheDesk,
  isOnSession as onSession,
  type PolicySubject,
} from "../../../shared/session-policy.ts";
import { type AccessMode, isLive, nextStatus, type PermissionState } from "../../../shared/status.ts";

/**
 * Which of the Service Desk's actions a technician may try on a session, derived from the shared
 * status table and the technician's permissions. The gateway decides in the end; this only keeps
 * buttons from being offered where they cannot work.
 */

export const SESSION_ACTIONS = [
  "startRemote",
  "assign",
  "transfer",
  "invite",
  "copyLink",
  "showPin",
  "release",
  "close",
  "delete",
] as const;
export type SessionAction = (typeof SESSION_ACTIONS)[number];

export type ActionFacts = {
  readonly me: Technician;
  readonly session: Session;
  /** The channels the technician may see (Home, Private, team channels). */
  readonly channels: readonly Channel[];
};

/** What "Start remote session" does right now for this technician. */
export type RemoteStep =
  | { kind: "unavailable" }
  | { kind: "request"; after: "none" | "denied" | "revoked" }
  | { kind: "waiting" }
  | { kind: "connect"; access: AccessMode }
  | { kind: "open"; access: AccessMode };

/** The console's technician as the shared rules see them. */
function subject(me: Technician): PolicySubject {
  return { ...me.permissions, id: me.id, role: me.role, disabled: me.disabled };
}

export function isOnSession(session: Session, technicianId: string): boolean {
  return onSession(technicianId, {
    assigneeId: session.assignee?.id ?? null,
    invitedIds: session.invited.map((person) => person.id),
  });
}

export function myPermission(session: Session, technicianId: string): PermissionState {
  return session.permissions.find((entry) => entry.technicianId === technicianId)?.state ?? "none";
}

function mayUseDesk(me: Technician): boolean {
  return mayUseTheDesk(subject(me));
}

/** Handing a session to someone else: the share permission (admins have it implicitly). */
export function mayShare(me: Technician): boolean {
  return mayShareSessions(subject(me));
}

/** Release, close, invite: the assignee, or an admin. */
function mayLead(me: Technician, session: Session): boolean {
  return mayLeadSession(subject(me), session.assignee?.id ?? null);
}

export function remoteStep(session: Session, me: Technician): RemoteStep {
  const ready =
    mayUseDesk(me) && session.status === "Active" && session.agent.connected && isOnSession(session, me.id);
  if (!ready) return { kind: "unavailable" };
  const entry = session.permissions.find((permission) => permission.technicianId === me.id);
  const state = entry?.state ?? "none";
  switch (state) {
    case "requested":
      return { kind: "waiting" };
    case "granted": {
      const access = entry?.access ?? "view";
      return session.viewers.includes(me.id) ? { kind: "open", access } : { kind: "connect", access };
    }
    default:
      return { kind: "request", after: state };
  }
}

/** Channels other than the session's own that it could be transferred into. */
export function transferChannels(facts: ActionFacts): Channel[] {
  return facts.channels.filter(
    (channel) => channel.id !== HOME_CHANNEL_ID && channel.id !== facts.session.channelId,
  );
}

export function allowedActions(facts: ActionFacts): Readonly<Record<SessionAction, boolean>> {
  const { me, session } = facts;
  const usable = mayUseDesk(me);
  const live = isLive(session.status);
  const lead = usable && mayLead(me, session);
  const step = remoteStep(session, me);
  const allows = (event: Parameters<typeof nextStatus>[1]): boolean =>
    nextStatus(session.status, event, { agentConnected: session.agent.connected }) !== undefined;
  return {
    startRemote: step.kind !== "unavailable" && step.kind !== "waiting",
    // Taking an unassigned session needs nothing more; giving or taking over needs sharing.
    assign: usable && allows("assigned") && (session.assignee === null || mayShare(me)),
    transfer: usable && live && (mayShare(me) || transferChannels(facts).length > 0),
    invite: lead && live && session.invited.length < MAX_INVITED_TECHNICIANS,
    copyLink: usable && live,
    showPin: usable && live,
    release: lead && session.assignee !== null && allows("released"),
    close: lead && allows("closed"),
    delete: usable && mayDelete(subject(me), session.assignee?.id ?? null, session.createdBy.id),
  };
}

/** The sessions a channel shows: Home holds what is assigned to me or that I was invited to. */
export function sessionsOfChannel(sessions: Iterable<Session>, channelId: string, meId: string): Session[] {
  const inChannel = [...sessions].filter((session) =>
    channelId === HOME_CHANNEL_ID ? isOnSession(session, meId) : session.channelId === channelId,
  );
  return inChannel.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}
