import { DatabaseSync } from "node:sqlite";
import { MIGRATIONS } from "../store/migrations.ts";

/** A database's tables, each with its columns. */
type Tables = Map<string, Set<string>>;

/** Expected tables by schema version, built once each. */
const expected = new Map<number, Tables>();

/** The tables and columns of `db` (SQLite's own tables left out). */
function tablesOf(db: DatabaseSync): Tables {
  const tables: Tables = new Map();
  const rows = db
    .prepare(
      "SELECT m.name AS tbl, p.name AS col FROM sqlite_schema m JOIN pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
    )
    .all();
  for (const row of rows) {
    const table = String(row.tbl);
    const columns = tables.get(table) ?? new Set<string>();
    columns.add(String(row.col));
    tables.set(table, columns);
  }
  return tables;
}

/**
 * The tables and columns a gateway database of schema `version` has: what the gateway's own
 * migrations 1 to `version` make, applied to an empty database in memory (so the check never
 * lags behind a migration added later).
 */
function schemaOf(version: number): Tables {
  let tables = expected.get(version);
  if (tables === undefined) {
    const db = new DatabaseSync(":memory:");
    try {
      for (const sql of MIGRATIONS.slice(0, version)) db.exec(sql);
      tables = tablesOf(db);
    } finally {
      db.close();
    }
    expected.set(version, tables);
  }
  return tables;
}

/**
 * What `db` lacks of its schema version (1 to MIGRATIONS.length): missing tables by name, missing
 * columns as `table.column`. Tables and columns it has beyond them are not its business.
 */
export function missingOfSchema(db: DatabaseSync, version: number): string[] {
  const actual = tablesOf(db);
  const missing: string[] = [];
  for (const [table, columns] of schemaOf(version)) {
    const has = actual.get(table);
    if (has === undefined) missing.push(table);
    else for (const column of columns) if (!has.has(column)) missing.push(`${table}.${column}`);
  }
  return missing;
}
