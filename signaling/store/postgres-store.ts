import { AsyncLocalStorage } from "node:async_hooks";
import pg from "pg";
import { SosError } from "../../shared/errors.ts";
import { chatQueries } from "./chat-queries.ts";
import { continuationQueries } from "./continuation-queries.ts";
import type { DatabaseUrl } from "./database-url.ts";
import { peopleQueries } from "./people-queries.ts";
import { migratePostgres } from "./postgres-migrations.ts";
import { recordingQueries } from "./recording-queries.ts";
import { retentionQueries } from "./retention-queries.ts";
import { sessionPartsQueries } from "./session-parts-queries.ts";
import { sessionQueries } from "./session-queries.ts";
import type { Raw, Sql, SqlValue } from "./sql.ts";
import type { Store, StoreHealth, StoreQueries } from "./store.ts";
import { systemInfoQueries } from "./system-info-queries.ts";

/** Connections the pool keeps at most; each is one PostgreSQL backend process. */
export const POSTGRES_POOL_SIZE = 10;
/** How long a query waits for a connection (or to connect) before it fails as unavailable. */
const CONNECT_TIMEOUT_MS = 3_000;
/** How long one query may take before it fails as unavailable (a database that hangs). */
const QUERY_TIMEOUT_MS = 10_000;
/** A failing store is probed with a small write at most this often when health is asked. */
const PROBE_INTERVAL_MS = 1_000;

/** BIGINT (times, counts, audit ids) as numbers: every value the store keeps fits in 2^53. */
const INT8_OID = 20;
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === INT8_OID && format !== "binary"
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig["getTypeParser"],
};

/**
 * SQLSTATE classes that mean "the database cannot serve now": connection exceptions (08),
 * transaction rollback (40: serialization failure, deadlock), insufficient resources (53), operator
 * intervention (57: shutdown, cancelled), system errors (58).
 */
const UNAVAILABLE_CLASSES = new Set(["08", "40", "53", "57", "58"]);
/** Errors of Node's sockets and of the pg client that mean the same. */
const UNAVAILABLE_NODE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);
const UNAVAILABLE_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|not queryable|Cannot use a pool after calling end/;

function isUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = "code" in error && typeof error.code === "string" ? error.code : undefined;
  if (code !== undefined) {
    if (UNAVAILABLE_NODE_CODES.has(code)) return true;
    // A SQLSTATE: its class decides (constraint violations and syntax errors are bugs).
    if (/^[0-9A-Z]{5}$/.test(code)) return UNAVAILABLE_CLASSES.has(code.slice(0, 2));
  }
  return UNAVAILABLE_MESSAGES.test(error.message);
}

/** `?` placeholders (the queries' dialect) as PostgreSQL's `$1, $2, …`. */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => {
    n += 1;
    return `$${n}`;
  });
}

/** The transaction whose work is running in this async context. */
type Open = { client: pg.PoolClient; done: boolean };

/**
 * The PostgreSQL store: a pool of connections (`pg`), the schema migrated at start under an
 * advisory lock (postgres-migrations.ts), the same queries as the SQLite store (people-queries.ts,
 * session-queries.ts). A transaction holds one connection of the pool; every store call made
 * inside its work (found by AsyncLocalStorage) runs on that connection, any other call on another.
 *
 * A database that cannot be reached, or a connection lost, fails the call with STORE_UNAVAILABLE
 * and shows in health; the pool connects again once the database is back. Nothing here throws
 * outside a call: errors of idle connections are recorded, never left unhandled.
 */
