import { deviceInfoSchema, roleSchema } from "../../shared/model.ts";
import { recordingModeSchema } from "../../shared/recording.ts";
import { accessModeSchema, permissionStateSchema, sessionStatusSchema } from "../../shared/status.ts";
import type { AuditRow, ChannelRow, PermissionRow, SessionRow, TechnicianRow } from "./rows.ts";
import type { Raw, SqlValue } from "./sql.ts";

/** Database rows (SQLite's or PostgreSQL's) to the store's rows and back: every column read is checked. */

export function text(row: Raw, key: string): string {
  const value = row[key];
  if (typeof value !== "string") throw new Error(`store: column ${key} is not text`);
  return value;
}
export function textOrNull(row: Raw, key: string): string | null {
  const value = row[key];
  return typeof value === "string" ? value : null;
}
export function int(row: Raw, key: string): number {
  const value = row[key];
  if (typeof value === "number") return value;
  if (typeof value === "bigint") return Number(value);
  throw new Error(`store: column ${key} is not a number`);
}
export function intOrNull(row: Raw, key: string): number | null {
  return row[key] === null || row[key] === undefined ? null : int(row, key);
}

export function toAccount(row: Raw): TechnicianRow {
  return {
    id: text(row, "id"),
    email: text(row, "email"),
    name: text(row, "name"),
    role: roleSchema.parse(row.role),
    passwordHash: text(row, "password_hash"),
    attendedAccess: int(row, "attended_access") === 1,
    shareSessions: int(row, "share_sessions") === 1,
    viewRecordings: int(row, "view_recordings") === 1,
    disabled: int(row, "disabled") === 1,
    createdAt: int(row, "created_at"),
  };
}

export function toChannel(row: Raw): ChannelRow {
  const kind = text(row, "kind");
  if (kind !== "private" && kind !== "team") throw new Error(`store: bad channel kind ${kind}`);
  return {
    id: text(row, "id"),
    kind,
    name: text(row, "name"),
    ownerId: textOrNull(row, "owner_id"),
    sessionExpiryMinutes: int(row, "session_expiry_minutes"),
    recordingMode: recordingModeSchema.parse(row.recording_mode),
    recordingRetentionDays: int(row, "recording_retention_days"),
    reconfirmMinutes: int(row, "reconfirm_minutes"),
    fileSizeLimitMb: int(row, "file_size_limit_mb"),
    createdAt: int(row, "created_at"),
  };
}

export function toSession(row: Raw): SessionRow {
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

export function toPermission(row: Raw): PermissionRow {
  const access = textOrNull(row, "access");
  return {
    sessionId: text(row, "session_id"),
    technicianId: text(row, "account_id"),
    state: permissionStateSchema.parse(row.state),
    access: access === null ? null : accessModeSchema.parse(access),
    requestId: textOrNull(row, "request_id"),
    updatedAt: int(row, "updated_at"),
  };
}

export function toAudit(row: Raw): AuditRow {
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

export const SESSION_COLUMNS =
  "id, channel_id, name, note, status, assignee_id, created_by, created_at, last_activity_at, expires_at, link_token, pin, resume_secret_hash, device, deleted_at";

export function sessionParams(row: SessionRow): SqlValue[] {
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
