import {
  chownSync,
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import t from "tap";
import { describeSummary } from "../../signaling/backup/backup-cli.ts";
import { startGateway } from "../../signaling/main.ts";
import { MIGRATIONS } from "../../signaling/store/migrations.ts";
import { ApiClient, field, joinAgent, PASSWORD, startTestGateway } from "../helpers/gateway.ts";
import { runGatewayCommand } from "../helpers/gateway-cli.ts";

type Row = Record<string, unknown>;

/** Every row of a table of a gateway database, read as a separate connection would. */
function rows(dataDirOrFile: string, table: "sessions" | "audit_log"): Row[] {
  const path = dataDirOrFile.endsWith(".db") ? dataDirOrFile : join(dataDirOrFile, "gateway.db");
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return db
      .prepare(`SELECT * FROM ${table} ORDER BY id`)
      .all()
      .map((row) => ({ ...row }));
  } finally {
    db.close();
  }
}

const byId = (list: Row[]) => new Map(list.map((row) => [String(row.id), row]));

t.test("a backup of a live gateway mid-session restores every session, PIN and audit row", async (t) => {
  const work = mkdtempSync(join(tmpdir(), "sos-backup-"));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const gw = await startTestGateway();
  t.teardown(() => gw.close());
  const alice = await gw.technician("Alice");
  const waiting = await gw.newSession(alice.client);
  const active = await gw.newSession(alice.client);
  const closed = await gw.newSession(alice.client);
  await alice.client.post(`/api/sessions/${closed.id}/close`);
  const { socket: agent } = await joinAgent(gw.url, { kind: "pin", pin: active.pin });
  t.teardown(() => agent.close());
  const before = { sessions: rows(gw.dataDir, "sessions"), audit: rows(gw.dataDir, "audit_log") };
  t.equal(byId(before.sessions).get(active.id)?.status, "Active", "mid-session: the agent is joined");

  // The gateway keeps writing (one session per request, each with its audit row) while the backup runs.
  let writing = true;
  const writer = (async () => {
    let made = 0;
    while (writing) {
      await gw.newSession(alice.client);
      made += 1;
    }
    return made;
  })();
  const file = join(work, "backups", "gateway-backup.db");
  const backup = await runGatewayCommand(["backup", file, "--data-dir", gw.dataDir]);
  writing = false;
  const madeDuringBackup = await writer;
  t.equal(backup.code, 0, backup.stderr);
  t.match(
    backup.stdout,
    new RegExp(
      `^Backed up .* schema ${MIGRATIONS.length}, \\d+ sessions \\(\\d+ with a live PIN\\), \\d+ audit rows`,
    ),
  );
  t.equal(statSync(file).mode & 0o777, 0o600, "the backup is readable by its owner only");
  t.same(
    readdirSync(join(work, "backups")),
    ["gateway-backup.db"],
    "one self-contained file, no WAL or partial file beside it",
  );
  t.ok(madeDuringBackup > 0, `the gateway wrote during the backup (${madeDuringBackup} sessions)`);
  const after = { sessions: rows(gw.dataDir, "sessions"), audit: rows(gw.dataDir, "audit_log") };

  const restoredDir = join(work, "restored");
  const restore = await runGatewayCommand(["restore", file, "--data-dir", restoredDir]);
  t.equal(restore.code, 0, restore.stderr);
  t.match(restore.stdout, new RegExp(`^Restored .* schema ${MIGRATIONS.length}, `));
  const restored = {
    sessions: rows(restoredDir, "sessions"),
    audit: rows(restoredDir, "audit_log"),
  };

  const restoredSessions = byId(restored.sessions);
  for (const session of before.sessions) {
    t.same(
      restoredSessions.get(String(session.id)),
      session,
      `session ${session.name} ${session.status} is back, PIN and all`,
    );
  }
  const restoredAudit = byId(restored.audit);
  for (const entry of before.audit) {
    t.same(restoredAudit.get(String(entry.id)), entry, `audit row ${entry.id} (${entry.action})`);
  }
  // One consistent snapshot: a prefix of what the gateway wrote, and no session without its audit row.
  const afterAudit = byId(after.audit);
  t.ok(
    restored.audit.every(
      (entry) => JSON.stringify(afterAudit.get(String(entry.id))) === JSON.stringify(entry),
    ),
    "every restored audit row is one the gateway wrote",
  );
  const maxId = Math.max(...restored.audit.map((entry) => Number(entry.id)));
  t.equal(
    restored.audit.length,
    after.audit.filter((entry) => Number(entry.id) <= maxId).length,
    "with no gap",
  );
  const created = new Set(
    restored.audit.filter((entry) => entry.action === "session.created").map((entry) => entry.session_id),
  );
  t.same(
    new Set(restored.sessions.map((session) => session.id)),
    created,
    "each restored session has its creation audited, and each audited creation its session",
  );

  // The restored gateway serves them: Alice signs in, sees her sessions, an end user joins by PIN.
  const second = await startGateway({ port: 0, host: "127.0.0.1", dataDir: restoredDir, logLevel: "silent" });
  t.teardown(() => second.close());
  const aliceAgain = new ApiClient(second.url);
  t.equal((await aliceAgain.signIn(alice.email, PASSWORD)).status, 200, "accounts are restored");
  const listed = await aliceAgain.get("/api/sessions");
  const listedIds = (listed.body as { sessions: Array<{ id: string }> }).sessions.map((s) => s.id);
  for (const id of [waiting.id, active.id]) t.ok(listedIds.includes(id), `session ${id} listed`);
  const pin = await aliceAgain.get(`/api/sessions/${waiting.id}/invitation?for=pin`);
  t.equal(field(pin.body, "pin"), waiting.pin, "the Waiting session keeps its PIN");
  const { socket: newAgent, welcome } = await joinAgent(second.url, { kind: "pin", pin: waiting.pin });
  t.teardown(() => newAgent.close());
  t.equal(welcome.session.id, waiting.id, "and an end user joins with it");
});

