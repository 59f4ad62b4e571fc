import { SosError } from "../../shared/errors.ts";
import { MAX_INVITED_TECHNICIANS } from "../../shared/limits.ts";
import { HOME_CHANNEL_ID, type Invitation } from "../../shared/model.ts";
import { type AccessMode, isLive, type SessionEvent } from "../../shared/status.ts";
import { newId, newLinkToken, newPin } from "../auth/tokens.ts";
import type { Clock } from "../clock.ts";
import type { AccountRow, ChannelRow, SessionRow } from "../store/rows.ts";
import type { Store } from "../store/store.ts";
import type { AuditLog } from "./audit.ts";
import type { AgentPresence, DeskEvents } from "./desk-events.ts";
import type { Policy } from "./policy.ts";
import { permissionTransition, transition } from "./session-machine.ts";

export type DeskDeps = {
  store: Store;
  clock: Clock;
  audit: AuditLog;
  policy: Policy;
  events: DeskEvents;
  presence: AgentPresence;
  publicUrl: () => string;
};

const MINUTE = 60_000;

/**
 * The Service Desk's technician actions on support sessions. Every action checks the actor's
 * rights, applies the shared transition table, stores, audits, then tells the live side.
 * A refused action throws SosError and changes nothing.
 */
export class Desk {
  readonly #d: DeskDeps;

  constructor(deps: DeskDeps) {
    this.#d = deps;
  }

  list(actor: AccountRow, channelId: string | undefined): SessionRow[] {
    this.#requireDesk(actor);
    const { store, policy } = this.#d;
    if (channelId === undefined) return store.listSessions().filter((s) => policy.canSeeSession(actor, s));
    if (channelId === HOME_CHANNEL_ID) return store.listSessionsOf(actor.id);
    const channel = store.getChannel(channelId);
    if (channel === undefined || !policy.canSeeChannel(actor, channel)) {
      throw new SosError("CHANNEL_NOT_FOUND", "No such channel.");
    }
    return store.listSessionsInChannel(channel.id);
  }

  get(actor: AccountRow, id: string): SessionRow {
    this.#requireDesk(actor);
    return this.#visible(actor, id);
  }

  create(actor: AccountRow, input: { channelId: string; name: string; note: string }): SessionRow {
    this.#requireDesk(actor);
    const { store, clock, audit, events } = this.#d;
    const channel = this.#channelForNewSession(actor, input.channelId);
    const now = clock.now();
    const session: SessionRow = {
      id: newId(),
      channelId: channel.id,
      name: input.name,
      note: input.note,
      status: "Waiting",
      assigneeId: actor.id,
      createdBy: actor.id,
      createdAt: now,
      lastActivityAt: now,
      expiresAt: now + channel.sessionExpiryMinutes * MINUTE,
      linkToken: newLinkToken(),
      pin: this.#freePin(),
      resumeSecretHash: null,
      device: null,
      deletedAt: null,
    };
    store.transaction(() => {
      store.insertSession(session);
      audit.record({ kind: "technician", account: actor }, "session.created", session.id, {
        channelId: channel.id,
      });
    });
    events.sessionChanged(session);
    return session;
  }

  /** Copy link / Show PIN. */
  invitation(actor: AccountRow, id: string, what: "link" | "pin"): Invitation {
    this.#requireDesk(actor);
    const session = this.#visible(actor, id);
    if (!isLive(session.status) || session.pin === null) {
      throw new SosError(
        session.status === "Expired" ? "SESSION_EXPIRED" : "SESSION_CLOSED",
        "The session is over.",
      );
    }
    this.#d.audit.record({ kind: "technician", account: actor }, `session.${what}_shown`, id);
    return { link: this.linkOf(session), pin: session.pin };
  }

  linkOf(session: SessionRow): string {
    return `${this.#d.publicUrl()}/s/${session.linkToken}`;
  }

