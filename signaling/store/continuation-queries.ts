import { continuationStateSchema } from "../../shared/continuation.ts";
import { int, intOrNull, text, textOrNull } from "./row-mappers.ts";
import type { ContinuationRow } from "./rows.ts";
import type { Raw, Sql } from "./sql.ts";
import type { StoreQueries } from "./store.ts";

export type ContinuationQueries = Pick<
  StoreQueries,
  "putContinuation" | "getContinuation" | "listContinuationsDue"
>;

export function toContinuation(row: Raw): ContinuationRow {
  return {
    sessionId: text(row, "session_id"),
    state: continuationStateSchema.parse(row.state),
    since: int(row, "since"),
    requestId: textOrNull(row, "request_id"),
    deadline: intOrNull(row, "deadline"),
  };
}

/** Each session's re-confirmation clock: one row per session (shared/continuation.ts). */
export function continuationQueries({ all, one, run }: Sql): ContinuationQueries {
  return {
    async putContinuation(row) {
      await run(
        "INSERT INTO session_continuation (session_id, state, since, request_id, deadline) VALUES (?, ?, ?, ?, ?) ON CONFLICT(session_id) DO UPDATE SET state = excluded.state, since = excluded.since, request_id = excluded.request_id, deadline = excluded.deadline",
        row.sessionId,
        row.state,
        row.since,
        row.requestId,
        row.deadline,
      );
    },
    async getContinuation(sessionId) {
      return one(toContinuation, "SELECT * FROM session_continuation WHERE session_id = ?", sessionId);
    },
    async listContinuationsDue(now) {
      return (
        await all(
          `SELECT c.* FROM session_continuation c
           JOIN sessions s ON s.id = c.session_id
           JOIN channels ch ON ch.id = s.channel_id
           WHERE s.deleted_at IS NULL AND s.status IN ('Waiting', 'Active', 'Queued')
             AND ((c.state IN ('running', 'confirmed') AND ch.reconfirm_minutes > 0
                   AND c.since + ch.reconfirm_minutes * 60000 <= ?)
               OR (c.state = 'asked' AND c.deadline <= ?))`,
          now,
          now,
        )
      ).map(toContinuation);
    },
  };
}
