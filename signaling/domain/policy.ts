import { SosError } from "../../shared/errors.ts";
import type { Organization } from "../../shared/model.ts";
import type { ChannelRow, SessionRow, TechnicianRow } from "../store/rows.ts";
import type { Store } from "../store/store.ts";

/**
 * Who may see and do what. Pure questions over the store; the desk asks them before it acts.
 */
export class Policy {
  readonly #store: Store;
  readonly #organization: () => Organization;

  constructor(store: Store, organization: () => Organization) {
    this.#store = store;
    this.#organization = organization;
  }

  /** May use the Service Desk at all: licensed, attended-access permission, not disabled. */
  canUseDesk(account: TechnicianRow): boolean {
    return this.#organization().features.attendedAccess && account.attendedAccess && !account.disabled;
  }

  isLicensed(): boolean {
    return this.#organization().features.attendedAccess;
  }

  canSeeChannel(account: TechnicianRow, channel: ChannelRow): boolean {
    if (channel.kind === "private") return channel.ownerId === account.id;
    return account.role === "admin" || this.#store.hasChannelAccess(channel.id, account.id);
  }

  isAssignee(account: TechnicianRow, session: SessionRow): boolean {
    return session.assigneeId === account.id;
  }

  isInvited(account: TechnicianRow, session: SessionRow): boolean {
    return this.#store.getInvites(session.id).includes(account.id);
  }

  isOnSession(account: TechnicianRow, session: SessionRow): boolean {
    return this.isAssignee(account, session) || this.isInvited(account, session);
  }

  canSeeSession(account: TechnicianRow, session: SessionRow): boolean {
    if (account.disabled) return false;
    if (this.isOnSession(account, session)) return true;
    const channel = this.#store.getChannel(session.channelId);
    return channel !== undefined && this.canSeeChannel(account, channel);
  }

  /** Lead actions (release, close, invite): the assignee, or an admin. */
  canLead(account: TechnicianRow, session: SessionRow): boolean {
    return this.isAssignee(account, session) || account.role === "admin";
  }

  /** Handing a session to someone else needs the share permission (admins have it implicitly). */
  canShare(account: TechnicianRow): boolean {
    return account.shareSessions || account.role === "admin";
  }
}

/** Admin-only actions (technicians, channels, organization, builds, audit): one rule. */
export function requireAdmin(actor: TechnicianRow): void {
  if (actor.role !== "admin" || actor.disabled) throw SosError.forbidden("Only an admin can do that.");
}
