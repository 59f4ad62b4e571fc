import { mkdirSync } from "node:fs";
import { join } from "node:path";
import {
  DatabaseSync,
  type SQLInputValue,
  type StatementResultingChanges,
  type StatementSync,
} from "node:sqlite";
import { SosError } from "../../shared/errors.ts";
import { deviceInfoSchema, roleSchema } from "../../shared/model.ts";
import { accessModeSchema, permissionStateSchema, sessionStatusSchema } from "../../shared/status.ts";
import { MIGRATIONS } from "./migrations.ts";
import type {
  AccountRow,
  AuditFilter,
  AuditRow,
  ChannelRow,
  NewAudit,
  PermissionRow,
  SessionRow,
} from "./rows.ts";
import type { Store } from "./store.ts";

type Raw = Record<string, unknown>;

function text(row: Raw, key: string): string {
  const value = row[key];
  if (typeof value !== "string") throw new Error(`store: column ${key} is not text`);
  return value;
}
function textOrNull(row: Raw, key: string): string | null {
  const value = row[key];
  return typeof value === "string" ? value : null;
}
function int(row: Raw, key: string): number {
  const value = row[key];
  if (typeof value === "number") return value;
  if (typeof value === "bigint") return Number(value);
  throw new Error(`store: column ${key} is not a number`);
}
function intOrNull(row: Raw, key: string): number | null {
  return row[key] === null || row[key] === undefined ? null : int(row, key);
}

function toAccount(row: Raw): AccountRow {
  return {
    id: text(row, "id"),
    email: text(row, "email"),
    name: text(row, "name"),
    role: roleSchema.parse(row.role),
    passwordHash: text(row, "password_hash"),
    attendedAccess: int(row, "attended_access") === 1,
    shareSessions: int(row, "share_sessions") === 1,
    disabled: int(row, "disabled") === 1,
    createdAt: int(row, "created_at"),
  };
}

function toChannel(row: Raw): ChannelRow {
  const kind = text(row, "kind");
  if (kind !== "private" && kind !== "team") throw new Error(`store: bad channel kind ${kind}`);
  return {
    id: text(row, "id"),
    kind,
    name: text(row, "name"),
    ownerId: textOrNull(row, "owner_id"),
    sessionExpiryMinutes: int(row, "session_expiry_minutes"),
    createdAt: int(row, "created_at"),
  };
}

function toSession(row: Raw): SessionRow {
  const device = textOrNull(row, "device");
  return {
    id: text(row, "id"),
    channelId: text(row, "channel_id"),
    name: text(row, "name"),
    note: text(row, "note"),
    status: sessionStatusSchema.parse(row.status),
    assigneeId: textOrNull(row, "assignee_id"),
    createdBy: text(row, "created_by"),
    createdAt: int(row, "created_at"),
    lastActivityAt: int(row, "last_activity_at"),
    expiresAt: int(row, "expires_at"),
    linkToken: text(row, "link_token"),
    pin: textOrNull(row, "pin"),
    resumeSecretHash: textOrNull(row, "resume_secret_hash"),
    device: device === null ? null : deviceInfoSchema.parse(JSON.parse(device)),
    deletedAt: intOrNull(row, "deleted_at"),
  };
}

function toPermission(row: Raw): PermissionRow {
  const access = textOrNull(row, "access");
  return {
    sessionId: text(row, "session_id"),
    accountId: text(row, "account_id"),
    state: permissionStateSchema.parse(row.state),
    access: access === null ? null : accessModeSchema.parse(access),
    requestId: textOrNull(row, "request_id"),
    updatedAt: int(row, "updated_at"),
  };
}

function toAudit(row: Raw): AuditRow {
  const kind = text(row, "actor_kind");
  if (kind !== "technician" && kind !== "agent" && kind !== "system")
    throw new Error("store: bad actor kind");
  const detail: unknown = JSON.parse(text(row, "detail"));
  return {
    id: int(row, "id"),
    at: int(row, "at"),
    actorKind: kind,
    actorId: textOrNull(row, "actor_id"),
    actorName: textOrNull(row, "actor_name"),
    action: text(row, "action"),
    sessionId: textOrNull(row, "session_id"),
    detail: typeof detail === "object" && detail !== null ? Object.fromEntries(Object.entries(detail)) : {},
  };
}

