import type { ChatQueries } from "./chat-queries.ts";
import type { ContinuationQueries } from "./continuation-queries.ts";
import type { PeopleQueries } from "./people-queries.ts";
import type { RecordingQueries } from "./recording-queries.ts";
import type { RetentionQueries } from "./retention-queries.ts";
import {
  int,
  SESSION_COLUMNS,
  sessionParams,
  text,
  toAudit,
  toPermission,
  toSession,
} from "./row-mappers.ts";
import type { AuditFilter, NewAudit } from "./rows.ts";
import type { SessionPartsQueries } from "./session-parts-queries.ts";
import type { Sql, SqlValue } from "./sql.ts";
import { PinTaken, type StoreQueries } from "./store.ts";
import type { SystemInfoQueries } from "./system-info-queries.ts";

type SessionQueries = Omit<
  StoreQueries,
  | keyof PeopleQueries
  | keyof ChatQueries
  | keyof SystemInfoQueries
  | keyof RecordingQueries
  | keyof RetentionQueries
  | keyof ContinuationQueries
  | keyof SessionPartsQueries
>;

/** Support sessions, their invites and permissions, and the audit trail. */
export function sessionQueries({ all, get, one, run, forUpdate, pinTaken }: Sql): SessionQueries {
  return {
    async insertSession(row) {
      try {
        await run(
          `INSERT INTO sessions (${SESSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          ...sessionParams(row),
        );
      } catch (error) {
        if (pinTaken(error)) throw new PinTaken();
        throw error;
      }
    },
    async updateSession(row) {
      const params = sessionParams(row);
      const [id, ...rest] = params;
      await run(
        "UPDATE sessions SET channel_id = ?, name = ?, note = ?, status = ?, assignee_id = ?, created_by = ?, created_at = ?, last_activity_at = ?, expires_at = ?, link_token = ?, pin = ?, resume_secret_hash = ?, device = ?, deleted_at = ? WHERE id = ?",
        ...rest,
        id ?? null,
      );
    },
    async getSession(id) {
      return one(toSession, "SELECT * FROM sessions WHERE id = ? AND deleted_at IS NULL", id);
    },
    async lockSession(id) {
      return one(toSession, `SELECT * FROM sessions WHERE id = ? AND deleted_at IS NULL${forUpdate}`, id);
    },
    async getSessionByPin(pin) {
      return one(toSession, "SELECT * FROM sessions WHERE pin = ? AND deleted_at IS NULL", pin);
    },
    async getSessionByLinkToken(token) {
      return one(toSession, "SELECT * FROM sessions WHERE link_token = ? AND deleted_at IS NULL", token);
    },
    async listSessions() {
      return (await all("SELECT * FROM sessions WHERE deleted_at IS NULL ORDER BY created_at DESC")).map(
        toSession,
      );
    },
    async listSessionsInChannel(channelId) {
      return (
        await all(
          "SELECT * FROM sessions WHERE channel_id = ? AND deleted_at IS NULL ORDER BY created_at DESC",
          channelId,
        )
      ).map(toSession);
    },
    async listSessionsOf(technicianId) {
      return (
        await all(
          "SELECT * FROM sessions WHERE deleted_at IS NULL AND (assignee_id = ? OR id IN (SELECT session_id FROM session_invites WHERE account_id = ?)) ORDER BY created_at DESC",
          technicianId,
          technicianId,
        )
      ).map(toSession);
    },
    async listSessionsDueToExpire(now) {
      return (
        await all(
          "SELECT * FROM sessions WHERE deleted_at IS NULL AND status IN ('Waiting', 'Queued') AND expires_at <= ?",
          now,
        )
      ).map(toSession);
    },
    async listSessionsWithStatus(status) {
      return (await all("SELECT * FROM sessions WHERE deleted_at IS NULL AND status = ?", status)).map(
        toSession,
      );
    },
    async pinInUse(pin) {
      return (await get("SELECT 1 AS x FROM sessions WHERE pin = ?", pin)) !== undefined;
    },

    async getInvites(sessionId) {
      return (
        await all(
          "SELECT account_id FROM session_invites WHERE session_id = ? ORDER BY invited_at, account_id",
          sessionId,
        )
      ).map((row) => text(row, "account_id"));
    },
    async addInvite(sessionId, technicianId, at) {
      await run(
        "INSERT INTO session_invites (session_id, account_id, invited_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        sessionId,
        technicianId,
        at,
      );
    },
    async removeInvite(sessionId, technicianId) {
      await run(
        "DELETE FROM session_invites WHERE session_id = ? AND account_id = ?",
        sessionId,
        technicianId,
      );
    },

    async getPermissions(sessionId) {
      return (
        await all("SELECT * FROM session_permissions WHERE session_id = ? ORDER BY updated_at", sessionId)
      ).map(toPermission);
    },
    async getPermission(sessionId, technicianId) {
      return one(
        toPermission,
        "SELECT * FROM session_permissions WHERE session_id = ? AND account_id = ?",
        sessionId,
        technicianId,
      );
    },
    async putPermission(row) {
      await run(
        "INSERT INTO session_permissions (session_id, account_id, state, access, request_id, updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(session_id, account_id) DO UPDATE SET state = excluded.state, access = excluded.access, request_id = excluded.request_id, updated_at = excluded.updated_at",
        row.sessionId,
        row.technicianId,
        row.state,
        row.access,
        row.requestId,
        row.updatedAt,
      );
    },
    async listPermissionsOf(technicianId) {
      return (
        await all("SELECT * FROM session_permissions WHERE account_id = ? ORDER BY updated_at", technicianId)
      ).map(toPermission);
    },

    async appendAudit(entry: NewAudit) {
      const inserted = await get(
        "INSERT INTO audit_log (at, actor_kind, actor_id, actor_name, action, session_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        entry.at,
        entry.actorKind,
        entry.actorId,
        entry.actorName,
        entry.action,
        entry.sessionId,
        JSON.stringify(entry.detail),
      );
      if (inserted === undefined) throw new Error("store: the audit insert returned no id");
      return { ...entry, id: int(inserted, "id") };
    },
    async listAudit(filter: AuditFilter) {
      const where: string[] = [];
      const params: SqlValue[] = [];
      if (filter.sessionId !== undefined) {
        where.push("session_id = ?");
        params.push(filter.sessionId);
      }
      if (filter.actorId !== undefined) {
        where.push("actor_id = ?");
        params.push(filter.actorId);
      }
      if (filter.action !== undefined) {
        where.push("action = ?");
        params.push(filter.action);
      }
      if (filter.before !== undefined) {
        where.push("id < ?");
        params.push(filter.before);
      }
      const clause = where.length === 0 ? "" : `WHERE ${where.join(" AND ")}`;
      return (
        await all(`SELECT * FROM audit_log ${clause} ORDER BY id DESC LIMIT ?`, ...params, filter.limit)
      ).map(toAudit);
    },
  };
}
