import { int, text, toAccount, toChannel } from "./row-mappers.ts";
import type { Sql } from "./sql.ts";
import type { StoreQueries } from "./store.ts";

export type PeopleQueries = Pick<
  StoreQueries,
  | "getSetting"
  | "setSetting"
  | "deleteSetting"
  | "countAdmins"
  | "insertTechnician"
  | "updateTechnician"
  | "getTechnician"
  | "lockTechnician"
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

/** Settings, accounts, sign-in sessions and channels. */
export function peopleQueries({ all, get, one, run, forUpdate }: Sql): PeopleQueries {
  return {
    async getSetting(key) {
      const row = await get("SELECT value FROM settings WHERE key = ?", key);
      return row === undefined ? undefined : text(row, "value");
    },
    async setSetting(key, value) {
      await run(
        "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        key,
        value,
      );
    },
    async deleteSetting(key) {
      await run("DELETE FROM settings WHERE key = ?", key);
    },

    async countAdmins() {
      return int((await get("SELECT count(*) AS n FROM accounts WHERE role = 'admin'")) ?? { n: 0 }, "n");
    },
    async insertTechnician(row) {
      await run(
        "INSERT INTO accounts (id, email, name, role, password_hash, attended_access, share_sessions, view_recordings, disabled, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        row.id,
        row.email,
        row.name,
        row.role,
        row.passwordHash,
        row.attendedAccess ? 1 : 0,
        row.shareSessions ? 1 : 0,
        row.viewRecordings ? 1 : 0,
        row.disabled ? 1 : 0,
        row.createdAt,
      );
    },
    async updateTechnician(row) {
      await run(
        "UPDATE accounts SET email = ?, name = ?, role = ?, password_hash = ?, attended_access = ?, share_sessions = ?, view_recordings = ?, disabled = ? WHERE id = ?",
        row.email,
        row.name,
        row.role,
        row.passwordHash,
        row.attendedAccess ? 1 : 0,
        row.shareSessions ? 1 : 0,
        row.viewRecordings ? 1 : 0,
        row.disabled ? 1 : 0,
        row.id,
      );
    },
    async getTechnician(id) {
      return one(toAccount, "SELECT * FROM accounts WHERE id = ?", id);
    },
    async lockTechnician(id) {
      return one(toAccount, `SELECT * FROM accounts WHERE id = ?${forUpdate}`, id);
    },
    async getTechnicianByEmail(email) {
      return one(toAccount, "SELECT * FROM accounts WHERE email = ?", email);
    },
    async listTechnicians() {
      return (await all("SELECT * FROM accounts ORDER BY lower(name), id")).map(toAccount);
    },

    async insertAuthSession(row) {
      await run(
        "INSERT INTO auth_sessions (token_hash, account_id, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
        row.tokenHash,
        row.technicianId,
        row.csrfToken,
        row.createdAt,
        row.expiresAt,
      );
    },
    async getAuthSession(tokenHash) {
      const row = await get("SELECT * FROM auth_sessions WHERE token_hash = ?", tokenHash);
      if (row === undefined) return undefined;
      return {
        tokenHash: text(row, "token_hash"),
        technicianId: text(row, "account_id"),
        csrfToken: text(row, "csrf_token"),
        createdAt: int(row, "created_at"),
        expiresAt: int(row, "expires_at"),
      };
    },
    async deleteAuthSession(tokenHash) {
      await run("DELETE FROM auth_sessions WHERE token_hash = ?", tokenHash);
    },
    async deleteAuthSessionsOf(technicianId) {
      await run("DELETE FROM auth_sessions WHERE account_id = ?", technicianId);
    },

    async insertChannel(row) {
      await run(
        "INSERT INTO channels (id, kind, name, owner_id, session_expiry_minutes, recording_mode, recording_retention_days, reconfirm_minutes, file_size_limit_mb, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        row.id,
        row.kind,
        row.name,
        row.ownerId,
        row.sessionExpiryMinutes,
        row.recordingMode,
        row.recordingRetentionDays,
        row.reconfirmMinutes,
        row.fileSizeLimitMb,
        row.createdAt,
      );
    },
    async updateChannel(row) {
      await run(
        "UPDATE channels SET name = ?, session_expiry_minutes = ?, recording_mode = ?, recording_retention_days = ?, reconfirm_minutes = ?, file_size_limit_mb = ? WHERE id = ?",
        row.name,
        row.sessionExpiryMinutes,
        row.recordingMode,
        row.recordingRetentionDays,
        row.reconfirmMinutes,
        row.fileSizeLimitMb,
        row.id,
      );
    },
    async getChannel(id) {
      return one(toChannel, "SELECT * FROM channels WHERE id = ?", id);
    },
    async getPrivateChannel(ownerId) {
      return one(toChannel, "SELECT * FROM channels WHERE kind = 'private' AND owner_id = ?", ownerId);
    },
    async listTeamChannels() {
      return (await all("SELECT * FROM channels WHERE kind = 'team' ORDER BY lower(name), id")).map(
        toChannel,
      );
    },
    async getChannelAccess(channelId) {
      const rows = await all(
        "SELECT account_id FROM channel_access WHERE channel_id = ? ORDER BY account_id",
        channelId,
      );
      return rows.map((row) => text(row, "account_id"));
    },
    async setChannelAccess(channelId, accountIds) {
      await run("DELETE FROM channel_access WHERE channel_id = ?", channelId);
      for (const technicianId of new Set(accountIds)) {
        await run(
          "INSERT INTO channel_access (channel_id, account_id) VALUES (?, ?)",
          channelId,
          technicianId,
        );
      }
    },
    async hasChannelAccess(channelId, technicianId) {
      const row = await get(
        "SELECT 1 AS x FROM channel_access WHERE channel_id = ? AND account_id = ?",
        channelId,
        technicianId,
      );
      return row !== undefined;
    },
  };
}
