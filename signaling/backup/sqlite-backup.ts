import {
  chownSync,
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, resolve } from "node:path";
import { backup, DatabaseSync } from "node:sqlite";
import { MIGRATIONS } from "../store/migrations.ts";
import { DATABASE_FILE } from "../store/sqlite-connection.ts";
import { missingOfSchema } from "./schema-check.ts";

/**
 * Backup and restore of the embedded store (`gateway.db`), with SQLite's online backup API: the
 * copy is one consistent snapshot even while the gateway writes (WAL: the backup's read does not
 * block the gateway, and the gateway does not disturb the read).
 */

/** What a checked database holds. */
export type DatabaseSummary = {
  schemaVersion: number;
  sessions: number;
  /** Sessions whose PIN is live (Waiting, Active, Queued). */
  livePins: number;
  auditRows: number;
  bytes: number;
};

/**
 * Why a backup or restore did not happen: `refused` when the input is not acceptable (a target
 * that exists, a file that is no sound gateway database, a database in use), `failed` when the
 * work itself could not be done (nothing to back up, a disk that refuses).
 */
export class BackupError extends Error {
  readonly kind: "refused" | "failed";

  constructor(kind: "refused" | "failed", message: string, options?: { cause: unknown }) {
    super(message, options);
    this.kind = kind;
  }
}

/** Pages per backup step: all of them, so the copy is one read transaction that never restarts. */
const ALL_PAGES = 2_147_483_647;
/** How long the backup's read waits for a lock the gateway holds (a checkpoint) before it fails. */
const BUSY_TIMEOUT_MS = 10_000;

/**
 * Copies the gateway's database in `dataDir` to `file` while the gateway may be running. The copy
 * is written beside `file`, checked (integrity, schema) and renamed into place, readable by its
 * owner only (it holds password hashes and live PINs).
 */
export async function backupDatabase(
  dataDir: string,
  file: string,
  options: { force: boolean },
): Promise<DatabaseSummary> {
  const source = join(dataDir, DATABASE_FILE);
  if (!existsSync(source)) throw new BackupError("failed", `no gateway database at ${source}`);
  const target = resolve(file);
  if (existsSync(target) && !options.force) {
    throw new BackupError("refused", `${target} exists; give --force to replace it`);
  }
  mkdirSync(dirname(target), { recursive: true });
  const partial = `${target}.partial-${process.pid}`;
  try {
    await copyDatabase(source, partial);
    const summary = checkDatabase(partial, { journal: "DELETE", label: `the copy of ${source}` });
    settle(partial, target);
    return summary;
  } catch (error) {
    rmSync(partial, { force: true });
    if (error instanceof BackupError) throw error;
    throw new BackupError("failed", `backup failed: ${reason(error)}`, { cause: error });
  }
}

/**
 * Restores a backup into `dataDir`: checks the backup first; refuses to replace an existing
 * database unless `force`, and refuses always while another process (a running gateway) has it
 * open. A replaced database is kept beside it as `gateway.db.replaced-<time>`.
 */
export async function restoreDatabase(
  file: string,
  dataDir: string,
  options: { force: boolean },
): Promise<DatabaseSummary & { replaced: string | undefined }> {
  const source = resolve(file);
  if (!existsSync(source)) throw new BackupError("failed", `no backup at ${source}`);
  checkDatabase(source, { readOnly: true });
  mkdirSync(dataDir, { recursive: true });
  const target = join(dataDir, DATABASE_FILE);
  const exists = existsSync(target) || existsSync(`${target}-wal`);
  if (exists) {
    if (!options.force) {
      throw new BackupError("refused", `a database exists at ${target}; give --force to replace it`);
    }
    assertNotInUse(target);
  }
  const partial = `${target}.restoring-${process.pid}`;
  try {
    await copyDatabase(source, partial);
    const summary = checkDatabase(partial, { journal: "DELETE", label: `the copy of ${source}` });
    ownLikeDataDir(partial, dataDir);
    const replaced = exists ? setAside(target) : undefined;
    settle(partial, target);
    return { ...summary, replaced };
  } catch (error) {
    rmSync(partial, { force: true });
    if (error instanceof BackupError) throw error;
    throw new BackupError("failed", `restore failed: ${reason(error)}`, { cause: error });
  }
}

/** SQLite's online backup of `source` into a new file `target` (owner-only), in one step. */
async function copyDatabase(source: string, target: string): Promise<void> {
  writeFileSync(target, "", { mode: 0o600 });
  const db = new DatabaseSync(source, { readOnly: true, timeout: BUSY_TIMEOUT_MS });
  try {
    await backup(db, target, { rate: ALL_PAGES });
  } finally {
    db.close();
  }
}

/**
 * Checks that `path` is a sound gateway database: SQLite's integrity check, a schema version this
 * gateway knows (an older one is migrated at start), every table and column of that version. Optionally sets its journal mode
 * (a backup is one self-contained file).
 */
