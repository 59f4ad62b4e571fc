import type { SessionEndReason } from "../../../shared/agent-protocol.ts";
import type { AuditAction } from "../../../shared/audit-actions.ts";
import { SosError } from "../../../shared/errors.ts";
import type { SessionEvent } from "../../../shared/status.ts";
import { KeyedQueue } from "../../auth/keyed-queue.ts";
import type { Clock } from "../../clock.ts";
import type { PermissionRow, SessionRow, TechnicianRow } from "../../store/rows.ts";
import type { Store } from "../../store/store.ts";
import type { AuditLog } from "../audit.ts";
import type { AgentPresence, DomainEvents } from "../events.ts";
import type { Policy } from "../policy.ts";
import { resetPermissions, transition, type Withdrawn } from "./session-machine.ts";

export type DeskDeps = {
  store: Store;
  clock: Clock;
  audit: AuditLog;
  policy: Policy;
  events: DomainEvents;
  presence: AgentPresence;
  publicUrl: () => string;
};

export const MINUTE = 60_000;

/** A rule of "who may": throws (or rejects with) SosError when the actor may not act on the session. */
export type Rule = (actor: TechnicianRow, session: SessionRow) => void | Promise<void>;

/**
 * One technician action on a session, declared: who may, what changes, what is audited, who is
 * told. Built from the session as it is inside the transaction; `run` applies it there, then tells.
 */
export type SessionAction = {
  /** Checked in order before anything changes. */
  may: readonly Rule[];
  /** Nothing to do (e.g. assigning the current assignee): the session is answered as it is. */
  unchanged?: boolean;
  /** The status machine's event, when the action moves the session's status (audited with it). */
  event?: SessionEvent;
  /** What changes on the row and beside it, inside the transaction. */
  change?: (next: SessionRow) => void | Promise<void>;
  /** Technicians who leave the session: consent reset, a pending request withdrawn, views closed. */
  leaving?: readonly string[];
  /** Every pending consent request is withdrawn (the session ends). */
  withdrawPending?: boolean;
  audit: { action: AuditAction; detail?: Record<string, unknown> };
  /** The session is over: the agent is told why and every remote view closes. */
  ends?: SessionEndReason;
  /** Told after the commit, beyond the consoles (which always get the session). */
  tell?: (events: DomainEvents, next: SessionRow) => void;
  /** Deleted: consoles drop the row instead of updating it. */
  removed?: boolean;
};

/** What every desk module shares: its dependencies, the "who may" rules, and the action runner. */
export class DeskContext {
  readonly d: DeskDeps;
  /** Actions on one session run one at a time on this gateway (see serialized). */
  readonly #sessions = new KeyedQueue();

  constructor(deps: DeskDeps) {
    this.d = deps;
  }

  /**
   * Runs `work` after every earlier serialized work on the same session has finished, so a
   * session's changes are decided on what the one before stored, and its events go out in the
   * order the changes were made. Never nest two on one session (it would wait for itself).
   */
  serialized<T>(sessionId: string, work: () => Promise<T>): Promise<T> {
    return this.#sessions.run([sessionId], work);
  }

