import { systemInfoSchema } from "../../shared/system-info.ts";
import { int, intOrNull, text, textOrNull } from "./row-mappers.ts";
import type { SystemInfoRow } from "./rows.ts";
import type { Raw, Sql } from "./sql.ts";
import type { StoreQueries } from "./store.ts";

export type SystemInfoQueries = Pick<
  StoreQueries,
  "putSystemInfoRequest" | "putSystemInfo" | "getSystemInfo"
>;

function toSystemInfo(row: Raw): SystemInfoRow {
  const info = textOrNull(row, "info");
  return {
    sessionId: text(row, "session_id"),
    requestId: text(row, "request_id"),
    requestedBy: text(row, "requested_by"),
    requestedAt: int(row, "requested_at"),
    info: info === null ? null : systemInfoSchema.parse(JSON.parse(info)),
    receivedAt: intOrNull(row, "received_at"),
  };
}

/** The end user's computer's facts: one row per session, the last request and its answer. */
export function systemInfoQueries({ one, run }: Sql): SystemInfoQueries {
  return {
    async putSystemInfoRequest(sessionId, requestId, technicianId, at) {
      await run(
        "INSERT INTO session_system_info (session_id, request_id, requested_by, requested_at, info, received_at) VALUES (?, ?, ?, ?, NULL, NULL) ON CONFLICT(session_id) DO UPDATE SET request_id = excluded.request_id, requested_by = excluded.requested_by, requested_at = excluded.requested_at",
        sessionId,
        requestId,
        technicianId,
        at,
      );
    },
    async putSystemInfo(sessionId, info, at) {
      await run(
        "UPDATE session_system_info SET info = ?, received_at = ? WHERE session_id = ?",
        JSON.stringify(info),
        at,
        sessionId,
      );
    },
    async getSystemInfo(sessionId) {
      return one(toSystemInfo, "SELECT * FROM session_system_info WHERE session_id = ?", sessionId);
    },
  };
}
