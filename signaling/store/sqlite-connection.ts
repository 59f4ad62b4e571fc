import { mkdirSync } from "node:fs";
import { join } from "node:path";
import {
  DatabaseSync,
  type SQLInputValue,
  type StatementResultingChanges,
  type StatementSync,
} from "node:sqlite";
import { SosError } from "../../shared/errors.ts";
import { MIGRATIONS } from "./migrations.ts";
import type { Raw } from "./sql.ts";
import type { StoreHealth } from "./store.ts";

/**
 * How long a statement waits for another connection's write lock (a backup, a checkpoint, an
 * admin's sqlite3 shell) before it fails with STORE_UNAVAILABLE. node:sqlite is synchronous, so the
 * event loop waits with it: long enough for a checkpoint or a short write elsewhere, short enough
 * that a lock held for minutes costs each request at most this much.
 */
export const STORE_BUSY_TIMEOUT_MS = 1_000;
/** The embedded store's file in the data directory (backup and restore name it too). */
export const DATABASE_FILE = "gateway.db";
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
 * One SQLite connection behind the guard: every access maps "unavailable" to STORE_UNAVAILABLE.
 * Synchronous, as node:sqlite is; sqlite-store.ts makes it the store's asynchronous Sql.
 */
export type SyncSql = {
  all(sql: string, ...params: SQLInputValue[]): Raw[];
  get(sql: string, ...params: SQLInputValue[]): Raw | undefined;
  run(sql: string, ...params: SQLInputValue[]): StatementResultingChanges;
};

/** The connection's synchronous transaction control, health and close (sqlite-store.ts serializes them). */
export type Connection = {
  sql: SyncSql;
  begin(): void;
  commit(): void;
  /** Undoes an open transaction after a failure; SQLite may already have rolled it back itself. */
  rollback(): void;
  health(): StoreHealth;
  close(): void;
};

/**
 * Opens `gateway.db` in the data directory (WAL journal, `synchronous = FULL` so an acknowledged
 * write survives a power loss), migrates it, and returns the guarded statements with the
 * connection's transaction control, health and close.
 */
export function openConnection(dataDir: string): Connection {
  mkdirSync(dataDir, { recursive: true });
  const db = new DatabaseSync(join(dataDir, DATABASE_FILE), { timeout: STORE_BUSY_TIMEOUT_MS });
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
  const run = (sql: string, ...params: SQLInputValue[]): StatementResultingChanges => {
    const result = guard(() => prepared(sql).run(...params));
    wrote();
    return result;
  };
  return {
    sql: { all, get, run },
    begin() {
      guard(() => db.exec("BEGIN IMMEDIATE"));
    },
    commit() {
      guard(() => db.exec("COMMIT"));
      wrote();
    },
    rollback() {
      if (!db.isTransaction) return;
      try {
        db.exec("ROLLBACK");
      } catch {
        // The error that made us roll back is the one worth reporting; a connection that cannot even
        // roll back is marked failing by the next access.
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
