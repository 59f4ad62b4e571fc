import { int, intOrNull, text } from "./row-mappers.ts";
import type { RecordingRow } from "./rows.ts";
import type { Raw, Sql } from "./sql.ts";
import type { StoreQueries } from "./store.ts";

export type RecordingQueries = Pick<
  StoreQueries,
  | "insertRecording"
  | "getRecording"
  | "listRecordings"
  | "confirmRecording"
  | "recordingGrew"
  | "endRecording"
  | "listRecordingsDue"
  | "listRunningRecordingsOfChannel"
  | "deleteRecording"
>;

const DAY_MS = 86_400_000;

function toRecording(row: Raw): RecordingRow {
  return {
    id: text(row, "id"),
    sessionId: text(row, "session_id"),
    technicianId: text(row, "technician_id"),
    technicianName: text(row, "technician_name"),
    startedAt: int(row, "started_at"),
    confirmedAt: intOrNull(row, "confirmed_at"),
    endedAt: intOrNull(row, "ended_at"),
    lastChunkAt: intOrNull(row, "last_chunk_at"),
    bytes: int(row, "bytes"),
    durationMs: intOrNull(row, "duration_ms"),
  };
}

/** Session recordings: their facts (the files are recording-files.ts's). */
export function recordingQueries({ all, get, one, run }: Sql): RecordingQueries {
  return {
    async insertRecording(row) {
      await run(
        "INSERT INTO recordings (id, session_id, technician_id, technician_name, started_at, confirmed_at, ended_at, last_chunk_at, bytes, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        row.id,
        row.sessionId,
        row.technicianId,
        row.technicianName,
        row.startedAt,
        row.confirmedAt,
        row.endedAt,
        row.lastChunkAt,
        row.bytes,
        row.durationMs,
      );
    },
    async getRecording(id) {
      return one(toRecording, "SELECT * FROM recordings WHERE id = ?", id);
    },
    async listRecordings(sessionId) {
      return (
        await all("SELECT * FROM recordings WHERE session_id = ? ORDER BY started_at DESC, id", sessionId)
      ).map(toRecording);
    },
    async confirmRecording(id, at) {
      const row = await get(
        "UPDATE recordings SET confirmed_at = ? WHERE id = ? AND confirmed_at IS NULL AND ended_at IS NULL RETURNING id",
        at,
        id,
      );
      return row !== undefined;
    },
    async recordingGrew(id, fromBytes, toBytes, at) {
      const row = await get(
        "UPDATE recordings SET bytes = ?, last_chunk_at = ? WHERE id = ? AND bytes = ? AND ended_at IS NULL RETURNING id",
        toBytes,
        at,
        id,
        fromBytes,
      );
      return row !== undefined;
    },
    async endRecording(id, at, durationMs) {
      const row = await get(
        "UPDATE recordings SET ended_at = ?, duration_ms = ? WHERE id = ? AND ended_at IS NULL RETURNING id",
        at,
        durationMs,
        id,
      );
      return row !== undefined;
    },
    async listRecordingsDue(now) {
      // Kept for the retention of the session's channel, from when the recording ended (or its
      // last chunk came: a tab closed without stopping), or started when nothing came at all.
      return (
        await all(
          `SELECT r.* FROM recordings r JOIN sessions s ON s.id = r.session_id JOIN channels c ON c.id = s.channel_id WHERE COALESCE(r.ended_at, r.last_chunk_at, r.started_at) + CAST(c.recording_retention_days AS BIGINT) * ${DAY_MS} <= ? ORDER BY r.started_at`,
          now,
        )
      ).map(toRecording);
    },
    async listRunningRecordingsOfChannel(channelId) {
      return (
        await all(
          "SELECT r.* FROM recordings r JOIN sessions s ON s.id = r.session_id WHERE s.channel_id = ? AND r.ended_at IS NULL ORDER BY r.started_at",
          channelId,
        )
      ).map(toRecording);
    },
    async deleteRecording(id) {
      return (await get("DELETE FROM recordings WHERE id = ? RETURNING id", id)) !== undefined;
    },
  };
}
