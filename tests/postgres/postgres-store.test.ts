import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t from "tap";
import { MAX_INVITED_TECHNICIANS } from "../../shared/limits.ts";
import { startGateway } from "../../signaling/main.ts";
import { DatabaseUrl } from "../../signaling/store/database-url.ts";
import { POSTGRES_MIGRATIONS } from "../../signaling/store/postgres-migrations.ts";
import { openPostgresStore } from "../../signaling/store/postgres-store.ts";
import type { SessionRow } from "../../signaling/store/rows.ts";
import { PinTaken } from "../../signaling/store/store.ts";
import {
  ADMIN,
  ApiClient,
  errorCode,
  field,
  startTestGateway,
  type TestGateway,
} from "../helpers/gateway.ts";
import { runGateway } from "../helpers/gateway-cli.ts";
import { freshDatabase, ownCluster, queryDatabase } from "../helpers/postgres.ts";

/**
 * What the PostgreSQL store promises beyond the gateway suite (which runs on it too): the database
 * itself keeps one live session per PIN and the invite limit when gateways act at once on one
 * database, migrations apply once however many gateways start together, and a database that goes
 * away answers STORE_UNAVAILABLE and 503 health without taking the gateway down, then recovers.
 */

/** A gateway on a fresh database, and a second gateway on the same database. */
async function twoGateways(
  teardown: (fn: () => Promise<void>) => void,
): Promise<{ a: TestGateway; b: { url: string }; url: string }> {
  const database = await freshDatabase();
  const a = await startTestGateway({ config: { databaseUrl: database.url } });
  const dataDir = mkdtempSync(join(tmpdir(), "sos-gateway-b-"));
  const b = await startGateway({
    port: 0,
    host: "127.0.0.1",
    dataDir,
    databaseUrl: database.url,
    logLevel: "silent",
    admin: ADMIN,
  });
  teardown(async () => {
    await b.close();
    await a.close();
    rmSync(dataDir, { recursive: true, force: true });
    await database.drop();
  });
  return { a, b, url: database.url };
}

/** The same signed-in technician, talking to another gateway. */
function via(client: ApiClient, url: string): ApiClient {
  const other = new ApiClient(url);
  other.cookie = client.cookie;
  other.csrfToken = client.csrfToken;
  return other;
}

/** Runs `work` for every item, at most `limit` at a time. */
async function inBatches<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>) {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += limit) {
    results.push(...(await Promise.all(items.slice(i, i + limit).map(work))));
  }
  return results;
}

t.test(
  "50 session creates at once (10 technicians, 5 each, on two gateways) never give two live sessions one PIN",
  async (t) => {
    const { a, b, url } = await twoGateways((fn) => t.teardown(fn));
    // Ten accounts (sign-in is limited to 30 a minute per address), each creating five at once.
    const technicians = await inBatches(
      Array.from({ length: 10 }, (_, i) => `Tech ${i}`),
      5,
      (name) => a.technician(name),
    );
    const names = Array.from({ length: 50 }, (_, i) => `Customer ${i}`);
    const created = await Promise.all(
      names.map((name, i) => {
        const tech = technicians[i % technicians.length];
        if (tech === undefined) throw new Error("no technician");
        return (i % 2 === 0 ? tech.client : via(tech.client, b.url)).post("/api/sessions", {
          channelId: "home",
          name,
        });
      }),
    );
    t.same(
      created.map((response) => response.status),
      names.map(() => 200),
      "every create succeeds",
    );
    const pins = created.map((response) => field(response.body, "invitation", "pin"));
    t.equal(new Set(pins).size, 50, "50 different PINs handed out");
    const duplicates = await queryDatabase(
      url,
      "SELECT pin, count(*) AS n FROM sessions WHERE pin IS NOT NULL GROUP BY pin HAVING count(*) > 1",
      [],
    );
    t.same(duplicates, [], "and the database holds no PIN twice");
  },
);

