import type { Sql } from "./sqlite-connection.ts";
import { int, text, toAccount, toChannel } from "./sqlite-rows.ts";
import type { Store } from "./store.ts";

export type PeopleQueries = Pick<
  Store,
  | "getSetting"
  | "setSetting"
  | "deleteSetting"
  | "countAdmins"
  | "insertTechnician"
  | "updateTechnician"
  | "getTechnician"
  | "getTechnicianByEmail"
  | "listTechnicians"
  | "insertAuthSession"
  | "getAuthSession"
  | "deleteAuthSession"
  | "deleteAuthSessionsOf"
  | "insertChannel"
  | "updateChannel"
  | "getChannel"
  | "getPrivateChannel"
  | "listTeamChannels"
  | "getChannelAccess"
  | "setChannelAccess"
  | "hasChannelAccess"
>;

/** Settings, accounts, sign-in sessions and channels, in SQLite. */
export function peopleQueries({ all, get, one, run }: Sql): PeopleQueries {
  return {
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

    countAdmins() {
      return int(get("SELECT count(*) AS n FROM accounts WHERE role = 'admin'") ?? { n: 0 }, "n");
    },
    insertTechnician(row) {
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
    updateTechnician(row) {
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
    getTechnician(id) {
      return one(toAccount, "SELECT * FROM accounts WHERE id = ?", id);
    },
    getTechnicianByEmail(email) {
      return one(toAccount, "SELECT * FROM accounts WHERE email = ?", email);
    },
    listTechnicians() {
      return all("SELECT * FROM accounts ORDER BY name COLLATE NOCASE").map(toAccount);
    },

    insertAuthSession(row) {
      run(
        "INSERT INTO auth_sessions (token_hash, account_id, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
        row.tokenHash,
        row.technicianId,
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
        technicianId: text(row, "account_id"),
        csrfToken: text(row, "csrf_token"),
        createdAt: int(row, "created_at"),
        expiresAt: int(row, "expires_at"),
      };
    },
    deleteAuthSession(tokenHash) {
      run("DELETE FROM auth_sessions WHERE token_hash = ?", tokenHash);
    },
    deleteAuthSessionsOf(technicianId) {
      run("DELETE FROM auth_sessions WHERE account_id = ?", technicianId);
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
      for (const technicianId of new Set(accountIds)) {
        run("INSERT INTO channel_access (channel_id, account_id) VALUES (?, ?)", channelId, technicianId);
      }
    },
    hasChannelAccess(channelId, technicianId) {
      return (
        get(
          "SELECT 1 AS x FROM channel_access WHERE channel_id = ? AND account_id = ?",
          channelId,
          technicianId,
        ) !== undefined
      );
    },
  };
}
