/**
 * What the store's queries (people-queries.ts, session-queries.ts) run on: one SQL dialect both
 * databases speak (`?` placeholders, `ON CONFLICT`, `RETURNING`), with the few differences named
 * here. sqlite-store.ts and postgres-store.ts each provide one.
 */

/** A row as the driver returns it; row-mappers.ts checks every column it reads. */
export type Raw = Record<string, unknown>;

/** What a query takes: text, numbers (times in epoch milliseconds, flags 0/1) and NULL. */
export type SqlValue = string | number | null;

export type Sql = {
  all(sql: string, ...params: SqlValue[]): Promise<Raw[]>;
  get(sql: string, ...params: SqlValue[]): Promise<Raw | undefined>;
  /** The first row mapped, or undefined. */
  one<T>(map: (row: Raw) => T, sql: string, ...params: SqlValue[]): Promise<T | undefined>;
  run(sql: string, ...params: SqlValue[]): Promise<void>;
  /** Appended to a SELECT that must hold its rows until the transaction ends ("" where it already does). */
  forUpdate: string;
  /** Whether the error is the live-PIN unique index (sessions_live_pin) refusing an insert. */
  pinTaken(error: unknown): boolean;
};
