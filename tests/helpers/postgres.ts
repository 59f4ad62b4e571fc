/**
 * PostgreSQL for tests: a real server (Debian's postgresql, scripts/postgres-process.ts), never a
 * stand-in. The test command starts one cluster and hands its URL to every test file in
 * SOS_TEST_POSTGRES_URL; a file run alone starts a throwaway cluster of its own. Either way each
 * gateway gets a database of its own (CREATE DATABASE), dropped when it closes.
 *
 * SOS_TEST_STORE=postgres makes startTestGateway (gateway.ts) run every gateway on PostgreSQL:
 * the test command's second run of tests/gateway. If PostgreSQL cannot start, the test fails and
 * says why; nothing is skipped.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import type { Test } from "tap";
import { startPostgres, stopPostgres } from "../../scripts/postgres-process.ts";

/** Which store startTestGateway gives a gateway in this run. */
export function testStore(): "sqlite" | "postgres" {
  return process.env.SOS_TEST_STORE === "postgres" ? "postgres" : "sqlite";
}

let cluster: Promise<string> | undefined;

/** The URL of a running cluster's `postgres` database, as its superuser. */
export function postgresAdminUrl(): Promise<string> {
  const given = process.env.SOS_TEST_POSTGRES_URL;
  if (given !== undefined && given !== "") return Promise.resolve(given);
  cluster ??= (async () => {
    // A throwaway cluster for this test process (the postgres user must reach its folder).
    const dir = mkdtempSync(join(tmpdir(), "sos-test-pg-"));
    chmodSync(dir, 0o755);
    process.once("exit", () => {
      try {
        stopPostgres(join(dir, "pg"));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
    return (await startPostgres(join(dir, "pg"), { fast: true })).url;
  })();
  return cluster;
}

/** The admin URL with another database. */
export function databaseUrl(adminUrl: string, database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.href;
}

/** Runs SQL on the cluster's `postgres` database (CREATE/DROP DATABASE, stopping backends). */
export async function adminQuery(sql: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: await postgresAdminUrl() });
  await client.connect();
  try {
    return await client.query(sql, params);
  } finally {
    await client.end();
  }
}

/** A new, empty database; `drop` removes it (closing whatever is still connected to it). */
export async function freshDatabase(): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = `sos_test_${randomBytes(6).toString("hex")}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  return {
    name,
    url: databaseUrl(await postgresAdminUrl(), name),
    async drop() {
      await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/** Runs SQL with `?` placeholders on one database, as another process would. */
export async function queryDatabase(
  url: string,
  sql: string,
  params: (string | number | null)[],
): Promise<Record<string, unknown>[]> {
  let n = 0;
  const text = sql.replace(/\?/g, () => {
    n += 1;
    return `$${n}`;
  });
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<Record<string, unknown>>(text, params)).rows;
  } finally {
    await client.end();
  }
}

/**
 * A PostgreSQL cluster of the calling test's own, for a test that stops and starts its database
 * (stopping the shared one would disturb the other tests); stopped and removed when the test ends.
 */
export async function ownCluster(
  t: Test,
  name: string,
): Promise<{ url: string; stop(): void; start(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), `sos-pg-${name}-`));
  chmodSync(dir, 0o755);
  const cluster = join(dir, "pg");
  const { url } = await startPostgres(cluster, { fast: true });
  t.teardown(() => {
    stopPostgres(cluster);
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    url,
    stop: () => stopPostgres(cluster),
    start: async () => {
      await startPostgres(cluster, { fast: true });
    },
  };
}
