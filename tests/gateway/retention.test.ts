import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t from "tap";
import { type Gateway, startGateway } from "../../signaling/main.ts";
import {
  type ConsoleSocket,
  field,
  joinAgent,
  openConsoleSocket,
  PASSWORD,
  startTestGateway,
  TestClock,
} from "../helpers/gateway.ts";
import { runGateway } from "../helpers/gateway-cli.ts";
import { testStore } from "../helpers/postgres.ts";
import { CapturedLog } from "../helpers/security.ts";
import { waitUntil } from "../helpers/xvfb.ts";

/**
 * Data retention (--session-retention-days, --audit-retention-days) on the real gateway (SQLite,
 * and PostgreSQL in the suite's second run, with a second instance on the same database): ended
 * sessions and every row hanging off them go once their days have passed, live, recent and
 * recorded ones stay; audit entries past their days go, newer ones stay; the deletion is audited
 * and counted. Time moves by the gateway's clock; every sweep is run by hand.
 */

const DAY = 86_400_000;
const MINUTE = 60_000;
const METRICS_TOKEN = "retention-metrics-token-0123";
const clock = new TestClock();
const settings = { sessionRetentionDays: 30, auditRetentionDays: 365, metricsToken: METRICS_TOKEN };
// Batches of 2 sessions and 5 audit entries: a backlog is deleted batch by batch.
const options = {
  clock,
  sweepIntervalMs: 0,
  retentionSweepIntervalMs: 0,
  retentionBatches: { sessions: 2, auditEntries: 5 },
};
const gw = await startTestGateway({ config: settings, options });
t.teardown(() => gw.close());

// A second instance on the same PostgreSQL database; on SQLite (one instance per file) the same
// gateway sweeps twice at once instead.
const otherDir = mkdtempSync(join(tmpdir(), "sos-retention-"));
const databaseUrl = gw.gateway.config.databaseUrl?.reveal();
const other: Gateway =
  databaseUrl === undefined
    ? gw.gateway
    : await startGateway(
        { port: 0, host: "127.0.0.1", dataDir: otherDir, databaseUrl, logLevel: "silent", ...settings },
        options,
      );
t.teardown(async () => {
  if (other !== gw.gateway) await other.close();
  rmSync(otherDir, { recursive: true, force: true });
});
const gateways = other === gw.gateway ? [gw.gateway] : [gw.gateway, other];

const tom = await gw.technician("Tom");
const bob = await gw.technician("Bob");
const desk = field(
  (await gw.admin.post("/api/channels", { name: "Desk", access: [tom.id, bob.id] })).body,
  "channel",
  "id",
);
const recorded = field(
  (
    await gw.admin.post("/api/channels", {
      name: "Recorded",
      access: [tom.id],
      recording: { mode: "request", retentionDays: 45 },
    })
  ).body,
  "channel",
  "id",
);
const tomConsole: ConsoleSocket = await openConsoleSocket(tom.client);
t.teardown(() => tomConsole.close());
await tomConsole.next("sessions");

/** Tom signed in again: his sign-in does not last the days the clock moves. */
async function tomNow() {
  await tom.client.signIn(tom.email, PASSWORD);
  return tom.client;
}

/** Every table with a session_id column (what hangs off a session), but the audit log's own. */
async function sessionTables(): Promise<string[]> {
  const rows =
    testStore() === "postgres"
      ? await gw.query(
          "SELECT table_name AS name FROM information_schema.columns WHERE column_name = 'session_id' AND table_schema = current_schema()",
        )
      : await gw.query(
          "SELECT m.name AS name FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table' AND p.name = 'session_id'",
        );
  return rows.map((row) => String(row.name)).filter((name) => name !== "audit_log");
}

/** Rows of the session in each table that hangs off it, and 1 for the session itself. */
async function rowsOf(sessionId: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of ["sessions", ...(await sessionTables())]) {
    const column = table === "sessions" ? "id" : "session_id";
    const [row] = await gw.query(`SELECT COUNT(*) AS n FROM ${table} WHERE ${column} = ?`, sessionId);
    counts[table] = Number(row?.n);
  }
  return counts;
}

const gone = async (sessionId: string) => Object.values(await rowsOf(sessionId)).every((n) => n === 0);
const kept = async (sessionId: string) => (await rowsOf(sessionId)).sessions === 1;

/** Sweeps on every instance at once; the sessions and audit entries deleted in all. */
async function sweepEverywhere() {
  const runs = await Promise.all([gw.gateway.sweepRetention(), other.sweepRetention()]);
  return {
    sessions: runs.reduce((sum, run) => sum + run.sessions, 0),
    auditEntries: runs.reduce((sum, run) => sum + run.auditEntries, 0),
  };
}

