import type { ContinuationState } from "../../shared/continuation.ts";
import type { ChatLineKind, DeviceInfo, Role } from "../../shared/model.ts";
import type { RecordingMode } from "../../shared/recording.ts";
import type { AccessMode, PermissionState, SessionStatus } from "../../shared/status.ts";
import type { SystemInfo } from "../../shared/system-info.ts";

/** What the store keeps, in the domain's terms (times in epoch milliseconds). */

export type TechnicianRow = {
  id: string;
  email: string;
  name: string;
  role: Role;
  passwordHash: string;
  attendedAccess: boolean;
  shareSessions: boolean;
  viewRecordings: boolean;
  disabled: boolean;
  createdAt: number;
};

export type AuthSessionRow = {
  tokenHash: string;
  technicianId: string;
  csrfToken: string;
  createdAt: number;
  expiresAt: number;
};

export type ChannelRow = {
  id: string;
  kind: "private" | "team";
  name: string;
  ownerId: string | null;
  sessionExpiryMinutes: number;
  recordingMode: RecordingMode;
  recordingRetentionDays: number;
  /** The end user is asked again after this many minutes (0: never); see shared/continuation.ts. */
  reconfirmMinutes: number;
  /** The largest file a transfer in the channel's sessions may carry, in MiB. */
  fileSizeLimitMb: number;
  createdAt: number;
};

export type SessionRow = {
  id: string;
  channelId: string;
  name: string;
  note: string;
  status: SessionStatus;
  assigneeId: string | null;
  createdBy: string;
  createdAt: number;
  lastActivityAt: number;
  expiresAt: number;
  linkToken: string;
  /** Null once the session is Closed, Expired or deleted: a dead PIN is free for reuse. */
  pin: string | null;
  resumeSecretHash: string | null;
  device: DeviceInfo | null;
  deletedAt: number | null;
};

export type PermissionRow = {
  sessionId: string;
  technicianId: string;
  state: PermissionState;
  access: AccessMode | null;
  requestId: string | null;
  updatedAt: number;
};

export type AuditRow = {
  id: number;
  at: number;
  actorKind: "technician" | "agent" | "system";
  actorId: string | null;
  actorName: string | null;
  action: string;
  sessionId: string | null;
  detail: Record<string, unknown>;
};

export type NewAudit = Omit<AuditRow, "id">;

export type AuditFilter = {
  sessionId?: string | undefined;
  actorId?: string | undefined;
  action?: string | undefined;
  before?: number | undefined;
  limit: number;
};

/** One line of a session's chat (see chatLineSchema): `technicianName` as it was when said. */
export type ChatLineRow = {
  id: number;
  sessionId: string;
  at: number;
  kind: ChatLineKind;
  technicianId: string | null;
  technicianName: string | null;
  text: string;
};

export type NewChatLine = Omit<ChatLineRow, "id">;

/** The last request for the end user's computer's facts on a session, and its answer once received. */
export type SystemInfoRow = {
  sessionId: string;
  requestId: string;
  requestedBy: string;
  requestedAt: number;
  /** As the agent sent it (checked against systemInfoSchema before it is stored). */
  info: SystemInfo | null;
  receivedAt: number | null;
};

/** A session recording (recordingSchema); its file is the recording store's (recording-files.ts). */
export type RecordingRow = {
  id: string;
  sessionId: string;
  technicianId: string;
  /** As it was when the recording started. */
  technicianName: string;
  startedAt: number;
  confirmedAt: number | null;
  endedAt: number | null;
  lastChunkAt: number | null;
  bytes: number;
  durationMs: number | null;
};

/** A session's re-confirmation clock (shared/continuation.ts), kept by the gateway. */
export type ContinuationRow = {
  sessionId: string;
  state: ContinuationState;
  /** When the clock started: the agent joined, or the end user last answered. */
  since: number;
  /** The open question's id (asked), else null. */
  requestId: string | null;
  /** While asked: when the session ends without an answer. */
  deadline: number | null;
};

/** What a session's view adds to its row, for many sessions at once (domain/views.ts). */
export type SessionParts = {
  /** Invited technicians' ids per session, in the order they were invited. */
  invites: Map<string, string[]>;
  permissions: Map<string, PermissionRow[]>;
  continuations: Map<string, ContinuationRow>;
  /** The names of every technician the sessions name (assignee, creator, invited). */
  names: Map<string, string>;
};
