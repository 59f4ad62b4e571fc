import { SosError } from "../../shared/errors.ts";
import type { Organization } from "../../shared/model.ts";
import { isOnSession, mayDelete, mayLead, mayShare, mayUseDesk } from "../../shared/session-policy.ts";
import type { ChannelRow, SessionRow, TechnicianRow } from "../store/rows.ts";
import type { Store } from "../store/store.ts";

/**
 * Who may see and do what: the shared rules (shared/session-policy.ts, which the console uses too)
 * over the store's rows, plus what only the gateway knows (license, channel access).
 */
export class Policy {
  readonly #store: Store;
  readonly #organization: () => Organization;

  constructor(store: Store, organization: () => Organization) {
    this.#store = store;
    this.#organization = organization;
  }

  /** May use the Service Desk at all: licensed, attended-access permission, not disabled. */
  canUseDesk(technician: TechnicianRow): boolean {
    return this.isLicensed() && mayUseDesk(technician);
  }

  isLicensed(): boolean {
    return this.#organization().features.attendedAccess;
  }

  canSeeChannel(technician: TechnicianRow, channel: ChannelRow): boolean {
    if (channel.kind === "private") return channel.ownerId === technician.id;
    return technician.role === "admin" || this.#store.hasChannelAccess(channel.id, technician.id);
  }

  isOnSession(technician: TechnicianRow, session: SessionRow): boolean {
    // The assignee needs no look at the invites.
    const invitedIds = session.assigneeId === technician.id ? [] : this.#store.getInvites(session.id);
    return isOnSession(technician.id, { assigneeId: session.assigneeId, invitedIds });
  }

  canSeeSession(technician: TechnicianRow, session: SessionRow): boolean {
    if (technician.disabled) return false;
    if (this.isOnSession(technician, session)) return true;
    const channel = this.#store.getChannel(session.channelId);
    return channel !== undefined && this.canSeeChannel(technician, channel);
  }

  canLead(technician: TechnicianRow, session: SessionRow): boolean {
    return mayLead(technician, session.assigneeId);
  }

  canShare(technician: TechnicianRow): boolean {
    return mayShare(technician);
  }

  canDelete(technician: TechnicianRow, session: SessionRow): boolean {
    return mayDelete(technician, session.assigneeId, session.createdBy);
  }
}

/** Admin-only actions (technicians, channels, organization, builds, audit): one rule. */
export function requireAdmin(actor: TechnicianRow): void {
  if (actor.role !== "admin" || actor.disabled) throw SosError.forbidden("Only an admin can do that.");
}
