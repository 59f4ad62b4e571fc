import { text, toSession } from "./row-mappers.ts";
import type { Sql } from "./sql.ts";
import type { StoreQueries } from "./store.ts";

export type RetentionQueries = Pick<StoreQueries, "deleteEndedSessions" | "deleteAuditBefore">;

/**
 * The tables that hang off a session (each `session_id REFERENCES sessions`), deleted before it.
 * Recordings are not here: a session with a recording is never deleted (their files have their
 * own retention, recording-queries.ts); the audit log is not either (its own age, below).
 */
const SESSION_PARTS = [
  "session_invites",
  "session_permissions",
  "chat_lines",
  "session_system_info",
  "session_continuation",
] as const;

/**
 * A session has ended when it is Closed or Expired, or deleted (a live session deleted is ended
 * with it, keeping its status). When: its deletion; else for an Expired one its expiry time or
 * its last activity, whichever is later (the expiry does not touch last_activity_at); else its
 * last activity (closing sets it, and so does anything done to it after).
 */
const ENDED = "(deleted_at IS NOT NULL OR status IN ('Closed', 'Expired'))";
const ENDED_AT =
  "COALESCE(deleted_at, CASE WHEN status = 'Expired' AND expires_at > last_activity_at THEN expires_at ELSE last_activity_at END)";

/** Ended sessions and old audit entries, deleted in bounded batches (signaling/domain/retention.ts). */
export function retentionQueries({ all, forUpdate }: Sql): RetentionQueries {
  return {
    async deleteEndedSessions(endedBefore, limit) {
      // Held until the transaction ends: another instance doing the same waits, then finds them gone.
      const ids = (
        await all(
          `SELECT id FROM sessions WHERE ${ENDED} AND ${ENDED_AT} <= ? AND NOT EXISTS (SELECT 1 FROM recordings r WHERE r.session_id = sessions.id) ORDER BY id LIMIT ?${forUpdate}`,
          endedBefore,
          limit,
        )
      ).map((row) => text(row, "id"));
      if (ids.length === 0) return [];
      const marks = ids.map(() => "?").join(", ");
      for (const table of SESSION_PARTS)
        await all(`DELETE FROM ${table} WHERE session_id IN (${marks})`, ...ids);
      return (await all(`DELETE FROM sessions WHERE id IN (${marks}) RETURNING *`, ...ids)).map(toSession);
    },
    async deleteAuditBefore(before, limit) {
      // The oldest `limit` entries by id (the primary key: no scan of the log), those older than
      // `before` among them. Ids grow with time, so a batch short of `limit` is the end of the old
      // ones; an entry written late (an outage's, with its original time) waits for its neighbours.
      return (
        await all(
          "DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log ORDER BY id LIMIT ?) AND at <= ? RETURNING id",
          limit,
          before,
        )
      ).length;
    },
  };
}
