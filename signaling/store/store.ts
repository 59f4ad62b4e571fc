import type { SystemInfo } from "../../shared/system-info.ts";
import type {
  AuditFilter,
  AuditRow,
  AuthSessionRow,
  ChannelRow,
  ChatLineRow,
  ContinuationRow,
  NewAudit,
  NewChatLine,
  PermissionRow,
  RecordingRow,
  SessionParts,
  SessionRow,
  SystemInfoRow,
  TechnicianRow,
} from "./rows.ts";

/** Whether the store serves writes; while it does not, since when and the first error. */
export type StoreHealth = { ok: true } | { ok: false; since: number; error: string };

/**
 * insertSession's refusal when another live session holds the PIN (two creates picked the same
 * one at once): the caller picks another. The database's unique index decides, not a read before.
 */
export class PinTaken extends Error {
  constructor() {
    super("store: the PIN is held by another live session");
    this.name = "PinTaken";
  }
}

/**
 * Everything the gateway keeps, as asynchronous queries. The embedded SQLite store
 * (sqlite-store.ts) and the PostgreSQL store (postgres-store.ts) implement it.
 *
 * Every method rejects with SosError STORE_UNAVAILABLE when the database cannot serve (SQLite
 * locked past the busy timeout, read-only, full, failing disk; PostgreSQL unreachable, connection
 * lost, shutting down); other errors are bugs.
 */
export type Store = StoreQueries & {
  /**
   * Runs `work` atomically: committed when it resolves, rolled back when it rejects. Every store
   * call made while `work` runs (through `tx` or through the store itself, at any depth of the
   * async call chain) belongs to the transaction; a nested `transaction` joins it. Calls from
   * elsewhere never see it half-done: SQLite runs them after it (one connection), PostgreSQL on
   * another connection. `work` should only wait on the store: the transaction is held meanwhile.
   */
  transaction<T>(work: (tx: StoreQueries) => Promise<T>): Promise<T>;
  /** Whether writes succeed now (a failing store is probed again with a small write). */
  health(): Promise<StoreHealth>;
  /** Closes the connection(s); safe to call twice. */
  close(): Promise<void>;
};