  /** Start remote session, first click: ask the end user for permission. */
  requestPermission(actor: AccountRow, id: string): SessionRow {
    this.#requireDesk(actor);
    const { store, clock, audit, events, policy, presence } = this.#d;
    const session = this.#visible(actor, id);
    if (!policy.isOnSession(actor, session)) {
      throw new SosError(
        "NOT_ON_SESSION",
        "Only the assigned or an invited technician can start a remote session.",
      );
    }
    if (session.status !== "Active") {
      throw new SosError("INVALID_TRANSITION", `A ${session.status} session cannot start a remote session.`);
    }
    if (!presence.isConnected(id))
      throw new SosError("AGENT_OFFLINE", "The end user's app is not connected.");
    const current = store.getPermission(id, actor.id) ?? {
      sessionId: id,
      accountId: actor.id,
      state: "none" as const,
      access: null,
      requestId: null,
      updatedAt: 0,
    };
    if (current.state === "requested") {
      throw new SosError("PERMISSION_PENDING", "The end user has not answered yet.");
    }
    if (current.state === "granted") return session;
    const requestId = newId();
    const access: AccessMode = "control";
    store.transaction(() => {
      store.putPermission({
        ...current,
        state: permissionTransition(current, "request"),
        access: null,
        requestId,
        updatedAt: clock.now(),
      });
      this.#touch(session);
      audit.record({ kind: "technician", account: actor }, "session.permission_requested", id, { access });
    });
    const stored = this.#reload(id);
    events.sessionChanged(stored);
    events.consentRequested(id, { requestId, technician: { id: actor.id, name: actor.name }, access });
    return stored;
  }

  /** Start remote session, second click: may this technician connect, and with what access? */
  connectAccess(actor: AccountRow, id: string): AccessMode {
    this.#requireDesk(actor);
    const session = this.#visible(actor, id);
    if (!this.#d.policy.isOnSession(actor, session)) {
      throw new SosError("NOT_ON_SESSION", "Only the assigned or an invited technician can connect.");
    }
    if (session.status !== "Active") {
      throw new SosError("INVALID_TRANSITION", `A ${session.status} session cannot be connected to.`);
    }
    if (!this.#d.presence.isConnected(id))
      throw new SosError("AGENT_OFFLINE", "The end user's app is not connected.");
    const permission = this.#d.store.getPermission(id, actor.id);
    if (permission?.state !== "granted" || permission.access === null) {
      throw new SosError("PERMISSION_NOT_GRANTED", "The end user has not granted you access.");
    }
    return permission.access;
  }

  /** Assign technician: take it (yourself) or give it to a colleague (needs the share permission). */
  assign(actor: AccountRow, id: string, technicianId: string, action = "session.assigned"): SessionRow {
    this.#requireDesk(actor);
    const { policy } = this.#d;
    const session = this.#visible(actor, id);
    if (!isLive(session.status)) {
      throw new SosError("INVALID_TRANSITION", `A ${session.status} session cannot be assigned.`);
    }
    const target = this.#assignable(technicianId);
    if (target.id !== actor.id && !policy.canShare(actor)) {
      throw SosError.forbidden("Giving a session to another technician needs the share-sessions permission.");
    }
    const takingOver = session.assigneeId !== null && session.assigneeId !== actor.id;
    if (takingOver && !policy.canLead(actor, session) && !policy.canShare(actor)) {
      throw SosError.forbidden("The session is assigned to someone else.");
    }
    if (session.assigneeId === target.id) return session;
    const previous = session.assigneeId;
    return this.#change(
      actor,
      session,
      "assigned",
      action,
      { technicianId: target.id, previous },
      (next) => {
        next.assigneeId = target.id;
        this.#d.store.removeInvite(id, target.id);
        if (previous !== null) this.#dropTechnician(id, previous);
      },
      () => {
        if (previous !== null) this.#d.events.technicianOffSession(id, previous, "removed_from_session");
      },
    );
  }

  /** Transfer to another technician (share permission) or into another channel (access to it). */
  transfer(
    actor: AccountRow,
    id: string,
    target: { technicianId: string } | { channelId: string },
  ): SessionRow {
    if ("technicianId" in target) {
      this.#requireDesk(actor);
      if (!this.#d.policy.canShare(actor)) {
        throw SosError.forbidden("Transferring to another technician needs the share-sessions permission.");
      }
      return this.assign(actor, id, target.technicianId, "session.transferred");
    }
    this.#requireDesk(actor);
    const { store, policy, clock, audit, events } = this.#d;
    const session = this.#visible(actor, id);
    if (!isLive(session.status)) {
      throw new SosError("INVALID_TRANSITION", `A ${session.status} session cannot be transferred.`);
    }
    const channel =
      target.channelId === HOME_CHANNEL_ID ? this.#privateChannel(actor) : store.getChannel(target.channelId);
    if (channel === undefined) throw new SosError("CHANNEL_NOT_FOUND", "No such channel.");
    if (!policy.canSeeChannel(actor, channel))
      throw SosError.forbidden("You have no access to that channel.");
    if (channel.id === session.channelId) return session;
    const from = store.getChannel(session.channelId);
    const oldExpiry = (from?.sessionExpiryMinutes ?? channel.sessionExpiryMinutes) * MINUTE;
    const next: SessionRow = {
      ...session,
      channelId: channel.id,
      expiresAt: session.expiresAt - oldExpiry + channel.sessionExpiryMinutes * MINUTE,
      lastActivityAt: clock.now(),
    };
    store.transaction(() => {
      store.updateSession(next);
      audit.record({ kind: "technician", account: actor }, "session.transferred", id, {
        fromChannelId: session.channelId,
        channelId: channel.id,
      });
    });
    events.sessionChanged(next);
    return next;
  }

