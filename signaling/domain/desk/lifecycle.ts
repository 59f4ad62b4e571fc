import { SosError } from "../../../shared/errors.ts";
import { HOME_CHANNEL_ID } from "../../../shared/model.ts";
import { newId, newLinkToken, newPin } from "../../auth/tokens.ts";
import type { ChannelRow, SessionRow, TechnicianRow } from "../../store/rows.ts";
import { type DeskContext, MINUTE } from "./context.ts";
import { transition } from "./session-machine.ts";

/** A session's life on the desk: create, assign, transfer, release, close, delete, expire. */
export class SessionLifecycle {
  readonly #c: DeskContext;

  constructor(context: DeskContext) {
    this.#c = context;
  }

  create(actor: TechnicianRow, input: { channelId: string; name: string; note: string }): SessionRow {
    this.#c.requireDesk(actor);
    const { store, clock, audit, events } = this.#c.d;
    const channel = this.#channel(actor, input.channelId);
    if (channel === undefined || !this.#c.d.policy.canSeeChannel(actor, channel)) {
      throw new SosError("CHANNEL_NOT_FOUND", "No such channel.");
    }
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
    events.emit("sessionChanged", session);
    return session;
  }

  /** Assign technician: take it (yourself) or give it to a colleague (needs the share permission). */
  assign(actor: TechnicianRow, id: string, technicianId: string, audited = "session.assigned"): SessionRow {
    const c = this.#c;
    const { policy, store } = c.d;
    return c.run(actor, id, (session) => {
      const target = () => c.assignable(technicianId);
      const previous = session.assigneeId;
      return {
        may: [
          c.live("be assigned"),
          (actor) => {
            if (target().id !== actor.id && !policy.canShare(actor)) {
              throw SosError.forbidden(
                "Giving a session to another technician needs the share-sessions permission.",
              );
            }
          },
          (actor, session) => {
            const takingOver = session.assigneeId !== null && session.assigneeId !== actor.id;
            if (takingOver && !policy.canLead(actor, session) && !policy.canShare(actor)) {
              throw SosError.forbidden("The session is assigned to someone else.");
            }
          },
        ],
        unchanged: previous === technicianId,
        event: "assigned",
        change: (next) => {
          next.assigneeId = technicianId;
          store.removeInvite(id, technicianId);
        },
        leaving: previous === null ? [] : [previous],
        audit: { action: audited, detail: { technicianId, previous } },
      };
    });
  }

  /** Transfer to another technician (share permission) or into another channel (access to it). */
  transfer(
    actor: TechnicianRow,
    id: string,
    target: { technicianId: string } | { channelId: string },
  ): SessionRow {
    const c = this.#c;
    if ("technicianId" in target) {
      c.requireDesk(actor);
      if (!c.d.policy.canShare(actor)) {
        throw SosError.forbidden("Transferring to another technician needs the share-sessions permission.");
      }
      return this.assign(actor, id, target.technicianId, "session.transferred");
    }
    const { store, policy } = c.d;
    return c.run(actor, id, (session) => {
      const channel = this.#channel(actor, target.channelId);
      return {
        may: [
          c.live("be transferred"),
          () => {
            if (channel === undefined) throw new SosError("CHANNEL_NOT_FOUND", "No such channel.");
            if (!policy.canSeeChannel(actor, channel))
              throw SosError.forbidden("You have no access to that channel.");
          },
        ],
        unchanged: channel === undefined || channel.id === session.channelId,
        change: (next) => {
          if (channel === undefined) return;
          const from = store.getChannel(session.channelId);
          const oldExpiry = (from?.sessionExpiryMinutes ?? channel.sessionExpiryMinutes) * MINUTE;
          next.channelId = channel.id;
          next.expiresAt = session.expiresAt - oldExpiry + channel.sessionExpiryMinutes * MINUTE;
        },
        audit: {
          action: "session.transferred",
          detail: { fromChannelId: session.channelId, channelId: channel?.id },
        },
      };
    });
  }

  /** Release: back to the queue, unassigned. */
  release(actor: TechnicianRow, id: string): SessionRow {
    const c = this.#c;
    return c.run(actor, id, (session) => ({
      may: [c.lead("Only the assigned technician can release it.")],
      event: "released",
      change: (next) => {
        next.assigneeId = null;
      },
      leaving: session.assigneeId === null ? [] : [session.assigneeId],
      audit: { action: "session.released", detail: { previous: session.assigneeId } },
    }));
  }

  /** Close: no further connection; link and PIN die. */
  close(actor: TechnicianRow, id: string): SessionRow {
    const c = this.#c;
    return c.run(actor, id, () => ({
      may: [c.lead("Only the assigned technician can close it.")],
      event: "closed",
      change: (next) => {
        next.pin = null;
        next.resumeSecretHash = null;
      },
      withdrawPending: true,
      audit: { action: "session.closed" },
      ends: "closed",
    }));
  }

  /** Delete from the channel; a live session is ended first. The audit trail keeps its history. */
  remove(actor: TechnicianRow, id: string): void {
    const c = this.#c;
    const { clock, policy } = c.d;
    c.run(actor, id, (session) => ({
      may: [
        (actor, session) => {
          if (!policy.canDelete(actor, session)) {
            throw SosError.forbidden("Only the assigned technician or its creator can delete it.");
          }
        },
      ],
      change: (next) => {
        next.pin = null;
        next.resumeSecretHash = null;
        next.deletedAt = clock.now();
        next.lastActivityAt = session.lastActivityAt;
      },
      withdrawPending: true,
      audit: { action: "session.deleted", detail: { status: session.status } },
      ...(session.status === "Expired" || session.status === "Closed" ? {} : { ends: "deleted" as const }),
      removed: true,
    }));
  }

  /** Expires every Waiting or Queued session past its channel's expiry time with no agent present. */
  expireDue(): number {
    const { store, clock, audit, events, presence } = this.#c.d;
    let count = 0;
    for (const session of store.listSessionsDueToExpire(clock.now())) {
      if (presence.isConnected(session.id)) continue;
      const next = { ...transition(session, "expired", false), pin: null, resumeSecretHash: null };
      store.transaction(() => {
        store.updateSession(next);
        audit.record({ kind: "system" }, "session.expired", session.id);
      });
      events.emit("sessionEnded", session.id, "expired");
      events.emit("sessionChanged", next);
      count += 1;
    }
    return count;
  }

  /** A channel by id, Home meaning the actor's Private channel. */
  #channel(actor: TechnicianRow, channelId: string): ChannelRow | undefined {
    const { store } = this.#c.d;
    return channelId === HOME_CHANNEL_ID ? store.getPrivateChannel(actor.id) : store.getChannel(channelId);
  }

  #freePin(): string {
    for (let attempt = 0; attempt < 50; attempt += 1) {
      const pin = newPin();
      if (!this.#c.d.store.pinInUse(pin)) return pin;
    }
    throw new SosError("INTERNAL", "Could not find a free PIN.");
  }
}