  /**
   * Applies a declared action to a session the actor may see; see SessionAction. The session is
   * read, the action declared and its rules checked inside the transaction, with the row held: two
   * actions at once (here, or on another gateway on the same database) apply one after the other,
   * and a refusal changes nothing.
   */
  async run(
    actor: TechnicianRow,
    id: string,
    declare: (session: SessionRow) => SessionAction | Promise<SessionAction>,
  ): Promise<SessionRow> {
    this.requireDesk(actor);
    const { store, clock, audit, events, presence } = this.d;
    return this.serialized(id, async () => {
      const outcome = await store.transaction(async () => {
        const session = await this.visible(actor, id, true);
        const action = await declare(session);
        for (const rule of action.may) await rule(actor, session);
        if (action.unchanged === true) return { next: session, applied: undefined };
        const base =
          action.event === undefined ? session : transition(session, action.event, presence.isConnected(id));
        const next: SessionRow = { ...base, lastActivityAt: clock.now() };
        const leaving = action.leaving ?? [];
        await action.change?.(next);
        await store.updateSession(next);
        const withdrawn = await this.resetPermissions(
          (await store.getPermissions(id)).filter(
            (p) =>
              leaving.includes(p.technicianId) ||
              (action.withdrawPending === true && p.state === "requested"),
          ),
        );
        const status = action.event === undefined ? {} : { status: next.status };
        await audit.record({ kind: "technician", account: actor }, action.audit.action, id, {
          ...action.audit.detail,
          ...status,
        });
        return { next, applied: { action, leaving, withdrawn } };
      });
      const { next, applied } = outcome;
      if (applied === undefined) return next;
      const { action, leaving, withdrawn } = applied;
      this.tellWithdrawn(withdrawn);
      for (const technicianId of leaving)
        events.emit("technicianOffSession", id, technicianId, "removed_from_session");
      if (action.ends !== undefined) events.emit("sessionEnded", id, action.ends);
      action.tell?.(events, next);
      if (action.removed === true) events.emit("sessionRemoved", next);
      else events.emit("sessionChanged", next);
      return next;
    });
  }

  /** Inside a transaction: see resetPermissions. */
  resetPermissions(rows: readonly PermissionRow[]): Promise<Withdrawn[]> {
    return resetPermissions(this.d.store, this.d.clock.now(), rows);
  }

  /** Once committed: the agents drop the withdrawn questions. */
  tellWithdrawn(withdrawn: readonly Withdrawn[]): void {
    for (const { sessionId, requestId } of withdrawn)
      this.d.events.emit("consentCancelled", sessionId, requestId);
  }

  requireDesk(actor: TechnicianRow): void {
    if (!this.d.policy.isLicensed()) {
      throw new SosError("NOT_LICENSED", "The license does not include attended access (SOS).");
    }
    if (!this.d.policy.canUseDesk(actor)) {
      throw SosError.forbidden("Your account does not have the attended-access permission.");
    }
  }

  /**
   * A session the actor may see; anything else (unknown, other channel, deleted) answers alike.
   * `lock`: inside a transaction, the row is held until it ends (Store.lockSession).
   */
  async visible(actor: TechnicianRow, id: string, lock = false): Promise<SessionRow> {
    const session = await (lock ? this.d.store.lockSession(id) : this.d.store.getSession(id));
    if (session === undefined || !(await this.d.policy.canSeeSession(actor, session)))
      throw SosError.sessionNotFound();
    return session;
  }

  async assignable(technicianId: string): Promise<TechnicianRow> {
    const target = await this.d.store.getTechnician(technicianId);
    if (target === undefined) throw new SosError("TECHNICIAN_NOT_FOUND", "No such technician.");
    if (!this.d.policy.canUseDesk(target)) {
      throw SosError.forbidden(`${target.name} cannot use the Service Desk.`);
    }
    return target;
  }

  // --- rules ------------------------------------------------------------------------------------

  /** The session is Waiting, Active or Queued. */
  live(what: string): Rule {
    return (_actor, session) => {
      if (session.status === "Expired" || session.status === "Closed") {
        throw new SosError("INVALID_TRANSITION", `A ${session.status} session cannot ${what}.`);
      }
    };
  }

  /** The assignee, or an admin. */
  lead(refusal: string): Rule {
    return (actor, session) => {
      if (!this.d.policy.canLead(actor, session)) throw SosError.forbidden(refusal);
    };
  }

  /** The assignee or an invited technician. */
  onSession(refusal: string): Rule {
    return async (actor, session) => {
      if (!(await this.d.policy.isOnSession(actor, session))) throw new SosError("NOT_ON_SESSION", refusal);
    };
  }
}