t.test(
  "the database refuses a second live session with a PIN another gateway's session holds, and frees it when that one ends",
  async (t) => {
    const database = await freshDatabase();
    const [one, two] = await Promise.all([
      openPostgresStore(new DatabaseUrl(database.url)),
      openPostgresStore(new DatabaseUrl(database.url)),
    ]);
    t.teardown(async () => {
      await one.close();
      await two.close();
      await database.drop();
    });
    const now = Date.now();
    await one.insertTechnician({
      id: "t1",
      email: "t1@example.test",
      name: "T1",
      role: "technician",
      passwordHash: "x",
      attendedAccess: true,
      shareSessions: false,
      viewRecordings: false,
      disabled: false,
      createdAt: now,
    });
    await one.insertChannel({
      id: "c1",
      kind: "private",
      name: "Private",
      ownerId: "t1",
      sessionExpiryMinutes: 60,
      recordingMode: "off",
      recordingRetentionDays: 30,
      reconfirmMinutes: 30,
      fileSizeLimitMb: 4096,
      createdAt: now,
    });
    const session = (id: string): SessionRow => ({
      id,
      channelId: "c1",
      name: id,
      note: "",
      status: "Waiting",
      assigneeId: "t1",
      createdBy: "t1",
      createdAt: now,
      lastActivityAt: now,
      expiresAt: now + 60_000,
      linkToken: `link-${id}`,
      pin: "123456789",
      resumeSecretHash: null,
      device: null,
      deletedAt: null,
    });
    const outcomes = await Promise.allSettled([
      one.transaction(() => one.insertSession(session("s1"))),
      two.transaction(() => two.insertSession(session("s2"))),
    ]);
    t.equal(outcomes.filter((o) => o.status === "fulfilled").length, 1, "one insert wins");
    const refused = outcomes.find((o) => o.status === "rejected");
    t.ok(
      refused?.status === "rejected" && refused.reason instanceof PinTaken,
      "the other is refused as PinTaken",
    );
    const winner = outcomes[0]?.status === "fulfilled" ? "s1" : "s2";
    const loser = winner === "s1" ? "s2" : "s1";
    const live = await one.getSession(winner);
    if (live === undefined) throw new Error("the winner is not stored");
    await one.updateSession({ ...live, status: "Closed", pin: null });
    await two.insertSession(session(loser));
    t.equal((await two.getSessionByPin("123456789"))?.id, loser, "a dead PIN is free for the next session");
  },
);

t.test("the invite limit holds when technicians invite at once through two gateways", async (t) => {
  const { a, b, url } = await twoGateways((fn) => t.teardown(fn));
  const alice = await a.technician("Alice");
  const session = await a.newSession(alice.client);
  const others = await inBatches(["B", "C", "D", "E", "F", "G"], 3, (name) => a.technician(name));
  const invited = await Promise.all(
    others.map((other, i) =>
      (i % 2 === 0 ? alice.client : via(alice.client, b.url)).post(`/api/sessions/${session.id}/invite`, {
        technicianIds: [other.id],
      }),
    ),
  );
  const accepted = invited.filter((response) => response.status === 200);
  t.equal(accepted.length, MAX_INVITED_TECHNICIANS, "exactly the limit's worth are accepted");
  t.same(
    invited.filter((response) => response.status !== 200).map((response) => errorCode(response.body)),
    others.slice(MAX_INVITED_TECHNICIANS).map(() => "INVITE_LIMIT"),
    "the others are refused with INVITE_LIMIT",
  );
  const rows = await queryDatabase(url, "SELECT count(*) AS n FROM session_invites WHERE session_id = ?", [
    session.id,
  ]);
  t.equal(Number(rows[0]?.n), MAX_INVITED_TECHNICIANS, "and the database holds no more invites than that");
});