async function retentionEntries() {
  const rows = await gw.query(
    "SELECT at, detail FROM audit_log WHERE action = 'retention.deleted' ORDER BY id",
  );
  return rows.map((row) => ({ at: Number(row.at), detail: JSON.parse(String(row.detail)) as unknown }));
}

/** The counter summed over the instances (each counts what it deleted). */
async function deletedMetric(kind: string): Promise<number> {
  let sum = 0;
  for (const gateway of gateways) {
    const response = await fetch(`${gateway.url}/metrics`, {
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
    });
    const line = new RegExp(`^sos_retention_deleted_total\\{kind="${kind}"\\} (\\d+)$`, "m").exec(
      await response.text(),
    );
    sum += Number(line?.[1] ?? Number.NaN);
  }
  return sum;
}

// --- The sessions, at t0 -------------------------------------------------------------------------

/** Closed at t0, with a row in every table that hangs off a session (but recordings). */
const full = await gw.newSession(tom.client, desk);
const { socket: fullAgent } = await joinAgent(gw.url, { kind: "pin", pin: full.pin });
t.teardown(() => fullAgent.close());
await tom.client.post(`/api/sessions/${full.id}/invite`, { technicianIds: [bob.id] });
await tom.client.post(`/api/sessions/${full.id}/permission`, { access: "view" });
const ask = await fullAgent.next("consent.request");
fullAgent.send({ type: "consent", requestId: ask.requestId, decision: "view" });
await tomConsole.next("session.updated", (m) => m.session.permissions.some((p) => p.state === "granted"));
fullAgent.send({ type: "chat", text: "my printer prints nothing" });
tomConsole.send({ type: "system.request", sessionId: full.id });
const { requestId } = await fullAgent.next("system.request");
fullAgent.send({
  type: "system.info",
  requestId,
  info: {
    os: { platform: "linux", name: "Debian", release: "6.12.0", arch: "x64" },
    hostname: "pc-42",
    user: "enduser",
    agentVersion: "0.1.0",
    uptimeSeconds: 60,
    cpu: { model: "CPU", cores: 2 },
    memory: { totalBytes: 2 ** 30, freeBytes: 2 ** 29 },
    disks: [],
    displays: [],
    network: [],
  },
});
await tomConsole.next("system.info", (m) => m.sessionId === full.id);
await waitUntil(
  async () => ((await rowsOf(full.id)).chat_lines ?? 0) >= 1,
  5_000,
  "the end user's chat line stored",
);
await tom.client.post(`/api/sessions/${full.id}/close`);

/** Waiting, never joined: expires a day after t0. */
const expiring = await gw.newSession(tom.client, desk);
/** Waiting, deleted at t0 (a live session deleted ends with it). */
const deleted = await gw.newSession(tom.client, desk);
await tom.client.delete(`/api/sessions/${deleted.id}`);
/** Active all along, its agent connected: never deleted, however old. */
const live = await gw.newSession(tom.client, desk);
const { socket: liveAgent } = await joinAgent(gw.url, { kind: "pin", pin: live.pin });
t.teardown(() => liveAgent.close());
/** Recorded (kept 45 days), closed at t0. */
const withRecording = await gw.newSession(tom.client, recorded);
const { socket: recordedAgent } = await joinAgent(gw.url, { kind: "pin", pin: withRecording.pin });
t.teardown(() => recordedAgent.close());
await tom.client.post(`/api/sessions/${withRecording.id}/permission`, { access: "view" });
const recordedAsk = await recordedAgent.next("consent.request");
recordedAgent.send({ type: "consent", requestId: recordedAsk.requestId, decision: "view" });
await waitUntil(
  async () =>
    (await gw.query("SELECT state FROM session_permissions WHERE session_id = ?", withRecording.id))[0]
      ?.state === "granted",
  5_000,
  "consent stored",
);
const recording = await tom.client.post(`/api/sessions/${withRecording.id}/recordings`);
if (recording.status !== 200) throw new Error(`recording refused: ${JSON.stringify(recording.body)}`);
await tom.client.post(`/api/sessions/${withRecording.id}/close`);

t.test("every table that hangs off a session has rows of the closed one", async (t) => {
  const rows = await rowsOf(full.id);
  for (const [table, n] of Object.entries(rows)) {
    // PostgreSQL's agent_presence names the instance holding a connected agent: empty once it left.
    if (table === "recordings" || table === "agent_presence") continue;
    t.ok(n >= 1, `${table}: ${n}`);
  }
  t.equal(rows.recordings, 0, "and no recording");
  t.equal((await rowsOf(withRecording.id)).recordings, 1, "the recorded one has its recording");
});