export async function openPostgresStore(url: DatabaseUrl): Promise<Store> {
  const pool = new pg.Pool({
    connectionString: url.reveal(),
    max: POSTGRES_POOL_SIZE,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    query_timeout: QUERY_TIMEOUT_MS,
    idleTimeoutMillis: 30_000,
    types,
  });
  const current = new AsyncLocalStorage<Open>();
  let failing: { since: number; error: string } | undefined;
  let lastProbe = 0;
  const failed = (error: unknown): void => {
    failing ??= { since: Date.now(), error: error instanceof Error ? error.message : String(error) };
  };
  // An idle connection that dies (the server restarted) is dropped by the pool; without this
  // listener its error would take the process down.
  pool.on("error", (error) => failed(error));

  /** Runs one access; a failure that means "unavailable" is recorded and rethrown as such. */
  const guard = async <T>(access: () => Promise<T>): Promise<T> => {
    try {
      const result = await access();
      if (current.getStore() === undefined) failing = undefined;
      return result;
    } catch (error) {
      if (!isUnavailable(error)) throw error;
      failed(error);
      throw new SosError("STORE_UNAVAILABLE", "The gateway's database is unavailable; try again shortly.", {
        cause: error,
      });
    }
  };

  const statements = new Map<string, string>();
  const query = (sql: string, params: SqlValue[]): Promise<Raw[]> => {
    let text = statements.get(sql);
    if (text === undefined) {
      text = numbered(sql);
      statements.set(sql, text);
    }
    const open = current.getStore();
    const runner = open !== undefined && !open.done ? open.client : pool;
    const statement = text;
    return guard(async () => (await runner.query<Raw>(statement, params)).rows);
  };
  const get: Sql["get"] = async (sql, ...params) => (await query(sql, params))[0];
  const sql: Sql = {
    all: (text, ...params) => query(text, params),
    get,
    async one(map, text, ...params) {
      const row = await get(text, ...params);
      return row === undefined ? undefined : map(row);
    },
    async run(text, ...params) {
      await query(text, params);
    },
    forUpdate: " FOR UPDATE",
    pinTaken: (error) =>
      error instanceof Error &&
      "code" in error &&
      error.code === "23505" &&
      "constraint" in error &&
      error.constraint === "sessions_live_pin",
  };
  const queries: StoreQueries = {
    ...peopleQueries(sql),
    ...sessionQueries(sql),
    ...chatQueries(sql),
    ...systemInfoQueries(sql),
    ...recordingQueries(sql),
    ...continuationQueries(sql),
    ...sessionPartsQueries(sql),
    ...retentionQueries(sql),
  };

  // At start a database that cannot be reached or migrated stops the gateway, naming it.
  const refused = async (error: unknown): Promise<never> => {
    await pool.end();
    const reason =
      error instanceof Error ? (error.cause instanceof Error ? error.cause : error).message : error;
    throw new Error(`PostgreSQL at ${String(url)}: ${String(reason)}`, { cause: error });
  };
  const migrator = await guard(() => pool.connect()).catch(refused);
  try {
    await migratePostgres(migrator);
  } catch (error) {
    migrator.release(true);
    await refused(error);
  }
  migrator.release();

  let closed: Promise<void> | undefined;
  return {
    ...queries,
    async transaction(work) {
      const outer = current.getStore();
      if (outer !== undefined && !outer.done) return work(queries);
      const client = await guard(() => pool.connect());
      // A connection lost while checked out (between two statements) reports here, not unhandled.
      let lost: unknown;
      const onError = (error: unknown) => {
        lost = error;
        failed(error);
      };
      client.on("error", onError);
      const open: Open = { client, done: false };
      try {
        await guard(() => client.query("BEGIN"));
        const result = await current.run(open, () => work(queries));
        await guard(() => client.query("COMMIT"));
        failing = undefined;
        return result;
      } catch (error) {
        await client.query("ROLLBACK").catch((rollbackError: unknown) => {
          lost ??= rollbackError;
        });
        throw error;
      } finally {
        open.done = true;
        client.off("error", onError);
        // A connection that failed is closed rather than handed to the next caller.
        client.release(lost === undefined ? undefined : lost instanceof Error ? lost : true);
      }
    },
    async health(): Promise<StoreHealth> {
      if (failing !== undefined && Date.now() - lastProbe >= PROBE_INTERVAL_MS) {
        lastProbe = Date.now();
        await queries
          .setSetting("health_probe", String(Date.now()))
          .then(() => {
            failing = undefined;
          })
          .catch(() => {
            // Still failing; `failing` keeps the first error and when it began.
          });
      }
      return failing === undefined ? { ok: true } : { ok: false, ...failing };
    },
    close() {
      closed ??= pool.end();
      return closed;
    },
  };
}