t.test("gateways starting at once on an empty database apply each migration once", async (t) => {
  const database = await freshDatabase();
  t.teardown(() => database.drop());
  const url = new DatabaseUrl(database.url);
  const stores = await Promise.all([openPostgresStore(url), openPostgresStore(url), openPostgresStore(url)]);
  const applied = await queryDatabase(database.url, "SELECT version, applied_at FROM schema_migrations", []);
  t.same(
    applied.map((row) => Number(row.version)).sort(),
    POSTGRES_MIGRATIONS.map((_, i) => i + 1),
    "every migration is recorded once",
  );
  await Promise.all(stores.map((store) => store.close()));
  const again = await openPostgresStore(url);
  await again.close();
  t.same(
    await queryDatabase(database.url, "SELECT version, applied_at FROM schema_migrations", []),
    applied,
    "a later start applies nothing again",
  );
});

t.test(
  "PostgreSQL going away: requests answer 503 STORE_UNAVAILABLE, health is 503, the gateway stays up, and all comes back with the database",
  async (t) => {
    const cluster = await ownCluster(t, "away");
    const { url } = cluster;
    const gw = await startTestGateway({ config: { databaseUrl: url } });
    t.teardown(() => gw.close());
    const alice = await gw.technician("Alice");
    t.equal((await alice.client.post("/api/sessions", { channelId: "home", name: "Before" })).status, 200);
    const health = () => new ApiClient(gw.url).get("/healthz");

    cluster.stop();
    const refused = await alice.client.post("/api/sessions", { channelId: "home", name: "During" });
    t.equal(refused.status, 503, "a write answers 503");
    t.equal(errorCode(refused.body), "STORE_UNAVAILABLE", "with the documented code");
    const read = await alice.client.get("/api/sessions");
    t.equal(errorCode(read.body), "STORE_UNAVAILABLE", "a read too");
    const unhealthy = await health();
    t.equal(unhealthy.status, 503, "health says so");
    t.match(unhealthy.body, { ok: false, store: { ok: false } });

    await cluster.start();
    // The pool connects again on the next use: health probes with a write.
    let healthy = await health();
    for (let attempt = 0; healthy.status !== 200 && attempt < 50; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      healthy = await health();
    }
    t.equal(healthy.status, 200, "healthy again once the database is back");
    const after = await alice.client.post("/api/sessions", { channelId: "home", name: "After" });
    t.equal(after.status, 200, "writes work again");
    const sessions = await alice.client.get("/api/sessions");
    const names = (sessions.body as { sessions: { name: string }[] }).sessions.map((s) => s.name).sort();
    t.same(names, ["After", "Before"], "the refused write left nothing; the others are kept");
  },
);

t.test(
  "sos-gateway with SOS_DATABASE_URL starts on PostgreSQL and never prints the password; an unreachable database stops the start with a reason",
  async (t) => {
    const database = await freshDatabase();
    t.teardown(() => database.drop());
    const password = new URL(database.url).password;
    t.ok(password.length > 0, "the test database URL carries a password");
    const dataDir = mkdtempSync(join(tmpdir(), "sos-cli-pg-"));
    t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
    const started = await runGateway(["--port", "0", "--host", "127.0.0.1", "--data-dir", dataDir], {
      SOS_DATABASE_URL: database.url,
      SOS_LOG_LEVEL: "info",
    });
    t.equal(started.code, 0, "started, then stopped by SIGTERM");
    t.match(started.stdout, /"store opened"/, "the log says which store");
    t.match(started.stdout, /postgres:\/\/sos:\*\*\*@/, "with the URL's password as ***");
    t.notOk(`${started.stdout}${started.stderr}`.includes(password), "the password appears nowhere");
    const tables = await queryDatabase(database.url, "SELECT count(*) AS n FROM schema_migrations", []);
    t.equal(Number(tables[0]?.n), POSTGRES_MIGRATIONS.length, "it migrated the database");

    const unreachable = new URL(database.url);
    unreachable.port = "1";
    const refused = await runGateway(["--port", "0", "--data-dir", dataDir], {
      SOS_DATABASE_URL: unreachable.href,
    });
    t.equal(refused.code, 1, "exit code 1");
    t.match(
      refused.stderr,
      /could not start: PostgreSQL at postgres:\/\/sos:\*\*\*@127\.0\.0\.1:1\/.*ECONNREFUSED/,
    );
    t.notOk(refused.stderr.includes(password), "without the password");
  },
);
