import { SosError } from "../../shared/errors.ts";
import type { PersonRef } from "../../shared/model.ts";
import type { Recording } from "../../shared/recording.ts";
import { mayViewRecordings } from "../../shared/session-policy.ts";
import { KeyedQueue } from "../auth/keyed-queue.ts";
import { newId } from "../auth/tokens.ts";
import { type Clock, iso } from "../clock.ts";
import type { RecordingFiles } from "../recordings/recording-files.ts";
import type { RecordingRow, TechnicianRow } from "../store/rows.ts";
import type { Store } from "../store/store.ts";
import type { AuditLog } from "./audit.ts";
import type { Desk } from "./desk/desk.ts";
import type { DomainEvents } from "./events.ts";

export type RecordingsDeps = {
  store: Store;
  clock: Clock;
  audit: AuditLog;
  events: DomainEvents;
  desk: Desk;
  files: RecordingFiles;
  /** Told of each recording its retention deleted (the metrics). */
  deleted?: () => void;
};

export function recordingView(row: RecordingRow): Recording {
  return {
    id: row.id,
    sessionId: row.sessionId,
    technician: { id: row.technicianId, name: row.technicianName },
    startedAt: iso(row.startedAt),
    confirmedAt: row.confirmedAt === null ? null : iso(row.confirmedAt),
    endedAt: row.endedAt === null ? null : iso(row.endedAt),
    bytes: row.bytes,
    durationMs: row.durationMs,
  };
}

const notFound = () => new SosError("RECORDING_NOT_FOUND", "No such recording.");

/**
 * Session recordings. A technician who may see the end user's screen (Start remote session's rule)
 * starts one where the session's channel records; the end user's agent is told and confirms it
 * told the end user before the gateway takes a single chunk. Only that technician's console
 * uploads to it, append-only at the offset the store counts. Admins and technicians with "view
 * recordings" list, watch and download them (audited); the retention sweep deletes them.
 */
export class Recordings {
  readonly #d: RecordingsDeps;
  /** One chunk at a time per recording on this instance. */
  readonly #chunks = new KeyedQueue();

  constructor(deps: RecordingsDeps) {
    this.#d = deps;
  }

  async start(actor: TechnicianRow, sessionId: string): Promise<RecordingRow> {
    const { store, clock, audit, events, desk } = this.#d;
    // On the session, Active with its agent, and the end user let this technician see the screen.
    await desk.permissions.connectAccess(actor, sessionId);
    const session = await desk.get(actor, sessionId);
    const channel = await store.getChannel(session.channelId);
    if (channel === undefined || channel.recordingMode === "off") {
      throw new SosError("RECORDING_OFF", "This session's channel does not record sessions.");
    }
    const row: RecordingRow = {
      id: newId(),
      sessionId,
      technicianId: actor.id,
      technicianName: actor.name,
      startedAt: clock.now(),
      confirmedAt: null,
      endedAt: null,
      lastChunkAt: null,
      bytes: 0,
      durationMs: null,
    };
    await store.transaction(async () => {
      await store.insertRecording(row);
      await audit.record({ kind: "technician", account: actor }, "recording.started", sessionId, {
        recordingId: row.id,
        mode: channel.recordingMode,
      });
    });
    events.emit("recordingStarted", sessionId, {
      recordingId: row.id,
      technician: { id: actor.id, name: actor.name },
    });
    return row;
  }

  /** The agent told the end user (it answers `recording.start` with `recording.confirm`). */
  async confirmed(sessionId: string, recordingId: string, address: string): Promise<void> {
    const { store, clock, audit } = this.#d;
    const row = await store.getRecording(recordingId);
    if (row === undefined || row.sessionId !== sessionId) throw notFound();
    if (row.confirmedAt !== null) return;
    await store.transaction(async () => {
      if (!(await store.confirmRecording(recordingId, clock.now()))) throw notFound();
      await audit.record({ kind: "agent", sessionId, address }, "recording.confirmed", sessionId, {
        recordingId,
      });
    });
  }

  /** The recording's facts, for the technician recording it or one who may view recordings. */
  async get(actor: TechnicianRow, id: string): Promise<RecordingRow> {
    const row = await this.#d.store.getRecording(id);
    if (row === undefined) throw notFound();
    if (row.technicianId !== actor.id) await this.#mayView(actor, row.sessionId);
    return row;
  }

