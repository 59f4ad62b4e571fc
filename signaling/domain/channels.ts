import { SosError } from "../../shared/errors.ts";
import { DEFAULT_FILE_SIZE_LIMIT_MB, DEFAULT_RECONFIRM_MINUTES, MIB } from "../../shared/limits.ts";
import { HOME_CHANNEL_ID } from "../../shared/model.ts";
import { DEFAULT_CHANNEL_RECORDING, type RecordingMode } from "../../shared/recording.ts";
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

/** A channel's recording setting as an admin sends it: either part may be left out. */
type RecordingInput = { mode?: RecordingMode | undefined; retentionDays?: number | undefined };

export type ChannelWithAccess = { row: ChannelRow; access: string[] };

/** Home (virtual), each technician's Private channel, and team channels made by admins. */
export class Channels {
  readonly #d: ChannelsDeps;

  constructor(deps: ChannelsDeps) {
    this.#d = deps;
  }

  /** Home first, then my Private channel, then the team channels I may see. */
  async visibleTo(actor: TechnicianRow): Promise<ChannelWithAccess[]> {
    const { store, policy, defaultExpiryMinutes } = this.#d;
    const home: ChannelRow = {
      id: HOME_CHANNEL_ID,
      kind: "private",
      name: "Home",
      ownerId: actor.id,
      sessionExpiryMinutes: defaultExpiryMinutes,
      recordingMode: DEFAULT_CHANNEL_RECORDING.mode,
      recordingRetentionDays: DEFAULT_CHANNEL_RECORDING.retentionDays,
      reconfirmMinutes: DEFAULT_RECONFIRM_MINUTES,
      fileSizeLimitMb: DEFAULT_FILE_SIZE_LIMIT_MB,
      createdAt: actor.createdAt,
    };
    // Made with the account (or by ensurePrivateChannels at start for older technicians): a GET writes nothing.
    const own = await store.getPrivateChannel(actor.id);
    const teams: ChannelWithAccess[] = [];
    for (const row of await store.listTeamChannels()) {
      if (!(await policy.canSeeChannel(actor, row))) continue;
      teams.push({ row, access: actor.role === "admin" ? await store.getChannelAccess(row.id) : [] });
    }
    return [{ row: home, access: [] }, ...(own === undefined ? [] : [{ row: own, access: [] }]), ...teams];
  }

  /** The account's Private channel, made with the account (inside its transaction). */
  async createPrivate(account: TechnicianRow): Promise<ChannelRow> {
    const channel: ChannelRow = {
      id: newId(),
      kind: "private",
      name: "Private",
      ownerId: account.id,
      sessionExpiryMinutes: this.#d.defaultExpiryMinutes,
      recordingMode: DEFAULT_CHANNEL_RECORDING.mode,
      recordingRetentionDays: DEFAULT_CHANNEL_RECORDING.retentionDays,
      reconfirmMinutes: DEFAULT_RECONFIRM_MINUTES,
      fileSizeLimitMb: DEFAULT_FILE_SIZE_LIMIT_MB,
      createdAt: this.#d.clock.now(),
    };
    await this.#d.store.insertChannel(channel);
    return channel;
  }

  /** At start: technicians made before private channels came with the account get theirs. */
  async ensurePrivateChannels(): Promise<number> {
    const { store } = this.#d;
    return store.transaction(async () => {
      let made = 0;
      for (const account of await store.listTechnicians()) {
        if ((await store.getPrivateChannel(account.id)) !== undefined) continue;
        await this.createPrivate(account);
        made += 1;
      }
      return made;
    });
  }