t.test("nothing is deleted before its days have passed", async (t) => {
  clock.advance(DAY + MINUTE);
  t.equal(await gw.gateway.sweep(), 1, "the waiting one expired a day after t0");
  clock.advance(19 * DAY);
  // Closed at t0 + 20 days: kept until t0 + 50 days.
  const recent = await gw.newSession(await tomNow(), desk);
  await tom.client.post(`/api/sessions/${recent.id}/close`);
  clock.advance(10 * DAY - 2 * MINUTE);
  t.same(await sweepEverywhere(), { sessions: 0, auditEntries: 0 }, "a minute short of 30 days: kept");
  t.same(await retentionEntries(), [], "a run that deleted nothing is not audited");
  t.ok(await kept(full.id));
});

t.test(
  "30 days after they ended, closed and deleted sessions go with every part, each once however many instances sweep",
  async (t) => {
    clock.advance(2 * MINUTE);
    // A console open now lists the closed session, and drops it when it is deleted.
    const watching = await openConsoleSocket(await tomNow());
    t.teardown(() => watching.close());
    const listed = await watching.next("sessions");
    t.ok(
      listed.sessions.some((session) => session.id === full.id),
      "a console lists the closed session",
    );
    t.same(await sweepEverywhere(), { sessions: 2, auditEntries: 0 }, "two deleted, once");
    await watching.next("session.removed", (m) => m.sessionId === full.id);
    t.pass("and drops it when it is deleted");
    t.ok(
      await gone(full.id),
      "the closed one and its chat, system information, invitations, permissions, clock",
    );
    t.ok(await gone(deleted.id), "the deleted one");
    t.ok(await kept(expiring.id), "the expired one counts from its expiry (a day later)");
    t.ok(await kept(live.id), "the live one stays");
    t.ok(await kept(withRecording.id), "the recorded one stays while its recording is kept");
    t.same(await sweepEverywhere(), { sessions: 0, auditEntries: 0 }, "a later run finds nothing");
    t.equal((await (await tomNow()).get(`/api/sessions/${full.id}`)).status, 404, "the API knows it no more");
    await waitUntil(async () => (await retentionEntries()).length >= 1, 5_000, "the run audited");
    const entries = await retentionEntries();
    t.ok(
      entries.every((entry) => Number((entry.detail as { sessions: number }).sessions) > 0),
      "one entry per run that deleted something",
    );
    t.equal(
      entries.reduce((sum, entry) => sum + Number((entry.detail as { sessions: number }).sessions), 0),
      2,
      "the entries count what was deleted",
    );
    t.match(entries[0]?.detail, {
      sessions: Number,
      endedBefore: new Date(clock.now() - 30 * DAY).toISOString(),
      auditEntries: 0,
    });

    clock.advance(DAY);
    t.same(await sweepEverywhere(), { sessions: 1, auditEntries: 0 }, "a day later the expired one");
    t.ok(await gone(expiring.id));
    t.equal(await deletedMetric("sessions"), 3, "counted in sos_retention_deleted_total");
  },
);

t.test("a recorded session goes once the recordings' retention has deleted its recording", async (t) => {
  clock.advance(15 * DAY);
  // t0 + 46 days: the recording (45 days) is due; the recent session (closed at t0 + 20) is not.
  t.equal(await sweepEverywhere().then((run) => run.sessions), 0, "kept while its recording is");
  t.equal(
    await deletedMetric("recordings"),
    0,
    "no recording counted yet (the label is there from the start)",
  );
  t.equal(await gw.gateway.sweepRecordings(), 1, "the recording deleted by its own retention");
  t.equal(await deletedMetric("recordings"), 1, "counted in sos_retention_deleted_total{kind=recordings}");
  t.equal(await gw.gateway.sweepRecordings(), 0, "a later run finds nothing");
  t.equal(await deletedMetric("recordings"), 1, "and counts nothing");
  t.equal((await sweepEverywhere()).sessions, 1, "then the session");
  t.ok(await gone(withRecording.id));
  t.ok(await kept(live.id), "the live one stays");
  clock.advance(5 * DAY);
  t.equal((await sweepEverywhere()).sessions, 1, "the session closed at t0 + 20 days, 30 days later");
  t.ok(await kept(live.id), "the live one stays, 51 days on");
});

