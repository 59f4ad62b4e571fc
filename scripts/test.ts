/**
 * The test command (`npm test`): installs the system packages the suite needs, builds the console,
 * runs every tap test file, and ends with the plain line `N passed, N failed` that CI reads.
 * Extra arguments are passed to tap (for example a test file to run alone).
 */
import { spawn, spawnSync } from "node:child_process";
import { createInterface } from "node:readline";

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

const args = process.argv.slice(2);
const tap = spawn("tap", ["--reporter=tap", ...args], { stdio: ["ignore", "pipe", "inherit"] });

let passed = 0;
let failed = 0;
let fileFailedWithoutSubtest = 0;
let subtestFailedInFile = false;
const lines = createInterface({ input: tap.stdout });
lines.on("line", (line) => {
  console.log(line);
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

tap.on("close", (code) => {
  failed += fileFailedWithoutSubtest;
  const ok = code === 0 && failed === 0 && passed > 0;
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(ok ? 0 : 1);
});