t.test("restore refuses what it must not do, and says so with exit code 3", async (t) => {
  const work = mkdtempSync(join(tmpdir(), "sos-restore-"));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const gw = await startTestGateway();
  t.teardown(() => gw.close());
  await gw.newSession(gw.admin);
  const file = join(work, "good.db");
  t.equal((await runGatewayCommand(["backup", file, "--data-dir", gw.dataDir])).code, 0);

  const again = await runGatewayCommand(["backup", file, "--data-dir", gw.dataDir]);
  t.equal(again.code, 3, "a backup does not overwrite a file");
  t.match(again.stderr, /exists; give --force/);
  t.equal((await runGatewayCommand(["backup", file, "--data-dir", gw.dataDir, "--force"])).code, 0);

  // The cases below are independent of each other (each its own folder, none writes the backup):
  // their commands run at once, each a process of its own, and are checked one by one.
  const target = join(work, "target");
  const restoreTwiceThenForce = async () => {
    const first = await runGatewayCommand(["restore", file, "--data-dir", target]);
    const existing = await runGatewayCommand(["restore", file, "--data-dir", target]);
    const forced = await runGatewayCommand(["restore", file, "--data-dir", target, "--force"]);
    return { first, existing, forced };
  };

  const garbage = join(work, "garbage.db");
  writeFileSync(garbage, "this is not a database, just text long enough to look like a file\n".repeat(100));
  const newer = join(work, "newer.db");
  copyFileSync(file, newer);
  const db = new DatabaseSync(newer);
  db.exec("PRAGMA user_version = 99");
  db.close();
  const foreign = join(work, "foreign.db");
  const other = new DatabaseSync(foreign);
  other.exec("CREATE TABLE notes (x); PRAGMA user_version = 1");
  other.close();
  const corrupt = join(work, "corrupt.db");
  copyFileSync(file, corrupt);
  corruptIndex(corrupt);

  const [replaced, live, notDb, tooNew, notGateway, broken, missing, usage] = await Promise.all([
    restoreTwiceThenForce(),
    runGatewayCommand(["restore", file, "--data-dir", gw.dataDir, "--force"]),
    runGatewayCommand(["restore", garbage, "--data-dir", join(work, "g")]),
    runGatewayCommand(["restore", newer, "--data-dir", join(work, "n")]),
    runGatewayCommand(["restore", foreign, "--data-dir", join(work, "f")]),
    runGatewayCommand(["restore", corrupt, "--data-dir", join(work, "c")]),
    runGatewayCommand(["restore", join(work, "nope.db"), "--data-dir", join(work, "m")]),
    runGatewayCommand(["restore"]),
  ]);

  t.equal(replaced.first.code, 0);
  t.equal(replaced.existing.code, 3, "an existing database is not replaced without --force");
  t.match(replaced.existing.stderr, /a database exists at .*gateway\.db; give --force/);
  t.equal(replaced.forced.code, 0, replaced.forced.stderr);
  t.match(replaced.forced.stdout, /kept as .*gateway\.db\.replaced-/);
  t.ok(
    readdirSync(target).some((name) => name.startsWith("gateway.db.replaced-")),
    "the replaced database is kept",
  );

  t.equal(live.code, 3, "a running gateway's database is not replaced, even with --force");
  t.match(live.stderr, /in use \(is a gateway running on this data directory\? stop it first\)/);
  t.equal((await gw.admin.post("/api/sessions", { channelId: "home" })).status, 200, "and it keeps working");

  t.equal(notDb.code, 3);
  t.match(notDb.stderr, /not an SQLite database|cannot be/);
  t.notOk(existsSync(join(work, "g", "gateway.db")), "nothing was restored");

  t.equal(tooNew.code, 3);
  t.match(tooNew.stderr, new RegExp(`schema version 99, newer than this gateway's ${MIGRATIONS.length}:`));

  t.equal(notGateway.code, 3);
  t.match(notGateway.stderr, /not a gateway database/);

  t.equal(broken.code, 3, broken.stderr);
  t.match(broken.stderr, /fails SQLite's integrity check|cannot be read/);

  t.equal(missing.code, 1, "a backup that is not there fails");
  t.equal(usage.code, 2, "a missing argument is a usage error");
  t.match(usage.stderr, /missing required argument 'file'/);
});

t.test(
  "restored by root, the database belongs to the data directory's owner (the gateway's user)",
  async (t) => {
    t.equal(process.getuid?.(), 0, "the suite runs as root (README)");
    const work = mkdtempSync(join(tmpdir(), "sos-restore-owner-"));
    t.teardown(() => rmSync(work, { recursive: true, force: true }));
    const gw = await startTestGateway();
    t.teardown(() => gw.close());
    const file = join(work, "backup.db");
    t.equal((await runGatewayCommand(["backup", file, "--data-dir", gw.dataDir])).code, 0);
    const dataDir = join(work, "data");
    mkdirSync(dataDir);
    chownSync(dataDir, 65534, 65534);
    const restore = await runGatewayCommand(["restore", file, "--data-dir", dataDir]);
    t.equal(restore.code, 0, restore.stderr);
    const restored = statSync(join(dataDir, "gateway.db"));
    t.same([restored.uid, restored.gid], [65534, 65534], "owned by the data directory's owner");
    t.equal(restored.mode & 0o777, 0o600, "and readable by that owner only");
  },
);

t.test(
  "a database that lacks a table or column of its schema version is refused by backup and restore; an older schema's backup restores and is migrated at start",
  async (t) => {
    const work = mkdtempSync(join(tmpdir(), "sos-restore-schema-"));
    t.teardown(() => rmSync(work, { recursive: true, force: true }));
    const gw = await startTestGateway();
    t.teardown(() => gw.close());
    await gw.newSession(gw.admin);
    const good = join(work, "good.db");
    t.equal((await runGatewayCommand(["backup", good, "--data-dir", gw.dataDir])).code, 0);

    /** A copy of the good backup changed by `sql` (the schema version stays the current one). */
    const changed = (name: string, sql: string) => {
      const path = join(work, name);
      copyFileSync(good, path);
      const db = new DatabaseSync(path);
      db.exec(sql);
      db.close();
      return path;
    };
    // Tables and columns of later migrations (chat: 2; recordings: 4; the file size limit: 6).
    for (const [name, sql, missing] of [
      ["no-chat.db", "DROP TABLE chat_lines", /missing chat_lines\b/],
      ["no-recordings.db", "DROP TABLE recordings", /missing recordings\b/],
      [
        "no-file-limit.db",
        "ALTER TABLE channels DROP COLUMN file_size_limit_mb",
        /missing channels\.file_size_limit_mb\b/,
      ],
    ] as const) {
      const restore = await runGatewayCommand([
        "restore",
        changed(name, sql),
        "--data-dir",
        join(work, name),
      ]);
      t.equal(restore.code, 3, `${name}: refused`);
      t.match(restore.stderr, /is not a gateway database of schema version \d+/);
      t.match(restore.stderr, missing, "naming what it lacks");
      t.notOk(existsSync(join(work, name, "gateway.db")), "nothing restored");
    }

    // The backup's check of its copy: a live database that lacks a table is not backed up as sound.
    const broken = join(work, "broken-data");
    mkdirSync(broken);
    copyFileSync(changed("broken.db", "DROP TABLE session_continuation"), join(broken, "gateway.db"));
    const backup = await runGatewayCommand(["backup", join(work, "out", "b.db"), "--data-dir", broken]);
    t.equal(backup.code, 3, "backup refuses it");
    t.match(backup.stderr, /missing session_continuation\b/);
    t.same(readdirSync(join(work, "out")), [], "and leaves no file");

    // A backup made by an older gateway (schema version 2) has only that version's tables.
    const old = join(work, "old.db");
    const db = new DatabaseSync(old);
    db.exec(`${MIGRATIONS.slice(0, 2).join(";\n")}; PRAGMA user_version = 2`);
    db.close();
    const oldDir = join(work, "old");
    const restore = await runGatewayCommand(["restore", old, "--data-dir", oldDir]);
    t.equal(restore.code, 0, restore.stderr);
    t.match(restore.stdout, /schema 2, /);
    const started = await startGateway({ port: 0, host: "127.0.0.1", dataDir: oldDir, logLevel: "silent" });
    await started.close();
    const migrated = new DatabaseSync(join(oldDir, "gateway.db"), { readOnly: true });
    t.equal(
      Number(migrated.prepare("PRAGMA user_version").get()?.user_version),
      MIGRATIONS.length,
      "the gateway migrates it at start",
    );
    migrated.close();
  },
);

/** Overwrites an index's root page: the file still opens, and PRAGMA integrity_check finds it. */
function corruptIndex(path: string): void {
  const db = new DatabaseSync(path);
  db.exec("PRAGMA journal_mode = DELETE");
  const index = db.prepare("SELECT rootpage FROM sqlite_schema WHERE name = 'sessions_channel'").get();
  const page = Number(index?.rootpage);
  const pageSize = Number(db.prepare("PRAGMA page_size").get()?.page_size);
  db.close();
  const bytes = Buffer.alloc(pageSize, 0xff);
  const fd = openSync(path, "r+");
  writeSync(fd, bytes, 0, bytes.length, (page - 1) * pageSize);
  closeSync(fd);
}

t.test("the summary line counts in the singular and plural", async (t) => {
  const summary = { schemaVersion: 3, livePins: 1, bytes: 2048 };
  t.equal(
    describeSummary({ ...summary, sessions: 1, auditRows: 1 }),
    "schema 3, 1 session (1 with a live PIN), 1 audit row, 2.0 KiB",
  );
  t.equal(
    describeSummary({ ...summary, sessions: 0, auditRows: 2 }),
    "schema 3, 0 sessions (1 with a live PIN), 2 audit rows, 2.0 KiB",
  );
});
