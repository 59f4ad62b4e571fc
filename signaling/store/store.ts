import type {
  AuditFilter,
  AuditRow,
  AuthSessionRow,
  ChannelRow,
  NewAudit,
  PermissionRow,
  SessionRow,
  TechnicianRow,
} from "./rows.ts";

/**
 * Everything the gateway keeps. The embedded SQLite store implements it; a server database can
 * replace it later. Methods are synchronous because node:sqlite is; a networked store would wrap
 * the domain in a transaction layer of its own.
 */
/** Whether the store serves writes; while it does not, since when and the first error. */
export type StoreHealth = { ok: true } | { ok: false; since: number; error: string };

/**
 * Every method throws SosError STORE_UNAVAILABLE when the database cannot serve (locked past the
 * busy timeout, read-only, full, failing disk); other errors are bugs.
 */
export type Store = {
  /** Runs `work` atomically; nested calls join the outer transaction. */
  transaction<T>(work: () => T): T;
  /** Whether writes succeed now (a failing store is probed again with a small write). */
  health(): StoreHealth;
  close(): void;

  getSetting(key: string): string | undefined;
  setSetting(key: string, value: string): void;
  deleteSetting(key: string): void;

  countAdmins(): number;
  insertTechnician(row: TechnicianRow): void;
  updateTechnician(row: TechnicianRow): void;
  getTechnician(id: string): TechnicianRow | undefined;
  getTechnicianByEmail(email: string): TechnicianRow | undefined;
  listTechnicians(): TechnicianRow[];

  insertAuthSession(row: AuthSessionRow): void;
  getAuthSession(tokenHash: string): AuthSessionRow | undefined;
  deleteAuthSession(tokenHash: string): void;
  deleteAuthSessionsOf(technicianId: string): void;

  insertChannel(row: ChannelRow): void;
  updateChannel(row: ChannelRow): void;
  getChannel(id: string): ChannelRow | undefined;
  getPrivateChannel(ownerId: string): ChannelRow | undefined;
  listTeamChannels(): ChannelRow[];
  getChannelAccess(channelId: string): string[];
  setChannelAccess(channelId: string, accountIds: readonly string[]): void;
  hasChannelAccess(channelId: string, technicianId: string): boolean;

  insertSession(row: SessionRow): void;
  updateSession(row: SessionRow): void;
  /** Not deleted. */
  getSession(id: string): SessionRow | undefined;
  getSessionByPin(pin: string): SessionRow | undefined;
  getSessionByLinkToken(token: string): SessionRow | undefined;
  listSessions(): SessionRow[];
  listSessionsInChannel(channelId: string): SessionRow[];
  listSessionsOf(technicianId: string): SessionRow[];
  listSessionsDueToExpire(now: number): SessionRow[];
  listSessionsWithStatus(status: SessionRow["status"]): SessionRow[];
  pinInUse(pin: string): boolean;

  getInvites(sessionId: string): string[];
  addInvite(sessionId: string, technicianId: string, at: number): void;
  removeInvite(sessionId: string, technicianId: string): void;

  getPermissions(sessionId: string): PermissionRow[];
  getPermission(sessionId: string, technicianId: string): PermissionRow | undefined;
  putPermission(row: PermissionRow): void;
  /** Every session on which the account has a permission row. */
  listPermissionsOf(technicianId: string): PermissionRow[];

  appendAudit(entry: NewAudit): AuditRow;
  listAudit(filter: AuditFilter): AuditRow[];
};
