import { AsyncLocalStorage } from "node:async_hooks";
import { chatQueries } from "./chat-queries.ts";
import { continuationQueries } from "./continuation-queries.ts";
import { peopleQueries } from "./people-queries.ts";
import { recordingQueries } from "./recording-queries.ts";
import { retentionQueries } from "./retention-queries.ts";
import { sessionPartsQueries } from "./session-parts-queries.ts";
import { sessionQueries } from "./session-queries.ts";
import type { Sql } from "./sql.ts";
import { type Connection, openConnection, type SyncSql } from "./sqlite-connection.ts";
import type { Store, StoreQueries } from "./store.ts";
import { systemInfoQueries } from "./system-info-queries.ts";

export { STORE_BUSY_TIMEOUT_MS } from "./sqlite-connection.ts";

/**
 * The embedded store: one SQLite file `gateway.db` in the data directory. The connection and its
 * guard (STORE_UNAVAILABLE, health) are in sqlite-connection.ts; the queries, shared with the
 * PostgreSQL store, in people-queries.ts and session-queries.ts.
 *
 * node:sqlite is synchronous and has one connection, so a transaction whose work awaits must not
 * let anything else onto the connection meanwhile (it would become part of the transaction, or
 * see it half-done). Every access therefore passes one gate: a call made inside a transaction's
 * work (found by AsyncLocalStorage, at any depth) runs in it at once; any other call, and any
 * other transaction, waits until the open one has committed or rolled back, in arrival order.
 */
export function openSqliteStore(dataDir: string): Store {
  const connection = openConnection(dataDir);
  const gate = new Gate();
  const sql = gatedSql(connection.sql, gate);
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
  let closed = false;
  return {
    ...queries,
    transaction: (work) => gate.transaction(connection, queries, work),
    health: () => gate.access(() => connection.health()),
    async close() {
      if (closed) return;
      closed = true;
      // Open transactions finish first: their work may still be awaiting the store.
      await gate.access(() => connection.close());
    },
  };
}

/** The connection's statements as the queries' Sql, each through the gate. */
function gatedSql(sync: SyncSql, gate: Gate): Sql {
  const get: Sql["get"] = (sql, ...params) => gate.access(() => sync.get(sql, ...params));
  return {
    all: (sql, ...params) => gate.access(() => sync.all(sql, ...params)),
    get,
    async one(map, sql, ...params) {
      const row = await get(sql, ...params);
      return row === undefined ? undefined : map(row);
    },
    async run(sql, ...params) {
      await gate.access(() => sync.run(sql, ...params));
    },
    // One connection, and every transaction holds SQLite's write lock (BEGIN IMMEDIATE): the rows
    // are held already (and SQLite has no FOR UPDATE).
    forUpdate: "",
    // SQLITE_CONSTRAINT_UNIQUE names the columns, not the index: sessions_live_pin is on sessions.pin.
    pinTaken: (error) =>
      error instanceof Error && /UNIQUE constraint failed: sessions\.pin\b/.test(error.message),
  };
}

/** The transaction whose work is running in this async context. */
type Open = { done: boolean };

class Gate {
  readonly #current = new AsyncLocalStorage<Open>();
  #held = false;
  readonly #waiting: (() => void)[] = [];

  /** Runs one access now when the connection is free or this is the open transaction's own. */
  access<T>(run: () => T): Promise<T> {
    if (this.#inTransaction() || !this.#held) {
      try {
        return Promise.resolve(run());
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return this.#exclusive(async () => run());
  }

  async transaction<T>(
    connection: Connection,
    queries: StoreQueries,
    work: (tx: StoreQueries) => Promise<T>,
  ): Promise<T> {
    // Nested: joins the transaction already open in this context.
    if (this.#inTransaction()) return work(queries);
    return this.#exclusive(async () => {
      connection.begin();
      const open: Open = { done: false };
      try {
        const result = await this.#current.run(open, () => work(queries));
        connection.commit();
        return result;
      } catch (error) {
        connection.rollback();
        throw error;
      } finally {
        // Work the transaction started but did not await (a timer, a retried job) is on its own
        // from here: it goes through the gate like any other caller.
        open.done = true;
      }
    });
  }

  #inTransaction(): boolean {
    const open = this.#current.getStore();
    return open !== undefined && !open.done;
  }

  async #exclusive<T>(run: () => Promise<T>): Promise<T> {
    if (this.#held) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#held = true;
    try {
      return await run();
    } finally {
      // Handed to the next in line (still held), or freed.
      const next = this.#waiting.shift();
      if (next === undefined) this.#held = false;
      else next();
    }
  }
}