const SESSION_COLUMNS =
  "id, channel_id, name, note, status, assignee_id, created_by, created_at, last_activity_at, expires_at, link_token, pin, resume_secret_hash, device, deleted_at";

function sessionParams(row: SessionRow): SQLInputValue[] {
  return [
    row.id,
    row.channelId,
    row.name,
    row.note,
    row.status,
    row.assigneeId,
    row.createdBy,
    row.createdAt,
    row.lastActivityAt,
    row.expiresAt,
    row.linkToken,
    row.pin,
    row.resumeSecretHash,
    row.device === null ? null : JSON.stringify(row.device),
    row.deletedAt,
  ];
}

/**
 * How long a statement waits for another connection's write lock (a backup, a checkpoint, an
 * admin's sqlite3 shell) before it fails with STORE_UNAVAILABLE. node:sqlite is synchronous, so the
 * event loop waits with it: long enough for a checkpoint or a short write elsewhere, short enough
 * that a lock held for minutes costs each request at most this much.
 */
export const STORE_BUSY_TIMEOUT_MS = 1_000;
/** A failing store is probed with a small write at most this often when health is asked. */
const PROBE_INTERVAL_MS = 2_000;

/**
 * SQLite's primary result codes that mean "the database cannot serve now" rather than a bug:
 * BUSY, LOCKED, NOMEM, READONLY, IOERR, CORRUPT, FULL, CANTOPEN, PROTOCOL, NOTADB.
 */
const UNAVAILABLE = new Set([5, 6, 7, 8, 10, 11, 13, 14, 15, 26]);

/** A node:sqlite error whose code says the database is unavailable, as STORE_UNAVAILABLE. */
function storeFault(error: unknown): unknown {
  if (!(error instanceof Error) || !("errcode" in error) || typeof error.errcode !== "number") return error;
  if (!UNAVAILABLE.has(error.errcode & 0xff)) return error;
  return new SosError("STORE_UNAVAILABLE", "The gateway's database is unavailable; try again shortly.", {
    cause: error,
  });
}

/**
 * The embedded store: one SQLite file `gateway.db` in the data directory, WAL journal, and
 * `synchronous = FULL` so an acknowledged write survives a power loss.
 */