t.test("audit entries older than 365 days go in batches; newer ones stay", async (t) => {
  // Four runs deleted sessions (on PostgreSQL an instance's run may have taken part of one).
  await waitUntil(async () => (await retentionEntries()).length >= 4, 5_000, "every run audited");
  const [last] = await gw.query("SELECT MAX(id) AS id FROM audit_log");
  const oldUntil = Number(last?.id);
  clock.advance(300 * DAY);
  // Written at t0 + 351 days.
  const fresh = await gw.newSession(await tomNow(), desk);
  await tom.client.post(`/api/sessions/${fresh.id}/close`);
  clock.advance(66 * DAY);
  const cutoff = clock.now() - 365 * DAY;
  const [old] = await gw.query("SELECT COUNT(*) AS n FROM audit_log WHERE at <= ?", cutoff);
  const oldCount = Number(old?.n);
  t.ok(oldCount > 10, `${oldCount} entries are old: several batches of 5`);
  const run = await sweepEverywhere();
  t.equal(run.auditEntries, oldCount, "each old entry deleted once");
  t.same(await gw.query("SELECT id FROM audit_log WHERE id <= ?", oldUntil), [], "none left");
  const [newer] = await gw.query("SELECT COUNT(*) AS n FROM audit_log WHERE session_id = ?", fresh.id);
  t.ok(Number(newer?.n) >= 2, "the newer entries stay");
  await waitUntil(
    async () =>
      (await retentionEntries()).some((e) => (e.detail as { auditEntries: number }).auditEntries > 0),
    5_000,
    "the run audited",
  );
  const entries = await retentionEntries();
  t.ok(
    entries.every((entry) => entry.at > cutoff),
    "the earlier runs' own entries aged out like any other",
  );
  t.match(entries.at(-1)?.detail, { auditEntries: Number, auditBefore: new Date(cutoff).toISOString() });
  t.equal(await deletedMetric("audit_entries"), oldCount, "counted in sos_retention_deleted_total");
  t.ok(await kept(live.id), "the live session stays");
});

t.test("a bad retention refuses the start with exit 1 and says why; good ones start", async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), "sos-cli-"));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const base = ["--port", "0", "--host", "127.0.0.1", "--data-dir", dataDir];
  const runs = await Promise.all([
    runGateway([...base, "--session-retention-days", "0"], {}),
    runGateway([...base, "--audit-retention-days", "thirty"], {}),
    runGateway(base, { SOS_SESSION_RETENTION_DAYS: "1.5" }),
    runGateway(base, { SOS_AUDIT_RETENTION_DAYS: "36501" }),
  ]);
  for (const run of runs) {
    t.equal(run.code, 1);
    t.match(run.stderr, /retention-days <days>'.* is invalid\. a whole number of days from 1 to 36500/);
  }
  const good = await runGateway([...base, "--session-retention-days", "30"], {
    SOS_AUDIT_RETENTION_DAYS: "400",
  });
  t.equal(good.code, 0, "good values start (and stop on SIGTERM)");
});

t.test(
  "a run that fails (a row the gateway does not know holds the session) deletes nothing of its batch, shows in health, and is tried again within seconds, not at the next hour",
  async (t) => {
    const faultClock = new TestClock();
    const log = new CapturedLog("info");
    const local = await startTestGateway({
      config: { sessionRetentionDays: 1 },
      options: { clock: faultClock, sweepIntervalMs: 0, log: log.logger },
    });
    t.teardown(() => local.close());
    const alice = await local.technician("Alice");
    const session = await local.newSession(alice.client);
    t.equal((await alice.client.post(`/api/sessions/${session.id}/close`)).status, 200);
    const before = await local.query(
      "SELECT COUNT(*) AS n FROM session_permissions WHERE session_id = ?",
      session.id,
    );
    // Another program's table referencing the session: deleting the session fails on it.
    await local.query("CREATE TABLE foreign_notes (session_id TEXT REFERENCES sessions(id))");
    await local.query("INSERT INTO foreign_notes (session_id) VALUES (?)", session.id);
    faultClock.advance(2 * DAY);
    // Started again: the hourly run's first one is at start.
    await local.restart();
    await waitUntil(
      async () =>
        log.lines.some((l) => l.msg === "job failed; trying again" && l.fields.job === "data retention"),
      10_000,
      "the failed run logged",
    );
    const unhealthy = await fetch(`${local.url}/healthz`);
    t.equal(unhealthy.status, 503, "health says so");
    t.match(await unhealthy.json(), { jobs: [{ job: "data retention" }] });
    t.same(
      await local.query("SELECT COUNT(*) AS n FROM session_permissions WHERE session_id = ?", session.id),
      before,
      "the failed batch deleted none of the session's parts",
    );
    await local.query("DELETE FROM foreign_notes");
    await waitUntil(
      async () => (await local.query("SELECT id FROM sessions WHERE id = ?", session.id)).length === 0,
      10_000,
      "the session deleted by a retry",
    );
    await waitUntil(
      async () => (await fetch(`${local.url}/healthz`)).status === 200,
      10_000,
      "healthy again",
    );
    t.pass("deleted and healthy again within seconds");
  },
);