  /** Invite technicians: at most two more than the assignee. */
  invite(actor: AccountRow, id: string, technicianIds: readonly string[]): SessionRow {
    this.#requireDesk(actor);
    const { store, policy, clock, audit, events } = this.#d;
    const session = this.#visible(actor, id);
    if (!policy.canLead(actor, session))
      throw SosError.forbidden("Only the assigned technician can invite others.");
    if (!isLive(session.status)) {
      throw new SosError("INVALID_TRANSITION", `A ${session.status} session cannot take invitations.`);
    }
    const unique = [...new Set(technicianIds)];
    const targets = unique.map((technicianId) => this.#assignable(technicianId));
    const invited = store.getInvites(id);
    for (const target of targets) {
      if (target.id === session.assigneeId || invited.includes(target.id)) {
        throw new SosError("ALREADY_ON_SESSION", `${target.name} is already on this session.`);
      }
    }
    if (invited.length + targets.length > MAX_INVITED_TECHNICIANS) {
      throw new SosError(
        "INVITE_LIMIT",
        `At most ${MAX_INVITED_TECHNICIANS} technicians can be invited (three in all with the assignee).`,
      );
    }
    const now = clock.now();
    store.transaction(() => {
      for (const target of targets) store.addInvite(id, target.id, now);
      this.#touch(session);
      audit.record({ kind: "technician", account: actor }, "session.invited", id, {
        technicianIds: targets.map((t) => t.id),
      });
    });
    const stored = this.#reload(id);
    events.sessionChanged(stored);
    return stored;
  }

  /** Release: back to the queue, unassigned. */
  release(actor: AccountRow, id: string): SessionRow {
    this.#requireDesk(actor);
    const session = this.#visible(actor, id);
    if (!this.#d.policy.canLead(actor, session))
      throw SosError.forbidden("Only the assigned technician can release it.");
    const previous = session.assigneeId;
    return this.#change(
      actor,
      session,
      "released",
      "session.released",
      { previous },
      (next) => {
        next.assigneeId = null;
        if (previous !== null) this.#dropTechnician(id, previous);
      },
      () => {
        if (previous !== null) this.#d.events.technicianOffSession(id, previous, "removed_from_session");
      },
    );
  }

  /** Close: no further connection; link and PIN die. */
  close(actor: AccountRow, id: string): SessionRow {
    this.#requireDesk(actor);
    const session = this.#visible(actor, id);
    if (!this.#d.policy.canLead(actor, session))
      throw SosError.forbidden("Only the assigned technician can close it.");
    return this.#change(
      actor,
      session,
      "closed",
      "session.closed",
      {},
      (next) => {
        next.pin = null;
        next.resumeSecretHash = null;
      },
      () => this.#d.events.sessionEnded(id, "closed"),
    );
  }

  /** Delete from the channel; a live session is ended first. The audit trail keeps its history. */
  remove(actor: AccountRow, id: string): void {
    this.#requireDesk(actor);
    const { store, clock, audit, events, policy } = this.#d;
    const session = this.#visible(actor, id);
    if (!policy.canLead(actor, session) && session.createdBy !== actor.id) {
      throw SosError.forbidden("Only the assigned technician or its creator can delete it.");
    }
    const next: SessionRow = { ...session, pin: null, resumeSecretHash: null, deletedAt: clock.now() };
    store.transaction(() => {
      store.updateSession(next);
      audit.record({ kind: "technician", account: actor }, "session.deleted", id, { status: session.status });
    });
    if (isLive(session.status)) events.sessionEnded(id, "deleted");
    events.sessionRemoved(next);
  }

  /** Expires every Waiting or Queued session past its channel's expiry time with no agent present. */
  expireDue(): number {
    const { store, clock, audit, events, presence } = this.#d;
    let count = 0;
    for (const session of store.listSessionsDueToExpire(clock.now())) {
      if (presence.isConnected(session.id)) continue;
      const next = { ...transition(session, "expired", false), pin: null, resumeSecretHash: null };
      store.transaction(() => {
        store.updateSession(next);
        audit.record({ kind: "system" }, "session.expired", session.id);
      });
      events.sessionEnded(session.id, "expired");
      events.sessionChanged(next);
      count += 1;
    }
    return count;
  }

  /** The account's private channel, made on first use. */
  privateChannelOf(account: AccountRow, defaultExpiryMinutes: number): ChannelRow {
    const existing = this.#d.store.getPrivateChannel(account.id);
    if (existing !== undefined) return existing;
    const channel: ChannelRow = {
      id: newId(),
      kind: "private",
      name: "Private",
      ownerId: account.id,
      sessionExpiryMinutes: defaultExpiryMinutes,
      createdAt: this.#d.clock.now(),
    };
    this.#d.store.insertChannel(channel);
    return channel;
  }

  #privateChannel(actor: AccountRow): ChannelRow | undefined {
    return this.#d.store.getPrivateChannel(actor.id);
  }

