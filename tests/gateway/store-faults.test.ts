import { mkdtempSync, rmSync } from "node:fs";
import { statfs } from "node:fs/promises";
import { connect, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t from "tap";
import { messagesFor } from "../../agent/session/messages.ts";
import { SignalingClient } from "../../agent/session/signaling-client.ts";
import { SosError } from "../../shared/errors.ts";
import { RecordingFiles } from "../../signaling/recordings/recording-files.ts";
import { openSqliteStore } from "../../signaling/store/sqlite-store.ts";
import {
  errorCode,
  field,
  joinAgent,
  openConsoleSocket,
  startTestGateway,
  TEST_DEVICE,
  TestClock,
  type TestGateway,
} from "../helpers/gateway.ts";
import { CapturedLog, deadline, hello } from "../helpers/security.ts";
import { holdWriteLock, LoopDisk } from "../helpers/store-faults.ts";

/**
 * A failing store never takes the gateway down (issue 10, defects 1, 2, 6): another process holding
 * SQLite's write lock, and a disk that stops taking writes (root: a loop-mounted ext4 filesystem).
 */

const dbOf = (gw: TestGateway) => join(gw.dataDir, "gateway.db");

/** Resolves once the captured log has a line matching `match` (checked as lines arrive). */
function logged(log: CapturedLog, match: (line: CapturedLog["lines"][number]) => boolean, what: string) {
  return deadline(
    new Promise<void>((resolve) => {
      const check = () => (log.lines.some(match) ? resolve() : setImmediate(check));
      check();
    }),
    what,
    10_000,
  );
}

async function health(gw: TestGateway) {
  const response = await fetch(`${gw.url}/healthz`);
  return {
    status: response.status,
    body: (await response.json()) as { ok: boolean; jobs: { job: string }[] },
  };
}

t.test(
  "the resume-grace timer meeting a database locked by another process (SQLite): the gateway stays up, says so in health, retries, and the session falls back to Waiting once the lock is gone",
  async (t) => {
    const log = new CapturedLog("info");
    const gw = await startTestGateway({ sqliteOnly: true, options: { resumeGraceMs: 200, log: log.logger } });
    t.teardown(() => gw.close());
    const alice = await gw.technician("Alice");
    const session = await gw.newSession(alice.client);
    const consoleSocket = await openConsoleSocket(alice.client);
    t.teardown(() => consoleSocket.close());
    const { socket: agent } = await joinAgent(gw.url, { kind: "pin", pin: session.pin });

    const lock = await holdWriteLock(dbOf(gw));
    t.teardown(() => lock.release());
    agent.close();
    await logged(
      log,
      (line) => line.msg === "job failed; trying again",
      "the grace job's failure in the log",
    );

    const unhealthy = await health(gw);
    t.equal(unhealthy.status, 503, "health says the gateway is not well");
    t.ok(
      unhealthy.body.jobs.some((job) => job.job.startsWith("agent grace")),
      "and names the failing job",
    );
    const read = await alice.client.get(`/api/sessions/${session.id}`);
    t.equal(read.status, 200, "reads are still served");
    t.equal(field(read.body, "session", "status"), "Active", "the session has not changed yet");

    await lock.release();
    await consoleSocket.next(
      "session.updated",
      (m) => m.session.id === session.id && m.session.status === "Waiting",
      10_000,
    );
    t.equal((await health(gw)).status, 200, "healthy again once the retried write went through");
  },
);

t.test(
  "an end user who ends the session while another process holds the database lock (SQLite): the session still falls back to Waiting once the lock is gone",
  async (t) => {
    const gw = await startTestGateway({ sqliteOnly: true });
    t.teardown(() => gw.close());
    const alice = await gw.technician("Alice");
    const session = await gw.newSession(alice.client);
    const consoleSocket = await openConsoleSocket(alice.client);
    t.teardown(() => consoleSocket.close());
    const { socket: agent } = await joinAgent(gw.url, { kind: "pin", pin: session.pin });
    await consoleSocket.next(
      "session.updated",
      (m) => m.session.id === session.id && m.session.status === "Active",
    );

    const lock = await holdWriteLock(dbOf(gw));
    t.teardown(() => lock.release());
    agent.send({ type: "end" });
    await agent.closed;
    const during = await alice.client.get(`/api/sessions/${session.id}`);
    t.equal(field(during.body, "session", "status"), "Active", "nothing could be written yet");
    await lock.release();
    await consoleSocket.next(
      "session.updated",
      (m) => m.session.id === session.id && m.session.status === "Waiting",
      10_000,
    );
    const after = await alice.client.get(`/api/sessions/${session.id}`);
    t.equal(
      field(after.body, "session", "status"),
      "Waiting",
      "the end user's end was written once it could be",
    );
  },
);

t.test(
  "recordings keep the disk's last reserve for the SQLite database (root: loop-mounted filesystem): a chunk that would eat into it is RECORDING_STORAGE_FAILED, the file stays as it was, and the database still writes",
  async (t) => {
    const disk = new LoopDisk();
    t.teardown(() => disk.close());
    const reserve = 12 * 2 ** 20;
    const files = new RecordingFiles(join(disk.dir, "recordings"), reserve);
    const chunk = new Uint8Array(2 ** 20).fill(7);
    let length = 0;
    let refused: unknown;
    // A 32 MiB disk: without a reserve the chunks run on until the disk is full (ENOSPC).
    for (let i = 0; i < 40 && refused === undefined; i += 1) {
      try {
        await files.append("r1", length, chunk);
        length += chunk.length;
      } catch (error) {
        refused = error;
      }
    }
    t.ok(refused instanceof SosError && refused.code === "RECORDING_STORAGE_FAILED", "refused");
    t.equal(await files.size("r1"), length, "the refused chunk left the file as it was");
    const free = await statfs(disk.dir);
    t.ok(
      free.bavail * free.bsize >= reserve - chunk.length,
      `the reserve is left: ${Math.round((free.bavail * free.bsize) / 2 ** 20)} MiB free`,
    );
    const store = openSqliteStore(disk.dir);
    t.teardown(() => store.close());
    await store.appendAudit({
      at: Date.now(),
      actorKind: "system",
      actorId: null,
      actorName: null,
      action: "test.written",
      sessionId: null,
      detail: { filler: "x".repeat(2 ** 20) },
    });
    t.equal((await store.listAudit({ limit: 1 })).length, 1, "the database on the same disk still writes");
  },
);

t.test(
  "a disk that stops taking writes under SQLite (root: loop-mounted filesystem): reads go on, writes answer 503 STORE_UNAVAILABLE and change nothing, health is 503, the expiry sweeper survives, and all comes back with the disk",
  async (t) => {
    const disk = new LoopDisk();
    t.teardown(() => disk.close());
    const clock = new TestClock();
    const log = new CapturedLog("info");
    const gw = await startTestGateway({
      sqliteOnly: true,
      config: { dataDir: disk.dir, sessionExpiryMinutes: 5 },
      options: { clock, sweepIntervalMs: 50, log: log.logger },
    });
    t.teardown(() => gw.close());
    const alice = await gw.technician("Alice");
    const session = await gw.newSession(alice.client);
    const consoleSocket = await openConsoleSocket(alice.client);
    t.teardown(() => consoleSocket.close());
    await consoleSocket.next("sessions");

    disk.failWrites();
    clock.advance(6 * 60 * 1000);
    await logged(
      log,
      (line) => line.msg === "job failed; trying again" && line.fields.job === "expiry sweep",
      "the sweeper's failure in the log",
    );
    const unhealthy = await health(gw);
    t.equal(unhealthy.status, 503, "health reports the failing store");
    t.match(unhealthy.body, { ok: false, store: { ok: false } });

    const list = await alice.client.get("/api/sessions");
    t.equal(list.status, 200, "the session list is still served");
    const create = await alice.client.post("/api/sessions", { channelId: "home", name: "Another" });
    t.equal(create.status, 503);
    t.equal(
      errorCode(create.body),
      "STORE_UNAVAILABLE",
      "a write is refused with a code that says try again",
    );
    t.ok(
      log.lines.some(
        (line) => line.level === 50 && line.msg === "request failed" && line.text.includes("disk I/O error"),
      ),
      "the refused write is logged as the gateway's trouble, with the disk's error as its cause",
    );
    const after = await alice.client.get("/api/sessions");
    t.same(after.body, list.body, "the refused write changed nothing");

    disk.acceptWrites();
    await consoleSocket.next(
      "session.updated",
      (m) => m.session.id === session.id && m.session.status === "Expired",
      10_000,
    );
    t.equal((await health(gw)).status, 200, "healthy again");
    const again = await alice.client.post("/api/sessions", { channelId: "home", name: "Another" });
    t.equal(again.status, 200, "writes work again");
  },
);

t.test(
  "after a BEGIN that failed on a lock, a transaction that fails half-way still leaves none of its rows",
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "sos-store-"));
    const store = openSqliteStore(dir);
    t.teardown(async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const lock = await holdWriteLock(join(dir, "gateway.db"));
    await t.rejects(
      store.transaction(() => store.setSetting("first", "1")),
      { code: "STORE_UNAVAILABLE" },
      "the locked BEGIN fails as unavailable",
    );
    await lock.release();

    await t.rejects(
      store.transaction(async () => {
        await store.setSetting("half", "1");
        throw new Error("half-way");
      }),
      { message: "half-way" },
    );
    t.equal(await store.getSetting("half"), undefined, "the first half was rolled back");
    await store.transaction(() => store.setSetting("whole", "1"));
    t.equal(await store.getSetting("whole"), "1", "and the next transaction commits");
  },
);