function checkDatabase(
  path: string,
  options: { readOnly?: boolean; journal?: "DELETE"; label?: string },
): DatabaseSummary {
  const label = options.label ?? path;
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path, { readOnly: options.readOnly === true });
  } catch (error) {
    throw new BackupError("refused", `${label} cannot be opened as a database: ${reason(error)}`, {
      cause: error,
    });
  }
  try {
    return summarize(db, path, label, options);
  } catch (error) {
    if (error instanceof BackupError) throw error;
    throw new BackupError("refused", `${label} cannot be read as a gateway database: ${reason(error)}`, {
      cause: error,
    });
  } finally {
    db.close();
  }
}

/** The checks and the counts of an open database (see checkDatabase). */
function summarize(
  db: DatabaseSync,
  path: string,
  label: string,
  options: { journal?: "DELETE" },
): DatabaseSummary {
  const number = (sql: string): number => Number(Object.values(db.prepare(sql).get() ?? {})[0] ?? 0);
  let schemaVersion: number;
  try {
    schemaVersion = number("PRAGMA user_version");
  } catch (error) {
    throw new BackupError("refused", `${label} is not an SQLite database: ${reason(error)}`, {
      cause: error,
    });
  }
  const problems = db
    .prepare("PRAGMA integrity_check")
    .all()
    .map((row) => String(Object.values(row)[0]))
    .filter((line) => line !== "ok");
  if (problems.length > 0) {
    throw new BackupError(
      "refused",
      `${label} fails SQLite's integrity check: ${problems.slice(0, 3).join("; ")}`,
    );
  }
  if (schemaVersion === 0) {
    throw new BackupError("refused", `${label} is not a gateway database (missing its schema version)`);
  }
  if (schemaVersion > MIGRATIONS.length) {
    throw new BackupError(
      "refused",
      `${label} has schema version ${schemaVersion}, newer than this gateway's ${MIGRATIONS.length}: restore it with the gateway version that made it`,
    );
  }
  // Every table and column its version's migrations make (the gateway migrates only later ones).
  const missing = missingOfSchema(db, schemaVersion);
  if (missing.length > 0) {
    const shown = missing.length > 6 ? [...missing.slice(0, 5), `and ${missing.length - 5} more`] : missing;
    throw new BackupError(
      "refused",
      `${label} is not a gateway database of schema version ${schemaVersion} (missing ${shown.join(", ")})`,
    );
  }
  if (options.journal !== undefined) db.exec(`PRAGMA journal_mode = ${options.journal}`);
  return {
    schemaVersion,
    sessions: number("SELECT count(*) FROM sessions"),
    livePins: number("SELECT count(*) FROM sessions WHERE pin IS NOT NULL"),
    auditRows: number("SELECT count(*) FROM audit_log"),
    bytes: statSync(path).size,
  };
}

/**
 * Refuses a database another process has open: leaving WAL needs every other connection gone, so
 * a running gateway makes the switch fail with BUSY. The database is left in rollback mode, which
 * the gateway undoes when it opens it.
 */
function assertNotInUse(target: string): void {
  const db = new DatabaseSync(target, { timeout: 0 });
  try {
    db.exec("PRAGMA journal_mode = DELETE");
  } catch (error) {
    const code = error instanceof Error && "errcode" in error ? Number(error.errcode) & 0xff : 0;
    // BUSY or LOCKED: another connection has it open. Anything else (a damaged file) may be replaced.
    if (code === 5 || code === 6) {
      throw new BackupError(
        "refused",
        `${target} is in use (is a gateway running on this data directory? stop it first)`,
        { cause: error },
      );
    }
  } finally {
    db.close();
  }
}

/** Moves an existing database (and any WAL files) aside, as `gateway.db.replaced-<time>`. */
function setAside(target: string): string {
  const aside = `${target}.replaced-${new Date().toISOString().replaceAll(":", "-")}`;
  for (const suffix of ["", "-wal", "-shm"]) {
    if (existsSync(`${target}${suffix}`)) renameSync(`${target}${suffix}`, `${aside}${suffix}`);
  }
  return aside;
}

/**
 * Run as root (`sudo sos-gateway restore ...`), the restored file gets the data directory's owner,
 * so the gateway's own user can open it; otherwise it is the caller's, like every file they write.
 */
function ownLikeDataDir(file: string, dataDir: string): void {
  if (process.getuid?.() !== 0) return;
  const owner = statSync(dataDir);
  chownSync(file, owner.uid, owner.gid);
}

/** Makes a finished file durable and gives it its name in one rename. */
function settle(partial: string, target: string): void {
  const fd = openSync(partial, "r+");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(partial, target);
  const dir = openSync(dirname(target), "r");
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
