import { SosError } from "../../../shared/errors.ts";
import { HOME_CHANNEL_ID } from "../../../shared/model.ts";
import { newId, newLinkToken, newPin } from "../../auth/tokens.ts";
import type { ChannelRow, SessionRow, TechnicianRow } from "../../store/rows.ts";
import { PinTaken } from "../../store/store.ts";
import { type DeskContext, MINUTE } from "./context.ts";
import { transition } from "./session-machine.ts";

/** How many PINs a create draws before it gives up (each is free with odds of 1 - live/10^PIN_LENGTH). */
const PIN_ATTEMPTS = 50;

/** A session's life on the desk: create, assign, transfer, release, close, delete, expire. */
export class SessionLifecycle {
  readonly #c: DeskContext;

  constructor(context: DeskContext) {
    this.#c = context;
  }

  async create(
    actor: TechnicianRow,
    input: { channelId: string; name: string; note: string },
  ): Promise<SessionRow> {
    this.#c.requireDesk(actor);
    const { store, clock, audit, events } = this.#c.d;
    const channel = await this.#channel(actor, input.channelId);
    if (channel === undefined || !(await this.#c.d.policy.canSeeChannel(actor, channel))) {
      throw new SosError("CHANNEL_NOT_FOUND", "No such channel.");
    }
    const now = clock.now();
    const draft: Omit<SessionRow, "pin"> = {
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
      resumeSecretHash: null,
      device: null,
      deletedAt: null,
    };
    // The live-PIN unique index decides: a PIN another create took meanwhile (on this gateway or
    // another on the same database) is refused as PinTaken, and this create draws again.
    for (let attempt = 0; attempt < PIN_ATTEMPTS; attempt += 1) {
      const session: SessionRow = { ...draft, pin: await this.#freePin() };
      try {
        await store.transaction(async () => {
          await store.insertSession(session);
          await audit.record({ kind: "technician", account: actor }, "session.created", session.id, {
            channelId: channel.id,
          });
        });
      } catch (error) {
        if (error instanceof PinTaken) continue;
        throw error;
      }
      events.emit("sessionChanged", session);
      return session;
    }
    throw new SosError("INTERNAL", "Could not find a free PIN.");
  }

  /** Assign technician: take it (yourself) or give it to a colleague (needs the share permission). */
  assign(
    actor: TechnicianRow,
    id: string,
    technicianId: string,
    audited: "session.assigned" | "session.transferred" = "session.assigned",
  ): Promise<SessionRow> {
    const c = this.#c;
    const { policy, store } = c.d;
    return c.run(actor, id, (session) => {
      const target = () => c.assignable(technicianId);
      const previous = session.assigneeId;
      return {
        may: [
          c.live("be assigned"),
          async (actor) => {
            if ((await target()).id !== actor.id && !policy.canShare(actor)) {
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
        change: async (next) => {
          next.assigneeId = technicianId;
          await store.removeInvite(id, technicianId);
        },
        leaving: previous === null ? [] : [previous],
        audit: { action: audited, detail: { technicianId, previous } },
      };
    });
  }

  /** Transfer to another technician (share permission) or into another channel (access to it). */
  async transfer(
    actor: TechnicianRow,
    id: string,
    target: { technicianId: string } | { channelId: string },
  ): Promise<SessionRow> {
    const c = this.#c;
    if ("technicianId" in target) {
      c.requireDesk(actor);
      if (!c.d.policy.canShare(actor)) {
        throw SosError.forbidden("Transferring to another technician needs the share-sessions permission.");
      }
      return this.assign(actor, id, target.technicianId, "session.transferred");
    }
    const { store, policy } = c.d;
    return c.run(actor, id, async (session) => {
      const channel = await this.#channel(actor, target.channelId);
      return {
        may: [
          c.live("be transferred"),
          async () => {
            if (channel === undefined) throw new SosError("CHANNEL_NOT_FOUND", "No such channel.");
            if (!(await policy.canSeeChannel(actor, channel)))
              throw SosError.forbidden("You have no access to that channel.");
          },
        ],
        unchanged: channel === undefined || channel.id === session.channelId,
        change: async (next) => {
          if (channel === undefined) return;
          const from = await store.getChannel(session.channelId);
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
  release(actor: TechnicianRow, id: string): Promise<SessionRow> {
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
  close(actor: TechnicianRow, id: string): Promise<SessionRow> {
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
  async remove(actor: TechnicianRow, id: string): Promise<void> {
    const c = this.#c;
    const { clock, policy } = c.d;
    await c.run(actor, id, (session) => ({
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

  /**
   * Expires every Waiting or Queued session past its channel's expiry time with no agent present.
   * Each is decided again on its row as it is inside the transaction (an agent may have joined).
   */
  async expireDue(): Promise<number> {
    const { store, clock, audit, events, presence } = this.#c.d;
    let count = 0;
    for (const due of await store.listSessionsDueToExpire(clock.now())) {
      const expired = await this.#c.serialized(due.id, async () => {
        const next = await store.transaction(async () => {
          const session = await store.lockSession(due.id);
          if (session === undefined || presence.isConnected(session.id)) return undefined;
          if (session.status !== "Waiting" && session.status !== "Queued") return undefined;
          if (session.expiresAt > clock.now()) return undefined;
          const next = { ...transition(session, "expired", false), pin: null, resumeSecretHash: null };
          await store.updateSession(next);
          await audit.record({ kind: "system" }, "session.expired", session.id);
          return next;
        });
        if (next === undefined) return false;
        events.emit("sessionEnded", next.id, "expired");
        events.emit("sessionChanged", next);
        return true;
      });
      if (expired) count += 1;
    }
    return count;
  }

  /** A channel by id, Home meaning the actor's Private channel. */
  #channel(actor: TechnicianRow, channelId: string): Promise<ChannelRow | undefined> {
    const { store } = this.#c.d;
    return channelId === HOME_CHANNEL_ID ? store.getPrivateChannel(actor.id) : store.getChannel(channelId);
  }

  /** A PIN no live session holds now (the insert still checks: see create). */
  async #freePin(): Promise<string> {
    for (let attempt = 0; attempt < PIN_ATTEMPTS; attempt += 1) {
      const pin = newPin();
      if (!(await this.#c.d.store.pinInUse(pin))) return pin;
    }
    throw new SosError("INTERNAL", "Could not find a free PIN.");
  }
}