t.test(
  "a write the disk refuses reports the disk's error, not a failed ROLLBACK (root: loop-mounted filesystem)",
  async (t) => {
    const disk = new LoopDisk();
    t.teardown(() => disk.close());
    const store = openSqliteStore(disk.dir);
    t.teardown(() => store.close());
    await store.setSetting("before", "1");
    disk.failWrites();
    let error: unknown;
    try {
      await store.transaction(() => store.setSetting("during", "1"));
    } catch (caught) {
      error = caught;
    }
    t.ok(error instanceof SosError && error.code === "STORE_UNAVAILABLE", "unavailable, with a code");
    const cause = error instanceof Error ? error.cause : undefined;
    t.match(cause instanceof Error ? cause.message : "", /disk I\/O error/, "caused by the disk's own error");
    t.equal((await store.health()).ok, false, "the store knows it is failing");
    t.equal(await store.getSetting("before"), "1", "reads still work");

    disk.acceptWrites();
    await store.transaction(() => store.setSetting("after", "1"));
    t.equal((await store.health()).ok, true, "a write that succeeds makes it healthy again");
    t.equal(await store.getSetting("during"), undefined, "the refused write left nothing");
    t.equal(await store.getSetting("after"), "1");
  },
);

t.test(
  "a remote view whose audit write fails (SQLite locked) is not opened: the refusal says try again and no phantom viewer remains",
  async (t) => {
    const gw = await startTestGateway({ sqliteOnly: true });
    t.teardown(() => gw.close());
    const alice = await gw.technician("Alice");
    const session = await gw.newSession(alice.client);
    const consoleSocket = await openConsoleSocket(alice.client);
    t.teardown(() => consoleSocket.close());
    const { socket: agent } = await joinAgent(gw.url, { kind: "pin", pin: session.pin });
    t.teardown(() => agent.close());
    await alice.client.post(`/api/sessions/${session.id}/permission`);
    const request = await agent.next("consent.request");
    agent.send({ type: "consent", requestId: request.requestId, decision: "control" });
    await consoleSocket.next(
      "session.updated",
      (m) => m.session.id === session.id && m.session.permissions.some((p) => p.state === "granted"),
    );

    const lock = await holdWriteLock(dbOf(gw));
    t.teardown(() => lock.release());
    consoleSocket.send({ type: "remote.connect", sessionId: session.id });
    const refused = await consoleSocket.next("error", (m) => m.inReplyTo === "remote.connect");
    t.equal(refused.error.code, "STORE_UNAVAILABLE");
    await lock.release();

    const view = await alice.client.get(`/api/sessions/${session.id}`);
    t.same((view.body as { session: { viewers: string[] } }).session.viewers, [], "nobody is viewing");
    t.equal(
      agent.received.filter((m) => m.type === "peer.open").length,
      0,
      "the agent was not asked to open a peer",
    );
  },
);

