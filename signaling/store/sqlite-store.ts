import { openConnection } from "./sqlite-connection.ts";
import { peopleQueries } from "./sqlite-people.ts";
import { sessionQueries } from "./sqlite-sessions.ts";
import type { Store } from "./store.ts";

export { STORE_BUSY_TIMEOUT_MS } from "./sqlite-connection.ts";

/**
 * The embedded store: one SQLite file `gateway.db` in the data directory. The connection and its
 * guard (STORE_UNAVAILABLE, transactions, health) are in sqlite-connection.ts, the row mappers in
 * sqlite-rows.ts, the queries per area in sqlite-people.ts and sqlite-sessions.ts.
 */
export function openSqliteStore(dataDir: string): Store {
  const { sql, transaction, health, close } = openConnection(dataDir);
  return { transaction, health, close, ...peopleQueries(sql), ...sessionQueries(sql) };
}
