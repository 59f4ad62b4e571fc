import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import type { GatewayConfigInput } from "../../signaling/config.ts";
import { type Gateway, type GatewayOptions, startGateway } from "../../signaling/main.ts";
import { ApiClient, field } from "./clients.ts";
import { freshDatabase, queryDatabase, testStore } from "./postgres.ts";

export * from "./clients.ts";

export const ADMIN = { email: "admin@example.test", password: "admin-password-1", name: "Ada Admin" };
export const PASSWORD = "technician-pw-1";

/** A clock the test moves by hand (for expiry and rate-limit windows). */
export class TestClock {
  #now = Date.now();
  now(): number {
    return this.#now;
  }
  advance(ms: number): void {
    this.#now += ms;
  }
}

export type TestGatewayOptions = {
  config?: Partial<GatewayConfigInput>;
  options?: GatewayOptions;
  /** Start without the first admin (setup-token path). */
  withoutAdmin?: boolean;
  /**
   * The test is about the SQLite file itself (its locks, its disk): the gateway uses SQLite in the
   * PostgreSQL run too, and the test's name says so.
   */
  sqliteOnly?: boolean;
};

export type TestGateway = {
  gateway: Gateway;
  url: string;
  dataDir: string;
  /** Signed in as the first admin (undefined with withoutAdmin). */
  admin: ApiClient;
  /** An anonymous client. */
  anonymous(): ApiClient;
  /** Creates a technician (as admin) and returns a client signed in as them. */
  technician(
    name: string,
    permissions?: { attendedAccess?: boolean; shareSessions?: boolean; viewRecordings?: boolean },
  ): Promise<{ client: ApiClient; id: string; email: string }>;
  /** Creates a session in `channelId` (default: Home = the creator's Private channel). */
  newSession(
    client: ApiClient,
    channelId?: string,
  ): Promise<{ id: string; pin: string; link: string; token: string }>;
  /**
   * Runs SQL on the gateway's store from outside, as another process would (`?` placeholders):
   * its SQLite file, or its PostgreSQL database in the PostgreSQL run.
   */
  query(sql: string, ...params: (string | number | null)[]): Promise<Record<string, unknown>[]>;
  /** Stops and starts the gateway again on the same port and data directory. */
  restart(): Promise<void>;
  close(): Promise<void>;
};

/**
 * The real gateway on an ephemeral port with a fresh SQLite directory (or, in the PostgreSQL run,
 * a fresh PostgreSQL database: helpers/postgres.ts), its first admin created from the environment
 * path and signed in.
 */
export async function startTestGateway(opts: TestGatewayOptions = {}): Promise<TestGateway> {
  const dataDir = mkdtempSync(join(tmpdir(), "sos-gateway-"));
  const database = testStore() === "postgres" && opts.sqliteOnly !== true ? await freshDatabase() : undefined;
  const config = (port: number): GatewayConfigInput => ({
    port,
    host: "127.0.0.1",
    dataDir,
    ...(database === undefined ? {} : { databaseUrl: database.url }),
    logLevel: "silent",
    ...(opts.withoutAdmin === true ? {} : { admin: ADMIN }),
    ...opts.config,
  });
  let gateway = await startGateway(config(0), opts.options);
  const port = Number(new URL(gateway.url).port);
  const admin = new ApiClient(gateway.url);
  if (opts.withoutAdmin !== true) {
    const response = await admin.signIn(ADMIN.email, ADMIN.password);
    if (response.status !== 200) throw new Error(`admin sign-in failed: ${JSON.stringify(response.body)}`);
  }
  let counter = 0;
  const test: TestGateway = {
    get gateway() {
      return gateway;
    },
    get url() {
      return gateway.url;
    },
    dataDir,
    admin,
    anonymous: () => new ApiClient(gateway.url),
    async technician(name, permissions = {}) {
      counter += 1;
      const email = `${name.toLowerCase().replace(/[^a-z0-9]+/g, ".")}.${counter}@example.test`;
      const created = await admin.post("/api/technicians", {
        email,
        name,
        password: PASSWORD,
        permissions: { attendedAccess: true, shareSessions: false, ...permissions },
      });
      if (created.status !== 200)
        throw new Error(`create technician failed: ${JSON.stringify(created.body)}`);
      const client = new ApiClient(gateway.url);
      const signedIn = await client.signIn(email, PASSWORD);
      if (signedIn.status !== 200) throw new Error(`sign-in failed: ${JSON.stringify(signedIn.body)}`);
      return { client, id: field(created.body, "technician", "id"), email };
    },
    async newSession(client, channelId = "home") {
      const response = await client.post("/api/sessions", { channelId, name: "Customer" });
      if (response.status !== 200) throw new Error(`new session failed: ${JSON.stringify(response.body)}`);
      const link = field(response.body, "invitation", "link");
      return {
        id: field(response.body, "session", "id"),
        pin: field(response.body, "invitation", "pin"),
        link,
        token: link.split("/s/")[1] ?? "",
      };
    },
    async query(sql, ...params) {
      if (database !== undefined) return queryDatabase(database.url, sql, params);
      const db = new DatabaseSync(join(dataDir, "gateway.db"));
      try {
        return db.prepare(sql).all(...params);
      } finally {
        db.close();
      }
    },
    async restart() {
      await gateway.close();
      gateway = await startGateway(config(port), opts.options);
    },
    async close() {
      await gateway.close();
      rmSync(dataDir, { recursive: true, force: true });
      await database?.drop();
    },
  };
  return test;
}