  #channelForNewSession(actor: AccountRow, channelId: string): ChannelRow {
    const channel =
      channelId === HOME_CHANNEL_ID ? this.#privateChannel(actor) : this.#d.store.getChannel(channelId);
    if (channel === undefined || !this.#d.policy.canSeeChannel(actor, channel)) {
      throw new SosError("CHANNEL_NOT_FOUND", "No such channel.");
    }
    return channel;
  }

  #change(
    actor: AccountRow,
    session: SessionRow,
    event: SessionEvent,
    action: string,
    detail: Record<string, unknown>,
    mutate: (next: SessionRow) => void,
    after: () => void,
  ): SessionRow {
    const { store, clock, audit, events, presence } = this.#d;
    const next = transition(session, event, presence.isConnected(session.id));
    next.lastActivityAt = clock.now();
    store.transaction(() => {
      mutate(next);
      store.updateSession(next);
      audit.record({ kind: "technician", account: actor }, action, session.id, {
        ...detail,
        status: next.status,
      });
    });
    after();
    events.sessionChanged(next);
    return next;
  }

  /** Forget a technician's consent on a session (they left it). */
  #dropTechnician(sessionId: string, technicianId: string): void {
    this.#d.store.deletePermission(sessionId, technicianId);
  }

  #assignable(technicianId: string): AccountRow {
    const target = this.#d.store.getAccount(technicianId);
    if (target === undefined) throw new SosError("TECHNICIAN_NOT_FOUND", "No such technician.");
    if (!this.#d.policy.canUseDesk(target)) {
      throw SosError.forbidden(`${target.name} cannot use the Service Desk.`);
    }
    return target;
  }

  #requireDesk(actor: AccountRow): void {
    if (!this.#d.policy.isLicensed()) {
      throw new SosError("NOT_LICENSED", "The license does not include attended access (SOS).");
    }
    if (!this.#d.policy.canUseDesk(actor)) {
      throw SosError.forbidden("Your account does not have the attended-access permission.");
    }
  }

  /** A session the actor may see; anything else (unknown, other channel, deleted) answers alike. */
  #visible(actor: AccountRow, id: string): SessionRow {
    const session = this.#d.store.getSession(id);
    if (session === undefined || !this.#d.policy.canSeeSession(actor, session))
      throw SosError.sessionNotFound();
    return session;
  }

  #reload(id: string): SessionRow {
    const session = this.#d.store.getSession(id);
    if (session === undefined) throw SosError.sessionNotFound();
    return session;
  }

  #touch(session: SessionRow): void {
    this.#d.store.updateSession({ ...this.#reload(session.id), lastActivityAt: this.#d.clock.now() });
  }

  #freePin(): string {
    for (let attempt = 0; attempt < 50; attempt += 1) {
      const pin = newPin();
      if (!this.#d.store.pinInUse(pin)) return pin;
    }
    throw new SosError("INTERNAL", "Could not find a free PIN.");
  }
}
