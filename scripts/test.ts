/**
 * The test command (`npm test`): installs the system packages the suite needs, builds the console,
 * starts a throwaway PostgreSQL (scripts/postgres-process.ts), runs every tap test file, runs the
 * gateway's test files (tests/gateway/) a second time with every gateway on PostgreSQL
 * (SOS_TEST_STORE=postgres, a fresh database per gateway: tests/helpers/postgres.ts), and ends
 * with the plain line `N passed, N failed` that CI reads. If PostgreSQL cannot start, the run
 * fails and says why; nothing is skipped.
 *
 * Order: first every file outside tests/gateway/ one at a time (browsers, the agent, encoders,
 * builds: they need the machine's CPU and some measure time), then the gateway's files on SQLite
 * and on PostgreSQL side by side, two tap runs at once (each one file at a time: a gateway and its
 * clients in one process, light enough that two share CI's two cores; the PostgreSQL run's TAP is
 * printed when it ends, so the two do not interleave). Files that depend on neither the store nor
 * the machine's quiet (STORE_INDEPENDENT_FILES, UNIT_FILES) run once, in a third tap run that
 * starts when the first of those two ends and takes its place.
 *
 * Extra arguments are passed to tap (for example a test file to run alone); then there is one
 * run only, with PostgreSQL available and SOS_TEST_STORE as the environment gives it.
 */
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { startPostgres, stopPostgres } from "./postgres-process.ts";

const setup = spawnSync("bash", ["scripts/setup-system.sh"], { stdio: "inherit" });
if (setup.status !== 0) {
  console.error("test: installing the system packages failed (scripts/setup-system.sh)");
  process.exit(1);
}
const build = spawnSync(process.execPath, ["scripts/build-console.ts"], { stdio: "inherit" });
if (build.status !== 0) {
  console.error("test: building the console failed (scripts/build-console.ts)");
  process.exit(1);
}