  /** The next bytes of the recording's file, from its own technician's console. */
  async append(actor: TechnicianRow, id: string, offset: number, data: Uint8Array): Promise<RecordingRow> {
    const { store, clock, files } = this.#d;
    return this.#chunks.run([id], async () => {
      const row = await store.getRecording(id);
      if (row === undefined || row.technicianId !== actor.id) throw notFound();
      if (row.endedAt !== null) throw new SosError("RECORDING_ENDED", "The recording was stopped.");
      if (row.confirmedAt === null) {
        throw new SosError(
          "RECORDING_NOT_CONFIRMED",
          "The end user's app has not confirmed that it told the end user about the recording.",
        );
      }
      if (offset !== row.bytes) {
        throw new SosError(
          "RECORDING_OFFSET_MISMATCH",
          `The recording has ${row.bytes} bytes on the gateway; send from there.`,
        );
      }
      await files.append(id, row.bytes, data);
      const at = clock.now();
      const grown = await store
        .recordingGrew(id, row.bytes, row.bytes + data.length, at)
        .catch(async (error: unknown) => {
          await files.cutBack(id, row.bytes);
          throw error;
        });
      if (!grown) {
        await files.cutBack(id, row.bytes);
        throw new SosError(
          "RECORDING_OFFSET_MISMATCH",
          "The recording changed meanwhile; ask for its bytes.",
        );
      }
      return { ...row, bytes: row.bytes + data.length, lastChunkAt: at };
    });
  }

  /** Stopped by its technician (the console knows how long it recorded). */
  async stop(actor: TechnicianRow, id: string, durationMs: number | null): Promise<RecordingRow> {
    const row = await this.#d.store.getRecording(id);
    if (row === undefined || row.technicianId !== actor.id) throw notFound();
    if (row.endedAt !== null) return row;
    return (await this.#end(row, { kind: "technician", account: actor }, durationMs)) ?? row;
  }

  /** A technician's remote view of the session closed: their recordings of it end (the agent is told). */
  async viewClosed(sessionId: string, technicianId: string): Promise<void> {
    for (const row of await this.#d.store.listRecordings(sessionId)) {
      if (row.technicianId === technicianId && row.endedAt === null) {
        await this.#end(row, { kind: "system" }, null);
      }
    }
  }

  /**
   * The session's recordings still running, as `recording.start` tells the agent: sent again when
   * the agent resumes (it may have missed the first, or be a new process that lost its reminder).
   */
  async running(sessionId: string): Promise<Array<{ recordingId: string; technician: PersonRef }>> {
    return (await this.#d.store.listRecordings(sessionId))
      .filter((row) => row.endedAt === null)
      .map((row) => ({
        recordingId: row.id,
        technician: { id: row.technicianId, name: row.technicianName },
      }));
  }

  /**
   * The channel no longer records (an admin set it to off): its recordings still running end now
   * (audited as stopped by the system, the agent told `recording.stop`); the recording console's
   * next chunk is refused with RECORDING_ENDED and its recorder stops.
   */
  async channelOff(channelId: string): Promise<number> {
    let ended = 0;
    for (const row of await this.#d.store.listRunningRecordingsOfChannel(channelId)) {
      if ((await this.#end(row, { kind: "system" }, null)) !== undefined) ended += 1;
    }
    return ended;
  }

  /** A session's recordings, newest first. */
  async list(actor: TechnicianRow, sessionId: string): Promise<RecordingRow[]> {
    await this.#mayView(actor, sessionId);
    return this.#d.store.listRecordings(sessionId);
  }

  /**
   * A recording to play or download. `audited`: this request starts a watch or a download (a
   * player's further range requests are not audited again).
   */
  async open(
    actor: TechnicianRow,
    id: string,
    how: "watched" | "downloaded",
    audited: boolean,
  ): Promise<RecordingRow> {
    const row = await this.#d.store.getRecording(id);
    if (row === undefined) throw notFound();
    await this.#mayView(actor, row.sessionId);
    if (audited) {
      await this.#d.audit.record({ kind: "technician", account: actor }, `recording.${how}`, row.sessionId, {
        recordingId: id,
      });
    }
    return row;
  }

  /**
   * Deletes every recording past its channel's retention at `now`: the file, then the row (a run
   * that fails between the two finds the row again next time; another instance doing the same at
   * once finds the file or the row gone, which is fine). Resolves to how many this run deleted.
   */
  async sweep(now = this.#d.clock.now()): Promise<number> {
    const { store, files, audit } = this.#d;
    let deleted = 0;
    for (const row of await store.listRecordingsDue(now)) {
      await files.remove(row.id);
      if (!(await store.deleteRecording(row.id))) continue;
      deleted += 1;
      this.#d.deleted?.();
      audit.observed({ kind: "system" }, "recording.deleted", row.sessionId, {
        recordingId: row.id,
        reason: "retention",
      });
    }
    return deleted;
  }

  async #end(
    row: RecordingRow,
    actor: { kind: "technician"; account: TechnicianRow } | { kind: "system" },
    durationMs: number | null,
  ): Promise<RecordingRow | undefined> {
    const { store, clock, audit, events } = this.#d;
    const at = clock.now();
    const ended = await store.transaction(async () => {
      if (!(await store.endRecording(row.id, at, durationMs))) return false;
      await audit.record(actor, "recording.stopped", row.sessionId, {
        recordingId: row.id,
        bytes: row.bytes,
        durationMs,
      });
      return true;
    });
    if (!ended) return undefined;
    events.emit("recordingStopped", row.sessionId, {
      recordingId: row.id,
      technician: { id: row.technicianId, name: row.technicianName },
    });
    return { ...row, endedAt: at, durationMs };
  }

  async #mayView(actor: TechnicianRow, sessionId: string): Promise<void> {
    // Who may see the session at all (else SESSION_NOT_FOUND), then the permission.
    await this.#d.desk.get(actor, sessionId);
    if (!mayViewRecordings(actor) || actor.disabled) {
      throw new SosError(
        "RECORDINGS_NOT_PERMITTED",
        "Only admins and technicians with the “view recordings” permission can see recordings.",
      );
    }
  }
}
