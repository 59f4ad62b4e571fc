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
  readonly #features: () => Organization["features"];

  /** `features`: what the license includes. */
  constructor(store: Store, features: () => Organization["features"]) {
    this.#store = store;
    this.#features = features;
  }

  /** May use the Service Desk at all: licensed, attended-access permission, not disabled. */
  canUseDesk(technician: TechnicianRow): boolean {
    return this.isLicensed() && mayUseDesk(technician);
  }

  isLicensed(): boolean {
    return this.#features().attendedAccess;
  }

  async canSeeChannel(technician: TechnicianRow, channel: ChannelRow): Promise<boolean> {
    if (channel.kind === "private") return channel.ownerId === technician.id;
    return technician.role === "admin" || (await this.#store.hasChannelAccess(channel.id, technician.id));
  }

  async isOnSession(technician: TechnicianRow, session: SessionRow): Promise<boolean> {
    // The assignee needs no look at the invites.
    const invitedIds = session.assigneeId === technician.id ? [] : await this.#store.getInvites(session.id);
    return isOnSession(technician.id, { assigneeId: session.assigneeId, invitedIds });
  }

  async canSeeSession(technician: TechnicianRow, session: SessionRow): Promise<boolean> {
    if (technician.disabled) return false;
    if (await this.isOnSession(technician, session)) return true;
    const channel = await this.#store.getChannel(session.channelId);
    return channel !== undefined && (await this.canSeeChannel(technician, channel));
  }

  /**
   * canSeeSession for many sessions at once: the same rule from one look at the channels and one
   * at the technician's own sessions, not three store reads per session (a console's first
   * snapshot on a desk with tens of thousands of sessions took over a minute on PostgreSQL).
   */
  async sessionsVisibleTo(technician: TechnicianRow): Promise<(session: SessionRow) => boolean> {
    if (technician.disabled) return () => false;
    const [mine, teams, own] = await Promise.all([
      this.#store.listSessionsOf(technician.id),
      this.#store.listTeamChannels(),
      this.#store.getPrivateChannel(technician.id),
    ]);
    const channels = new Set<string>(own === undefined ? [] : [own.id]);
    for (const channel of teams) if (await this.canSeeChannel(technician, channel)) channels.add(channel.id);
    const onSession = new Set(mine.map((session) => session.id));
    return (session) => onSession.has(session.id) || channels.has(session.channelId);
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
