import type { SQLInputValue } from "node:sqlite";
import type { AuditFilter, NewAudit } from "./rows.ts";
import type { Sql } from "./sqlite-connection.ts";
import type { PeopleQueries } from "./sqlite-people.ts";
import { SESSION_COLUMNS, sessionParams, text, toAudit, toPermission, toSession } from "./sqlite-rows.ts";
import type { Store } from "./store.ts";

type SessionQueries = Omit<Store, "transaction" | "health" | "close" | keyof PeopleQueries>;

/** Support sessions, their invites and permissions, and the audit trail, in SQLite. */
export function sessionQueries({ all, get, one, run }: Sql): SessionQueries {
  return {
    insertSession(row) {
      run(
        `INSERT INTO sessions (${SESSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        ...sessionParams(row),
      );
    },
    updateSession(row) {
      const params = sessionParams(row);
      const [id, ...rest] = params;
      run(
        "UPDATE sessions SET channel_id = ?, name = ?, note = ?, status = ?, assignee_id = ?, created_by = ?, created_at = ?, last_activity_at = ?, expires_at = ?, link_token = ?, pin = ?, resume_secret_hash = ?, device = ?, deleted_at = ? WHERE id = ?",
        ...rest,
        id ?? null,
      );
    },
    getSession(id) {
      return one(toSession, "SELECT * FROM sessions WHERE id = ? AND deleted_at IS NULL", id);
    },
    getSessionByPin(pin) {
      return one(toSession, "SELECT * FROM sessions WHERE pin = ? AND deleted_at IS NULL", pin);
    },
    getSessionByLinkToken(token) {
      return one(toSession, "SELECT * FROM sessions WHERE link_token = ? AND deleted_at IS NULL", token);
    },
    listSessions() {
      return all("SELECT * FROM sessions WHERE deleted_at IS NULL ORDER BY created_at DESC").map(toSession);
    },
    listSessionsInChannel(channelId) {
      return all(
        "SELECT * FROM sessions WHERE channel_id = ? AND deleted_at IS NULL ORDER BY created_at DESC",
        channelId,
      ).map(toSession);
    },
    listSessionsOf(technicianId) {
      return all(
        "SELECT * FROM sessions WHERE deleted_at IS NULL AND (assignee_id = ? OR id IN (SELECT session_id FROM session_invites WHERE account_id = ?)) ORDER BY created_at DESC",
        technicianId,
        technicianId,
      ).map(toSession);
    },
    listSessionsDueToExpire(now) {
      return all(
        "SELECT * FROM sessions WHERE deleted_at IS NULL AND status IN ('Waiting', 'Queued') AND expires_at <= ?",
        now,
      ).map(toSession);
    },
    listSessionsWithStatus(status) {
      return all("SELECT * FROM sessions WHERE deleted_at IS NULL AND status = ?", status).map(toSession);
    },
    pinInUse(pin) {
      return get("SELECT 1 AS x FROM sessions WHERE pin = ?", pin) !== undefined;
    },

    getInvites(sessionId) {
      return all(
        "SELECT account_id FROM session_invites WHERE session_id = ? ORDER BY invited_at, account_id",
        sessionId,
      ).map((row) => text(row, "account_id"));
    },
    addInvite(sessionId, technicianId, at) {
      run(
        "INSERT OR IGNORE INTO session_invites (session_id, account_id, invited_at) VALUES (?, ?, ?)",
        sessionId,
        technicianId,
        at,
      );
    },
    removeInvite(sessionId, technicianId) {
      run("DELETE FROM session_invites WHERE session_id = ? AND account_id = ?", sessionId, technicianId);
    },

    getPermissions(sessionId) {
      return all("SELECT * FROM session_permissions WHERE session_id = ? ORDER BY updated_at", sessionId).map(
        toPermission,
      );
    },
    getPermission(sessionId, technicianId) {
      return one(
        toPermission,
        "SELECT * FROM session_permissions WHERE session_id = ? AND account_id = ?",
        sessionId,
        technicianId,
      );
    },
    putPermission(row) {
      run(
        "INSERT INTO session_permissions (session_id, account_id, state, access, request_id, updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(session_id, account_id) DO UPDATE SET state = excluded.state, access = excluded.access, request_id = excluded.request_id, updated_at = excluded.updated_at",
        row.sessionId,
        row.technicianId,
        row.state,
        row.access,
        row.requestId,
        row.updatedAt,
      );
    },
    listPermissionsOf(technicianId) {
      return all(
        "SELECT * FROM session_permissions WHERE account_id = ? ORDER BY updated_at",
        technicianId,
      ).map(toPermission);
    },

    appendAudit(entry: NewAudit) {
      const result = run(
        "INSERT INTO audit_log (at, actor_kind, actor_id, actor_name, action, session_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
        entry.at,
        entry.actorKind,
        entry.actorId,
        entry.actorName,
        entry.action,
        entry.sessionId,
        JSON.stringify(entry.detail),
      );
      return { ...entry, id: Number(result.lastInsertRowid) };
    },
    listAudit(filter: AuditFilter) {
      const where: string[] = [];
      const params: SQLInputValue[] = [];
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
      return all(`SELECT * FROM audit_log ${clause} ORDER BY id DESC LIMIT ?`, ...params, filter.limit).map(
        toAudit,
      );
    },
  };
}