  async create(
    actor: TechnicianRow,
    input: {
      name: string;
      sessionExpiryMinutes?: number | undefined;
      recording?: RecordingInput | undefined;
      reconfirmMinutes?: number | undefined;
      fileSizeLimitMb?: number | undefined;
      access: string[];
    },
  ): Promise<ChannelWithAccess> {
    requireAdmin(actor);
    const { store, clock, audit, defaultExpiryMinutes } = this.#d;
    await this.#checkAccounts(input.access);
    const row: ChannelRow = {
      id: newId(),
      kind: "team",
      name: input.name,
      ownerId: null,
      sessionExpiryMinutes: input.sessionExpiryMinutes ?? defaultExpiryMinutes,
      recordingMode: input.recording?.mode ?? DEFAULT_CHANNEL_RECORDING.mode,
      recordingRetentionDays: input.recording?.retentionDays ?? DEFAULT_CHANNEL_RECORDING.retentionDays,
      reconfirmMinutes: input.reconfirmMinutes ?? DEFAULT_RECONFIRM_MINUTES,
      fileSizeLimitMb: input.fileSizeLimitMb ?? DEFAULT_FILE_SIZE_LIMIT_MB,
      createdAt: clock.now(),
    };
    await store.transaction(async () => {
      if ((await store.listTeamChannels()).some((c) => c.name.toLowerCase() === input.name.toLowerCase())) {
        throw new SosError("CHANNEL_NAME_TAKEN", "A channel with that name exists.");
      }
      await store.insertChannel(row);
      await store.setChannelAccess(row.id, input.access);
      await audit.record({ kind: "technician", account: actor }, "channel.created", null, {
        channelId: row.id,
        name: row.name,
        sessionExpiryMinutes: row.sessionExpiryMinutes,
        recording: { mode: row.recordingMode, retentionDays: row.recordingRetentionDays },
        reconfirmMinutes: row.reconfirmMinutes,
        fileSizeLimitMb: row.fileSizeLimitMb,
        access: input.access,
      });
    });
    this.#d.events.emit("accessChanged");
    return { row, access: await store.getChannelAccess(row.id) };
  }

  async update(
    actor: TechnicianRow,
    id: string,
    input: {
      name?: string | undefined;
      sessionExpiryMinutes?: number | undefined;
      recording?: RecordingInput | undefined;
      reconfirmMinutes?: number | undefined;
      fileSizeLimitMb?: number | undefined;
      access?: string[] | undefined;
    },
  ): Promise<ChannelWithAccess> {
    requireAdmin(actor);
    const { store, audit } = this.#d;
    const current = await store.getChannel(id);
    if (current === undefined || current.kind !== "team")
      throw new SosError("CHANNEL_NOT_FOUND", "No such channel.");
    if (input.access !== undefined) await this.#checkAccounts(input.access);
    const next: ChannelRow = {
      ...current,
      name: input.name ?? current.name,
      sessionExpiryMinutes: input.sessionExpiryMinutes ?? current.sessionExpiryMinutes,
      recordingMode: input.recording?.mode ?? current.recordingMode,
      recordingRetentionDays: input.recording?.retentionDays ?? current.recordingRetentionDays,
      reconfirmMinutes: input.reconfirmMinutes ?? current.reconfirmMinutes,
      fileSizeLimitMb: input.fileSizeLimitMb ?? current.fileSizeLimitMb,
    };
    await store.transaction(async () => {
      if (
        input.name !== undefined &&
        (await store.listTeamChannels()).some(
          (c) => c.id !== id && c.name.toLowerCase() === input.name?.toLowerCase(),
        )
      ) {
        throw new SosError("CHANNEL_NAME_TAKEN", "A channel with that name exists.");
      }
      await store.updateChannel(next);
      if (input.access !== undefined) await store.setChannelAccess(id, input.access);
      await audit.record({ kind: "technician", account: actor }, "channel.updated", null, {
        channelId: id,
        ...input,
      });
    });
    this.#d.events.emit("accessChanged");
    if (current.recordingMode !== "off" && next.recordingMode === "off")
      this.#d.events.emit("channelRecordingOff", id);
    return { row: next, access: await store.getChannelAccess(id) };
  }

  async #checkAccounts(ids: readonly string[]): Promise<void> {
    for (const id of ids) {
      if ((await this.#d.store.getTechnician(id)) === undefined)
        throw new SosError("TECHNICIAN_NOT_FOUND", `No technician ${id}.`);
    }
  }

  /** The largest file a session's transfers may carry, in bytes: its channel's `fileSizeLimitMb`. */
  async fileLimitBytes(sessionId: string): Promise<number> {
    const channel = await this.#ofSession(sessionId);
    return (channel?.fileSizeLimitMb ?? DEFAULT_FILE_SIZE_LIMIT_MB) * MIB;
  }

  /** How long a session's link lives, in seconds (its channel's expiry); undefined: no such session. */
  async sessionLifetimeSeconds(sessionId: string): Promise<number | undefined> {
    const channel = await this.#ofSession(sessionId);
    return channel === undefined ? undefined : channel.sessionExpiryMinutes * 60;
  }

  async #ofSession(sessionId: string): Promise<ChannelRow | undefined> {
    const session = await this.#d.store.getSession(sessionId);
    return session === undefined ? undefined : this.#d.store.getChannel(session.channelId);
  }
}