export type StoreQueries = {
  getSetting(key: string): Promise<string | undefined>;
  setSetting(key: string, value: string): Promise<void>;
  deleteSetting(key: string): Promise<void>;

  countAdmins(): Promise<number>;
  insertTechnician(row: TechnicianRow): Promise<void>;
  updateTechnician(row: TechnicianRow): Promise<void>;
  getTechnician(id: string): Promise<TechnicianRow | undefined>;
  /** The account, held until the transaction ends (call inside one). */
  lockTechnician(id: string): Promise<TechnicianRow | undefined>;
  getTechnicianByEmail(email: string): Promise<TechnicianRow | undefined>;
  listTechnicians(): Promise<TechnicianRow[]>;

  insertAuthSession(row: AuthSessionRow): Promise<void>;
  getAuthSession(tokenHash: string): Promise<AuthSessionRow | undefined>;
  deleteAuthSession(tokenHash: string): Promise<void>;
  deleteAuthSessionsOf(technicianId: string): Promise<void>;

  insertChannel(row: ChannelRow): Promise<void>;
  updateChannel(row: ChannelRow): Promise<void>;
  getChannel(id: string): Promise<ChannelRow | undefined>;
  getPrivateChannel(ownerId: string): Promise<ChannelRow | undefined>;
  listTeamChannels(): Promise<ChannelRow[]>;
  getChannelAccess(channelId: string): Promise<string[]>;
  setChannelAccess(channelId: string, accountIds: readonly string[]): Promise<void>;
  hasChannelAccess(channelId: string, technicianId: string): Promise<boolean>;

  /** Rejects with PinTaken when another live session holds `row.pin`. */
  insertSession(row: SessionRow): Promise<void>;
  updateSession(row: SessionRow): Promise<void>;
  /** Not deleted. */
  getSession(id: string): Promise<SessionRow | undefined>;
  /**
   * getSession inside a transaction, holding the row until it ends, so two actions on one session
   * (on this gateway or another one on the same database) apply one after the other.
   */
  lockSession(id: string): Promise<SessionRow | undefined>;
  getSessionByPin(pin: string): Promise<SessionRow | undefined>;
  getSessionByLinkToken(token: string): Promise<SessionRow | undefined>;
  listSessions(): Promise<SessionRow[]>;
  listSessionsInChannel(channelId: string): Promise<SessionRow[]>;
  listSessionsOf(technicianId: string): Promise<SessionRow[]>;
  listSessionsDueToExpire(now: number): Promise<SessionRow[]>;
  listSessionsWithStatus(status: SessionRow["status"]): Promise<SessionRow[]>;
  pinInUse(pin: string): Promise<boolean>;

  getInvites(sessionId: string): Promise<string[]>;
  /** Invites, permissions, clocks and people's names of many sessions at once (their views). */
  getSessionParts(sessions: readonly SessionRow[]): Promise<SessionParts>;
  addInvite(sessionId: string, technicianId: string, at: number): Promise<void>;
  removeInvite(sessionId: string, technicianId: string): Promise<void>;

  getPermissions(sessionId: string): Promise<PermissionRow[]>;
  getPermission(sessionId: string, technicianId: string): Promise<PermissionRow | undefined>;
  putPermission(row: PermissionRow): Promise<void>;
  /** Every session on which the account has a permission row. */
  listPermissionsOf(technicianId: string): Promise<PermissionRow[]>;

  appendAudit(entry: NewAudit): Promise<AuditRow>;
  listAudit(filter: AuditFilter): Promise<AuditRow[]>;

  appendChatLine(line: NewChatLine): Promise<ChatLineRow>;
  /** A session's chat, oldest first. */
  listChatLines(sessionId: string): Promise<ChatLineRow[]>;
  countChatLines(sessionId: string): Promise<number>;

  /** A new request replaces the session's last one (its answer stays until the new one comes). */
  putSystemInfoRequest(sessionId: string, requestId: string, technicianId: string, at: number): Promise<void>;
  putSystemInfo(sessionId: string, info: SystemInfo, at: number): Promise<void>;
  getSystemInfo(sessionId: string): Promise<SystemInfoRow | undefined>;

  insertRecording(row: RecordingRow): Promise<void>;
  getRecording(id: string): Promise<RecordingRow | undefined>;
  /** A session's recordings, newest first. */
  listRecordings(sessionId: string): Promise<RecordingRow[]>;
  /** The agent confirmed the notice; false when it was confirmed before, ended, or is unknown. */
  confirmRecording(id: string, at: number): Promise<boolean>;
  /** Its file grew from `fromBytes` to `toBytes`; false (nothing changed) when it is not `fromBytes` long or ended. */
  recordingGrew(id: string, fromBytes: number, toBytes: number, at: number): Promise<boolean>;
  /** Ended now; false when it had ended before or is unknown. */
  endRecording(id: string, at: number, durationMs: number | null): Promise<boolean>;
  /** Recordings past their session's channel's retention at `now`. */
  listRecordingsDue(now: number): Promise<RecordingRow[]>;
  /** Recordings not yet ended in the channel's sessions. */
  listRunningRecordingsOfChannel(channelId: string): Promise<RecordingRow[]>;
  /** False when another run (or instance) deleted it first. */
  deleteRecording(id: string): Promise<boolean>;
  putContinuation(row: ContinuationRow): Promise<void>;
  getContinuation(sessionId: string): Promise<ContinuationRow | undefined>;
  /**
   * Sessions whose clock has run out at `now`: a question is due (counting past the channel's
   * interval, the interval not 0) or an open question is past its deadline. Live sessions only.
   */
  listContinuationsDue(now: number): Promise<ContinuationRow[]>;

  /**
   * Deletes at most `limit` sessions that ended at or before `endedBefore` (Closed, Expired, or
   * deleted) and have no recording, with their invites, permissions, chat, system information and
   * re-confirmation clock; resolves to the sessions this call deleted, as they were. Call inside a
   * transaction: the sessions are held from the choice to the delete, so another instance doing
   * the same at once deletes none of them again.
   */
  deleteEndedSessions(endedBefore: number, limit: number): Promise<SessionRow[]>;
  /**
   * Deletes, among the `limit` oldest audit entries, those written at or before `before`; resolves
   * to how many. Fewer than `limit` means no older entries follow (but one written late).
   */
  deleteAuditBefore(before: number, limit: number): Promise<number>;
};
