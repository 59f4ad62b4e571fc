/**
 * `npm run bench:build`: the branded linux-x64 executable's size (and what makes it up), and its
 * start-up time to "Waiting for your technician": cold (first run, extracting) and warm, against
 * plain `node --version` and the unpackaged agent (`node agent/cli.ts`) measured in the same run.
 * Prints a table and writes bench-results/build.json. Options: --runs N (default 5).
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { startTestGateway } from "../tests/helpers/gateway.ts";
import { startXvfb } from "../tests/helpers/xvfb.ts";

const runsArg = process.argv.indexOf("--runs");
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 5;
const work = mkdtempSync(join(tmpdir(), "sos-bench-build-"));
const xvfb = await startXvfb({ width: 1280, height: 720 });
const gw = await startTestGateway();
const session = await gw.newSession(gw.admin);

function timeToLine(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  pattern: RegExp,
): Promise<number> {
  const started = performance.now();
  const child = spawn(command, args, { env, stdio: ["pipe", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${command}: no ${pattern} within 30 s`));
    }, 30_000);
    createInterface({ input: child.stdout }).on("line", (line) => {
      if (!pattern.test(line)) return;
      const ms = performance.now() - started;
      clearTimeout(timer);
      child.kill("SIGKILL");
      resolve(ms);
    });
    child.once("exit", () => {
      clearTimeout(timer);
      reject(new Error(`${command} exited before ${pattern}`));
    });
  });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

process.stderr.write("bench:build: building (this takes a while)\n");
const built = await new Promise<number | null>((resolve) => {
  const child = spawn(
    process.execPath,
    [
      "build/cli.ts",
      "--gateway",
      gw.url,
      "--brand",
      "Bench",
      "--out",
      join(work, "dist"),
      "--cache",
      join(work, "cache"),
    ],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  child.once("exit", resolve);
});
if (built !== 0) throw new Error("build:sos failed");
const executable = join(work, "dist", "Bench-SOS-linux-x64");

const env = (cache: string) => ({
  PATH: "/usr/bin:/bin",
  HOME: work,
  LANG: "C.UTF-8",
  DISPLAY: xvfb.env.DISPLAY,
  SOS_CACHE_DIR: cache,
});
const waiting = /Waiting for your technician/;
const cold: number[] = [];
const warm: number[] = [];
const source: number[] = [];
const nodeVersion: number[] = [];
for (let run = 0; run < RUNS; run += 1) {
  const cache = join(work, `cache-${run}`);
  cold.push(await timeToLine(executable, [session.pin], env(cache), waiting));
  warm.push(await timeToLine(executable, [session.pin], env(cache), waiting));
  source.push(
    await timeToLine(
      process.execPath,
      ["agent/cli.ts", session.pin, "--gateway", gw.url],
      { ...process.env, DISPLAY: xvfb.env.DISPLAY },
      waiting,
    ),
  );
  nodeVersion.push(await timeToLine(process.execPath, ["--version"], process.env, /^v\d+/));
}

const extracted = join(work, "cache-0", readdirSync(join(work, "cache-0"))[0] ?? "");
const sizeOf = (path: string): number => {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(path).reduce((sum, entry) => sum + sizeOf(join(path, entry)), 0);
};
const mib = (bytes: number) => Number((bytes / 1024 / 1024).toFixed(1));
const parts = {
  nodeBinaryMiB: mib(statSync(process.execPath).size),
  agentBundleMiB: mib(
    readdirSync(extracted)
      .filter((name) => name.endsWith(".mjs"))
      .reduce((sum, name) => sum + sizeOf(join(extracted, name)), 0),
  ),
  ...Object.fromEntries(
    readdirSync(join(extracted, "node_modules"), { withFileTypes: true }).flatMap((entry) =>
      entry.name.startsWith("@")
        ? readdirSync(join(extracted, "node_modules", entry.name)).map((sub) => [
            `${entry.name}/${sub} MiB`,
            mib(sizeOf(join(extracted, "node_modules", entry.name, sub))),
          ])
        : [[`${entry.name} MiB`, mib(sizeOf(join(extracted, "node_modules", entry.name)))]],
    ),
  ),
};
const result = {
  runs: RUNS,
  executableMiB: mib(statSync(executable).size),
  coldStartMedianMs: Math.round(median(cold)),
  warmStartMedianMs: Math.round(median(warm)),
  sourceAgentStartMedianMs: Math.round(median(source)),
  nodeVersionMedianMs: Math.round(median(nodeVersion)),
  warmToSourceRatio: Number((median(warm) / median(source)).toFixed(2)),
  coldToWarmRatio: Number((median(cold) / median(warm)).toFixed(2)),
  sizeParts: parts,
};
console.table(
  Object.entries({ ...result, sizeParts: undefined })
    .filter(([, v]) => v !== undefined)
    .map(([metric, value]) => ({ metric, value })),
);
console.table(Object.entries(parts).map(([part, size]) => ({ part, size })));
mkdirSync("bench-results", { recursive: true });
writeFileSync("bench-results/build.json", `${JSON.stringify(result, null, 2)}\n`);
console.log("wrote bench-results/build.json (gzip sizes: see build:sos's table)");
await gw.close();
await xvfb.stop();
rmSync(work, { recursive: true, force: true });