// The run's temporary folder: PostgreSQL's cluster (the postgres user runs the server and we may
// be root: the folder must be reachable), tap's save lists and Node's compile cache.
const pgDir = mkdtempSync(join(tmpdir(), "sos-test-postgres-"));
chmodSync(pgDir, 0o755);
const cluster = join(pgDir, "pg");
const stop = () => {
  try {
    stopPostgres(cluster);
  } catch (error) {
    console.error(
      `test: stopping PostgreSQL failed: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  rmSync(pgDir, { recursive: true, force: true });
};
let postgresUrl: string;
try {
  postgresUrl = (await startPostgres(cluster, { fast: true })).url;
} catch (error) {
  console.error(
    `test: PostgreSQL could not start, so the PostgreSQL tests cannot run: ${error instanceof Error ? error.message : String(error)}`,
  );
  stop();
  console.log("0 passed, 1 failed");
  process.exit(1);
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    stop();
    process.exit(1);
  });
}

/**
 * Gateway test files that would run unchanged in the PostgreSQL pass: they start `sos-gateway`
 * from the command line without a database URL (cli, durability, metrics-cli), every test in them
 * is about the SQLite file itself (store-faults: its write lock, a failing disk; backup-restore:
 * `sos-gateway backup` copies gateway.db, PostgreSQL is backed up with its own tools), or they start
 * no gateway at all (deploy-files, jobs). The PostgreSQL store's own fault tests are in tests/postgres/.
 */
const SQLITE_ONLY_FILES = [
  "tests/gateway/backup-restore.test.ts",
  "tests/gateway/cli.test.ts",
  "tests/gateway/deploy-files.test.ts",
  "tests/gateway/durability.test.ts",
  "tests/gateway/jobs.test.ts",
  "tests/gateway/metrics-cli.test.ts",
  "tests/gateway/store-faults.test.ts",
];

/**
 * Gateway test files that must not run at the same time as their other store's run: they share
 * something outside their own temporary folders. console-builds builds into the shared build cache
 * (node_modules/.cache/sos-build, filled by tests/build/sos-build.test.ts): its SQLite run goes
 * with the files run one at a time before the two side-by-side runs.
 */
const NOT_BESIDE_ITS_OTHER_STORE = ["tests/gateway/console-builds.test.ts"];

/**
 * Files that run once, in a third tap run started as soon as the first of the two side-by-side runs
 * ends, so that neither side waits on the longer one alone:
 * - gateway files that do not depend on the store (they start `sos-gateway` from the command line
 *   without a database URL, or give every gateway `sqliteOnly`, or start none): SOS_TEST_STORE
 *   changes nothing in them (it is read by tests/helpers/postgres.ts only);
 * - the agent's pure unit files: no process, X server, network or clock of their own (a second
 *   each, mostly tap's start-up), which the files run one at a time need not wait for.
 */
const STORE_INDEPENDENT_FILES = [
  "tests/gateway/cli.test.ts",
  "tests/gateway/deploy-files.test.ts",
  "tests/gateway/durability.test.ts",
  "tests/gateway/jobs.test.ts",
  "tests/gateway/metrics-cli.test.ts",
  "tests/gateway/store-faults.test.ts",
];
const UNIT_FILES = [
  "tests/agent/bitrate.test.ts",
  "tests/agent/cli-options.test.ts",
  "tests/agent/control-limits.test.ts",
  "tests/agent/cursor-look.test.ts",
  "tests/agent/desktop-watch.test.ts",
  "tests/agent/ffmpeg-binary.test.ts",
  "tests/agent/file-names.test.ts",
  "tests/agent/frame-rate-limit.test.ts",
  "tests/agent/hello-step.test.ts",
  "tests/agent/i420.test.ts",
  "tests/agent/inert-text.test.ts",
  "tests/agent/monitor-geometry.test.ts",
  "tests/agent/pacer.test.ts",
  "tests/agent/palette-pack.test.ts",
  "tests/agent/path-watch.test.ts",
  "tests/agent/screen-decode.test.ts",
  "tests/agent/screen-model.test.ts",
  "tests/agent/screen-ops.test.ts",
  "tests/agent/screen-path.test.ts",
  "tests/agent/screen-tiles.test.ts",
  "tests/agent/screen-wire.test.ts",
  "tests/agent/screen-writer.test.ts",
  "tests/agent/scroll-search.test.ts",
  "tests/agent/target.test.ts",
  "tests/agent/terminal.test.ts",
  "tests/agent/top-off.test.ts",
  "tests/agent/video-codec.test.ts",
  "tests/agent/video-pixels.test.ts",
  "tests/agent/win32-cursor-image.test.ts",
];

type Outcome = { passed: number; failed: number; ok: boolean };

/**
 * A tap run over `files` that may start while another tap run is going: tap clears
 * .tap/processinfo when it starts unless it runs a `--save` list, and clearing it under a running
 * tap, which writes a file there per test process, can fail (ENOTEMPTY) and end the new run before
 * its first file. So such a run gets its files as a save list too (the same files; tap writes the
 * failed ones back to that file, which goes with the PostgreSQL folder).
 */
function besideOthers(files: readonly string[], name: string): string[] {
  const saveFile = join(pgDir, `${name}.tap-save`);
  writeFileSync(saveFile, `${files.join("\n")}\n`);
  return [`--save=${saveFile}`, ...files];
}

/**
 * One tap run, its TAP echoed as it comes, or all at once under the line `# <heldAs>` when the run
 * ends; counts subtests, files that failed without a failed subtest, and a run that failed without
 * either (tap itself ended early: its files did not all run).
 */
function runTap(args: readonly string[], env: NodeJS.ProcessEnv, heldAs?: string): Promise<Outcome> {
  const tap = spawn("tap", ["--reporter=tap", ...args], { stdio: ["ignore", "pipe", "inherit"], env });
  let passed = 0;
  let failed = 0;
  let fileFailedWithoutSubtest = 0;
  let subtestFailedInFile = false;
  const heldLines: string[] = [];
  const lines = createInterface({ input: tap.stdout });
  lines.on("line", (line) => {
    if (heldAs !== undefined) heldLines.push(line);
    else console.log(line);
    // Subtests of a file are indented by four spaces; the file itself by none.
    if (/^ {4}ok \d+/.test(line)) passed += 1;
    else if (/^ {4}not ok \d+/.test(line)) {
      failed += 1;
      subtestFailedInFile = true;
    } else if (/^not ok \d+/.test(line)) {
      if (!subtestFailedInFile) fileFailedWithoutSubtest += 1;
      subtestFailedInFile = false;
    } else if (/^ok \d+/.test(line)) {
      subtestFailedInFile = false;
    }
  });
  return new Promise((resolve) => {
    tap.once("error", (error) => {
      console.error(`test: tap could not run: ${error.message}`);
      resolve({ passed: 0, failed: 1, ok: false });
    });
    tap.on("close", (code) => {
      if (heldAs !== undefined) console.log(`# ${heldAs}\n${heldLines.join("\n")}`);
      failed += fileFailedWithoutSubtest;
      if (code !== 0 && failed === 0) {
        console.error(`test: a tap run ended with code ${code} and no failed test: counted as a failure`);
        failed = 1;
      }
      resolve({ passed, failed, ok: code === 0 && failed === 0 });
    });
  });
}

/**
 * Node's compile cache (type-stripped TypeScript and V8 code) for every Node process of the run:
 * tap, each test file, and the agents, gateways and builds the tests start load the same modules
 * again and again (tls.test.ts: 28.8 s without, 23.7 s with a cold cache, 17.2 s with a warm one).
 * Fresh for each run, in the run's temporary folder; one the environment names is used instead.
 */
const compileCache = process.env.NODE_COMPILE_CACHE ?? join(pgDir, "node-compile-cache");
const args = process.argv.slice(2);
const env = { ...process.env, SOS_TEST_POSTGRES_URL: postgresUrl, NODE_COMPILE_CACHE: compileCache };
const runs: Outcome[] = [];
if (args.length > 0) {
  runs.push(await runTap(args, env));
} else {
  const testFiles = (dir: string) =>
    readdirSync(dir, { recursive: true, encoding: "utf8" })
      .filter((file) => file.endsWith(".test.ts"))
      .map((file) => join(dir, file))
      .sort();
  const allFiles = testFiles("tests");
  const gatewayFiles = testFiles("tests/gateway");
  const afterFirst = allFiles.filter(
    (file) => STORE_INDEPENDENT_FILES.includes(file) || UNIT_FILES.includes(file),
  );
  const alone = allFiles.filter(
    (file) =>
      (!gatewayFiles.includes(file) || NOT_BESIDE_ITS_OTHER_STORE.includes(file)) &&
      !afterFirst.includes(file),
  );
  const sqliteBeside = gatewayFiles.filter((file) => !alone.includes(file) && !afterFirst.includes(file));
  const again = gatewayFiles.filter(
    (file) => !SQLITE_ONLY_FILES.includes(file) && !afterFirst.includes(file),
  );
  const sqlite = { ...env, SOS_TEST_STORE: "sqlite" };
  console.log(`# One file at a time, every gateway on SQLite: ${alone.length} files`);
  runs.push(await runTap(alone, sqlite));
  console.log(
    `# Side by side: the gateway's test files on SQLite (${sqliteBeside.length} files, TAP below as it comes) and again with every gateway on PostgreSQL (SOS_TEST_STORE=postgres; ${again.length} files, TAP printed when that run ends); not again (they run sos-gateway on SQLite or test the SQLite file itself): ${SQLITE_ONLY_FILES.join(", ")}; once the first of the two ends, ${afterFirst.length} files that need neither (TAP printed when they end): ${afterFirst.join(", ")}`,
  );
  const sideBySide = [
    runTap(besideOthers(sqliteBeside, "sqlite"), sqlite),
    runTap(
      besideOthers(again, "postgres"),
      { ...env, SOS_TEST_STORE: "postgres" },
      "The gateway's test files with every gateway on PostgreSQL (run beside the SQLite files above):",
    ),
  ];
  await Promise.race(sideBySide);
  const third = runTap(
    besideOthers(afterFirst, "third"),
    sqlite,
    "Files independent of the store and pure unit files, run once the first side-by-side run ended:",
  );
  runs.push(...(await Promise.all([...sideBySide, third])));
}
stop();

const passed = runs.reduce((sum, run) => sum + run.passed, 0);
const failed = runs.reduce((sum, run) => sum + run.failed, 0);
console.log(`${passed} passed, ${failed} failed`);
process.exit(runs.every((run) => run.ok) && failed === 0 && passed > 0 ? 0 : 1);
