import { SosError } from "../../shared/errors.ts";
import { HOME_CHANNEL_ID } from "../../shared/model.ts";
import { newId } from "../auth/tokens.ts";
import type { Clock } from "../clock.ts";
import type { ChannelRow, TechnicianRow } from "../store/rows.ts";
import type { Store } from "../store/store.ts";
import type { AuditLog } from "./audit.ts";
import type { DomainEvents } from "./events.ts";
import { type Policy, requireAdmin } from "./policy.ts";

export type ChannelsDeps = {
  store: Store;
  clock: Clock;
  audit: AuditLog;
  policy: Policy;
  events: DomainEvents;
  defaultExpiryMinutes: number;
};

export type ChannelWithAccess = { row: ChannelRow; access: string[] };

/** Home (virtual), each technician's Private channel, and team channels made by admins. */
export class Channels {
  readonly #d: ChannelsDeps;

  constructor(deps: ChannelsDeps) {
    this.#d = deps;
  }

  /** Home first, then my Private channel, then the team channels I may see. */
  visibleTo(actor: TechnicianRow): ChannelWithAccess[] {
    const { store, policy, defaultExpiryMinutes } = this.#d;
    const home: ChannelRow = {
      id: HOME_CHANNEL_ID,
      kind: "private",
      name: "Home",
      ownerId: actor.id,
      sessionExpiryMinutes: defaultExpiryMinutes,
      createdAt: actor.createdAt,
    };
    // Made with the account (or by ensurePrivateChannels at start for older technicians): a GET writes nothing.
    const own = store.getPrivateChannel(actor.id);
    const teams = store.listTeamChannels().filter((channel) => policy.canSeeChannel(actor, channel));
    return [
      { row: home, access: [] },
      ...(own === undefined ? [] : [{ row: own, access: [] }]),
      ...teams.map((row) => ({ row, access: actor.role === "admin" ? store.getChannelAccess(row.id) : [] })),
    ];
  }

  /** The account's Private channel, made with the account (inside its transaction). */
  createPrivate(account: TechnicianRow): ChannelRow {
    const channel: ChannelRow = {
      id: newId(),
      kind: "private",
      name: "Private",
      ownerId: account.id,
      sessionExpiryMinutes: this.#d.defaultExpiryMinutes,
      createdAt: this.#d.clock.now(),
    };
    this.#d.store.insertChannel(channel);
    return channel;
  }

  /** At start: technicians made before private channels came with the account get theirs. */
  ensurePrivateChannels(): number {
    const { store } = this.#d;
    const missing = store
      .listTechnicians()
      .filter((account) => store.getPrivateChannel(account.id) === undefined);
    store.transaction(() => {
      for (const account of missing) this.createPrivate(account);
    });
    return missing.length;
  }

  create(
    actor: TechnicianRow,
    input: { name: string; sessionExpiryMinutes?: number | undefined; access: string[] },
  ): ChannelWithAccess {
    requireAdmin(actor);
    const { store, clock, audit, defaultExpiryMinutes } = this.#d;
    this.#checkAccounts(input.access);
    const row: ChannelRow = {
      id: newId(),
      kind: "team",
      name: input.name,
      ownerId: null,
      sessionExpiryMinutes: input.sessionExpiryMinutes ?? defaultExpiryMinutes,
      createdAt: clock.now(),
    };
    store.transaction(() => {
      if (store.listTeamChannels().some((c) => c.name.toLowerCase() === input.name.toLowerCase())) {
        throw new SosError("CHANNEL_NAME_TAKEN", "A channel with that name exists.");
      }
      store.insertChannel(row);
      store.setChannelAccess(row.id, input.access);
      audit.record({ kind: "technician", account: actor }, "channel.created", null, {
        channelId: row.id,
        name: row.name,
        sessionExpiryMinutes: row.sessionExpiryMinutes,
        access: input.access,
      });
    });
    this.#d.events.emit("accessChanged");
    return { row, access: store.getChannelAccess(row.id) };
  }

  update(
    actor: TechnicianRow,
    id: string,
    input: {
      name?: string | undefined;
      sessionExpiryMinutes?: number | undefined;
      access?: string[] | undefined;
    },
  ): ChannelWithAccess {
    requireAdmin(actor);
    const { store, audit } = this.#d;
    const current = store.getChannel(id);
    if (current === undefined || current.kind !== "team")
      throw new SosError("CHANNEL_NOT_FOUND", "No such channel.");
    if (input.access !== undefined) this.#checkAccounts(input.access);
    const next: ChannelRow = {
      ...current,
      name: input.name ?? current.name,
      sessionExpiryMinutes: input.sessionExpiryMinutes ?? current.sessionExpiryMinutes,
    };
    store.transaction(() => {
      if (
        input.name !== undefined &&
        store
          .listTeamChannels()
          .some((c) => c.id !== id && c.name.toLowerCase() === input.name?.toLowerCase())
      ) {
        throw new SosError("CHANNEL_NAME_TAKEN", "A channel with that name exists.");
      }
      store.updateChannel(next);
      if (input.access !== undefined) store.setChannelAccess(id, input.access);
      audit.record({ kind: "technician", account: actor }, "channel.updated", null, {
        channelId: id,
        ...input,
      });
    });
    this.#d.events.emit("accessChanged");
    return { row: next, access: store.getChannelAccess(id) };
  }

  #checkAccounts(ids: readonly string[]): void {
    for (const id of ids) {
      if (this.#d.store.getTechnician(id) === undefined)
        throw new SosError("TECHNICIAN_NOT_FOUND", `No technician ${id}.`);
    }
  }
}
