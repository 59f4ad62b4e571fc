import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import t from "tap";
import { ApiClient, field } from "../helpers/clients.ts";

/**
 * An acknowledged write survives a power loss (issue 10, defect 8): before the gateway answers a
 * request that wrote, SQLite has synced the write-ahead log to disk. Watched from outside with strace
 * (the gateway's own process, as `npm start` runs it): the fsync/fdatasync calls on gateway.db-wal.
 */

const ADMIN = { email: "durable@example.test", password: "durable-password-1" };

t.test("a created session and its audit row are synced to disk before the gateway answers", async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), "sos-durable-"));
  const trace = join(dataDir, "strace.log");
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const child = spawn(
    "strace",
    ["-f", "-y", "-e", "trace=fsync,fdatasync", "-o", trace, process.execPath, "signaling/cli.ts"],
    {
      env: {
        ...process.env,
        SOS_PORT: "0",
        SOS_HOST: "127.0.0.1",
        SOS_DATA_DIR: dataDir,
        SOS_LOG_LEVEL: "warn",
        SOS_ADMIN_EMAIL: ADMIN.email,
        SOS_ADMIN_PASSWORD: ADMIN.password,
      },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  t.teardown(async () => {
    // strace's child is the gateway: stop it, and strace ends with it.
    const children = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, "utf8")
      .trim()
      .split(/\s+/);
    for (const pid of children) if (pid !== "") process.kill(Number(pid), "SIGTERM");
    await exited;
  });
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).on("line", (line) => {
      const match = /listening on (http:\/\/[^)]+)\)/.exec(line);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    child.once("exit", (code) => reject(new Error(`gateway exited ${code}`)));
  });
  const admin = new ApiClient(url);
  t.equal((await admin.signIn(ADMIN.email, ADMIN.password)).status, 200);

  const walSyncs = () =>
    readFileSync(trace, "utf8")
      .split("\n")
      .filter((line) => /(fsync|fdatasync)\(\d+<[^>]*gateway\.db-wal>\)\s*=\s*0/.test(line)).length;
  const before = walSyncs();
  const created = await admin.post("/api/sessions", { channelId: "home", name: "Durable" });
  t.equal(created.status, 200);
  const after = walSyncs();
  t.ok(after > before, `the WAL was synced before the answer (${before} -> ${after} syncs)`);
  const audit = await admin.get(`/api/audit?sessionId=${field(created.body, "session", "id")}`);
  t.ok(JSON.stringify(audit.body).includes("session.created"), "the audit row is part of the same write");
});