t.test(
  "a resume that meets an unavailable store (SQLite locked) is closed with 1013 (try again), and the agent keeps trying until it is back",
  async (t) => {
    const gw = await startTestGateway({ sqliteOnly: true, options: { resumeGraceMs: 30_000 } });
    t.teardown(() => gw.close());
    const alice = await gw.technician("Alice");
    const session = await gw.newSession(alice.client);

    // The gateway's side: a resume hello while another process holds the write lock.
    const first = await joinAgent(gw.url, { kind: "pin", pin: session.pin });
    first.socket.close();
    await first.socket.closed;
    const lock = await holdWriteLock(dbOf(gw));
    const outcome = await hello(gw.url, {
      kind: "resume",
      sessionId: session.id,
      secret: first.welcome.resume.secret,
    });
    t.match(outcome, { ok: false, code: "STORE_UNAVAILABLE", closeCode: 1013 }, "refused with try-again");
    await lock.release();

    // The agent's side: its own signaling client, whose connection a relay cuts once.
    const relay = await startRelay(Number(new URL(gw.url).port));
    t.teardown(() => relay.close());
    const client = new SignalingClient({
      gateway: relay.url,
      join: { kind: "pin", pin: session.pin },
      device: TEST_DEVICE,
      messages: messagesFor("en"),
      backoff: { baseMs: 50, maxMs: 200 },
      graceMs: 30_000,
    });
    t.teardown(() => client.close());
    const failed: string[] = [];
    client.on("failed", (error) => failed.push(error.message));
    await client.connect();

    const held = await holdWriteLock(dbOf(gw));
    t.teardown(() => held.release());
    const refusedTwice = relay.connections(2);
    relay.cut();
    await deadline(refusedTwice, "two resume attempts while the store is locked", 10_000);
    t.same(failed, [], "the agent has not given up");
    const reconnected = new Promise<void>((resolve) => client.once("reconnected", () => resolve()));
    await held.release();
    await deadline(reconnected, "the resume once the lock is gone", 10_000);
    t.same(failed, [], "and came back without giving up");
  },
);

/** A TCP relay in front of the gateway that can cut every connection through it. */
async function startRelay(port: number) {
  const open = new Set<Socket>();
  let count = 0;
  const waiters: Array<{ at: number; resolve: () => void }> = [];
  const server = createServer((inbound) => {
    count += 1;
    for (const waiter of waiters.filter((w) => count >= w.at)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
    const outbound = connect(port, "127.0.0.1");
    for (const socket of [inbound, outbound]) {
      open.add(socket);
      socket.on("close", () => open.delete(socket));
      socket.on("error", () => socket.destroy());
    }
    inbound.pipe(outbound).pipe(inbound);
    inbound.on("close", () => outbound.destroy());
    outbound.on("close", () => inbound.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("relay has no port");
  return {
    url: `http://127.0.0.1:${address.port}`,
    /** Resolves once `more` further connections came in. */
    connections(more: number): Promise<void> {
      return new Promise((resolve) => waiters.push({ at: count + more, resolve }));
    },
    cut(): void {
      for (const socket of open) socket.destroy();
    },
    close(): Promise<void> {
      for (const socket of open) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
