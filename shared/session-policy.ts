import type { Role } from "./model.ts";

/**
 * The Service Desk's rules of who may do what to a session, once for both ends: the gateway
 * decides with them (signaling/domain/policy.ts), the console offers only the buttons they allow
 * (signaling/console/lib/session-actions.ts). Pure questions over the few facts both ends have.
 */

/** The technician asking: the gateway's row and the console's `Technician` both map to this. */
export type PolicySubject = {
  readonly id: string;
  readonly role: Role;
  readonly attendedAccess: boolean;
  readonly shareSessions: boolean;
  readonly disabled: boolean;
};

/** Who is on the session: its assignee and the technicians invited to it. */
export type SessionPeople = { readonly assigneeId: string | null; readonly invitedIds: readonly string[] };

/** May use the Service Desk at all: the attended-access permission, not disabled (license apart). */
export function mayUseDesk(subject: PolicySubject): boolean {
  return subject.attendedAccess && !subject.disabled;
}

/** Handing a session to someone else: the share permission (admins have it implicitly). */
export function mayShare(subject: PolicySubject): boolean {
  return subject.shareSessions || subject.role === "admin";
}

/** Lead actions (release, close, invite): the assignee, or an admin. */
export function mayLead(subject: PolicySubject, assigneeId: string | null): boolean {
  return assigneeId === subject.id || subject.role === "admin";
}

/** The assignee or an invited technician (may start a remote session). */
export function isOnSession(technicianId: string, people: SessionPeople): boolean {
  return people.assigneeId === technicianId || people.invitedIds.includes(technicianId);
}

/** Delete: a lead, or the technician who created it. */
export function mayDelete(subject: PolicySubject, assigneeId: string | null, createdBy: string): boolean {
  return mayLead(subject, assigneeId) || createdBy === subject.id;
}

/** Listing, playing and downloading session recordings: the "view recordings" permission, or an admin. */
export function mayViewRecordings(subject: {
  readonly role: Role;
  readonly viewRecordings: boolean;
}): boolean {
  return subject.viewRecordings || subject.role === "admin";
}