export function openSqliteStore(dataDir: string): Store {
  mkdirSync(dataDir, { recursive: true });
  const db = new DatabaseSync(join(dataDir, "gateway.db"), { timeout: STORE_BUSY_TIMEOUT_MS });
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;");
  migrate(db);

  /** Set while writes fail; cleared by the next write that succeeds. */
  let failing: { since: number; error: string } | undefined;
  let lastProbe = 0;
  /** Runs one access to SQLite; a failure that means "unavailable" is recorded and rethrown as such. */
  const guard = <T>(access: () => T): T => {
    try {
      return access();
    } catch (error) {
      const fault = storeFault(error);
      if (fault instanceof SosError) {
        failing ??= { since: Date.now(), error: error instanceof Error ? error.message : String(error) };
      }
      throw fault;
    }
  };
  const wrote = (): void => {
    if (!db.isTransaction) failing = undefined;
  };

  const cache = new Map<string, StatementSync>();
  const prepared = (sql: string): StatementSync => {
    let statement = cache.get(sql);
    if (statement === undefined) {
      statement = db.prepare(sql);
      cache.set(sql, statement);
    }
    return statement;
  };
  const all = (sql: string, ...params: SQLInputValue[]): Raw[] => guard(() => prepared(sql).all(...params));
  const get = (sql: string, ...params: SQLInputValue[]): Raw | undefined =>
    guard(() => prepared(sql).get(...params));
  /** The first row mapped, or undefined. */
  const one = <T>(map: (row: Raw) => T, sql: string, ...params: SQLInputValue[]): T | undefined => {
    const row = get(sql, ...params);
    return row === undefined ? undefined : map(row);
  };
  const run = (sql: string, ...params: SQLInputValue[]): StatementResultingChanges => {
    const result = guard(() => prepared(sql).run(...params));
    wrote();
    return result;
  };
  /** Undoes an open transaction after a failure; SQLite may already have rolled it back itself. */
  const rollback = (): void => {
    if (!db.isTransaction) return;
    try {
      db.exec("ROLLBACK");
    } catch {
      // The error that made us roll back is the one worth reporting; a connection that cannot even
      // roll back is marked failing by the next access.
    }
  };

  return {
    // Nesting and state come from SQLite itself (isTransaction), not from a counter of ours: a BEGIN
    // that fails leaves nothing behind, so the next transaction is a real one again.
    transaction(work) {
      if (db.isTransaction) return work();
      guard(() => db.exec("BEGIN IMMEDIATE"));
      try {
        const result = work();
        guard(() => db.exec("COMMIT"));
        wrote();
        return result;
      } catch (error) {
        rollback();
        throw error;
      }
    },
    health() {
      if (failing !== undefined && Date.now() - lastProbe >= PROBE_INTERVAL_MS) {
        lastProbe = Date.now();
        // A write that does not wait for another connection's lock: health must answer at once.
        try {
          db.exec("PRAGMA busy_timeout = 0");
          run(
            "INSERT INTO settings (key, value) VALUES ('health_probe', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            String(Date.now()),
          );
        } catch {
          // Still failing; `failing` keeps the first error and when it began.
        } finally {
          db.exec(`PRAGMA busy_timeout = ${STORE_BUSY_TIMEOUT_MS}`);
        }
      }
      return failing === undefined ? { ok: true } : { ok: false, ...failing };
    },
    close() {
      if (db.isOpen) db.close();
    },

    getSetting(key) {
      const row = get("SELECT value FROM settings WHERE key = ?", key);
      return row === undefined ? undefined : text(row, "value");
    },
    setSetting(key, value) {
      run(
        "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        key,
        value,
      );
    },
    deleteSetting(key) {
      run("DELETE FROM settings WHERE key = ?", key);
    },

    countAccounts() {
      return int(get("SELECT count(*) AS n FROM accounts") ?? { n: 0 }, "n");
    },
    countAdmins() {
      return int(get("SELECT count(*) AS n FROM accounts WHERE role = 'admin'") ?? { n: 0 }, "n");
    },
    insertAccount(row) {
      run(
        "INSERT INTO accounts (id, email, name, role, password_hash, attended_access, share_sessions, disabled, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        row.id,
        row.email,
        row.name,
        row.role,
        row.passwordHash,
        row.attendedAccess ? 1 : 0,
        row.shareSessions ? 1 : 0,
        row.disabled ? 1 : 0,
        row.createdAt,
      );
    },
    updateAccount(row) {
      run(
        "UPDATE accounts SET email = ?, name = ?, role = ?, password_hash = ?, attended_access = ?, share_sessions = ?, disabled = ? WHERE id = ?",
        row.email,
        row.name,
        row.role,
        row.passwordHash,
        row.attendedAccess ? 1 : 0,
        row.shareSessions ? 1 : 0,
        row.disabled ? 1 : 0,
        row.id,
      );
    },
    getAccount(id) {
      return one(toAccount, "SELECT * FROM accounts WHERE id = ?", id);
    },
    getAccountByEmail(email) {
      return one(toAccount, "SELECT * FROM accounts WHERE email = ?", email);
    },
    listAccounts() {
      return all("SELECT * FROM accounts ORDER BY name COLLATE NOCASE").map(toAccount);
    },

    insertAuthSession(row) {
      run(
        "INSERT INTO auth_sessions (token_hash, account_id, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
        row.tokenHash,
        row.accountId,
        row.csrfToken,
        row.createdAt,
        row.expiresAt,
      );
    },
    getAuthSession(tokenHash) {
      const row = get("SELECT * FROM auth_sessions WHERE token_hash = ?", tokenHash);
      if (row === undefined) return undefined;
      return {
        tokenHash: text(row, "token_hash"),
        accountId: text(row, "account_id"),
        csrfToken: text(row, "csrf_token"),
        createdAt: int(row, "created_at"),
        expiresAt: int(row, "expires_at"),
      };
    },
    deleteAuthSession(tokenHash) {
      run("DELETE FROM auth_sessions WHERE token_hash = ?", tokenHash);
    },
    deleteAuthSessionsOf(accountId) {
      run("DELETE FROM auth_sessions WHERE account_id = ?", accountId);
    },

    insertChannel(row) {
      run(
        "INSERT INTO channels (id, kind, name, owner_id, session_expiry_minutes, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        row.id,
        row.kind,
        row.name,
        row.ownerId,
        row.sessionExpiryMinutes,
        row.createdAt,
      );
    },
    updateChannel(row) {
      run(
        "UPDATE channels SET name = ?, session_expiry_minutes = ? WHERE id = ?",
        row.name,
        row.sessionExpiryMinutes,
        row.id,
      );
    },
    getChannel(id) {
      return one(toChannel, "SELECT * FROM channels WHERE id = ?", id);
    },
    getPrivateChannel(ownerId) {
      return one(toChannel, "SELECT * FROM channels WHERE kind = 'private' AND owner_id = ?", ownerId);
    },
    listTeamChannels() {
      return all("SELECT * FROM channels WHERE kind = 'team' ORDER BY name COLLATE NOCASE").map(toChannel);
    },
    getChannelAccess(channelId) {
      return all(
        "SELECT account_id FROM channel_access WHERE channel_id = ? ORDER BY account_id",
        channelId,
      ).map((row) => text(row, "account_id"));
    },
    setChannelAccess(channelId, accountIds) {
      run("DELETE FROM channel_access WHERE channel_id = ?", channelId);
      for (const accountId of new Set(accountIds)) {
        run("INSERT INTO channel_access (channel_id, account_id) VALUES (?, ?)", channelId, accountId);
      }
    },
    hasChannelAccess(channelId, accountId) {
      return (
        get(
          "SELECT 1 AS x FROM channel_access WHERE channel_id = ? AND account_id = ?",
          channelId,
          accountId,
        ) !== undefined
      );
    },

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
    listSessionsOf(accountId) {
      return all(
        "SELECT * FROM sessions WHERE deleted_at IS NULL AND (assignee_id = ? OR id IN (SELECT session_id FROM session_invites WHERE account_id = ?)) ORDER BY created_at DESC",
        accountId,
        accountId,
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
    addInvite(sessionId, accountId, at) {
      run(
        "INSERT OR IGNORE INTO session_invites (session_id, account_id, invited_at) VALUES (?, ?, ?)",
        sessionId,
        accountId,
        at,
      );
    },
    removeInvite(sessionId, accountId) {
      run("DELETE FROM session_invites WHERE session_id = ? AND account_id = ?", sessionId, accountId);
    },

    getPermissions(sessionId) {
      return all("SELECT * FROM session_permissions WHERE session_id = ? ORDER BY updated_at", sessionId).map(
        toPermission,
      );
    },
    getPermission(sessionId, accountId) {
      return one(
        toPermission,
        "SELECT * FROM session_permissions WHERE session_id = ? AND account_id = ?",
        sessionId,
        accountId,
      );
    },
    putPermission(row) {
      run(
        "INSERT INTO session_permissions (session_id, account_id, state, access, request_id, updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(session_id, account_id) DO UPDATE SET state = excluded.state, access = excluded.access, request_id = excluded.request_id, updated_at = excluded.updated_at",
        row.sessionId,
        row.accountId,
        row.state,
        row.access,
        row.requestId,
        row.updatedAt,
      );
    },
    deletePermission(sessionId, accountId) {
      run("DELETE FROM session_permissions WHERE session_id = ? AND account_id = ?", sessionId, accountId);
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

function migrate(db: DatabaseSync): void {
  const row = db.prepare("PRAGMA user_version").get();
  const current = row === undefined ? 0 : Number(row.user_version);
  for (let version = current; version < MIGRATIONS.length; version += 1) {
    const sql = MIGRATIONS[version];
    if (sql === undefined) break;
    db.exec("BEGIN IMMEDIATE");
    try {
      db.exec(sql);
      db.exec(`PRAGMA user_version = ${version + 1}`);
      db.exec("COMMIT");
    } catch (error) {
      if (db.isTransaction) db.exec("ROLLBACK");
      throw error;
    }
  }
}
