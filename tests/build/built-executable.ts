import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { type CertificateAuthority, createCa } from "../../scripts/certificates.ts";

/** The port the test build's baked gateway points at; the test gateway listens there. */
export const BAKED_PORT = 47_913;
export const BAKED_GATEWAY = `http://127.0.0.1:${BAKED_PORT}`;
export const BRAND = "Acme IT";
const CACHE = join("node_modules", ".cache", "sos-build");

/** Whoever made the build CA keeps it this long (it is valid 30 days: scripts/certificates.ts). */
const BUILD_CA_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * The CA baked into the test builds that carry one (baked-ca.test.ts with `--ca`, and the console's
 * builds with `--build-ca` in tests/gateway/console-builds.test.ts, in both stores' runs): one CA
 * kept beside the build cache, so those builds have the same inputs and all but the first reuse
 * its executable instead of building again (a new CA per file made each one a full build). Made in
 * a temporary folder and renamed into place, so files running at once never see half of it.
 */
export async function buildCa(): Promise<CertificateAuthority> {
  const name = "Acme IT CA";
  const dir = join(CACHE, "test-build-ca");
  const ca = { name, certFile: join(dir, "ca.pem"), keyFile: join(dir, "ca.key") };
  const age = statSync(ca.certFile, { throwIfNoEntry: false });
  if (age !== undefined && Date.now() - age.mtimeMs < BUILD_CA_MAX_AGE_MS) return ca;
  mkdirSync(CACHE, { recursive: true });
  const making = mkdtempSync(join(CACHE, "test-build-ca-making-"));
  try {
    await createCa(making, name);
    rmSync(dir, { recursive: true, force: true });
    try {
      renameSync(making, dir);
    } catch (error) {
      // Another file made it first: that one is used.
      if (!existsSync(ca.certFile)) throw error;
    }
  } finally {
    rmSync(making, { recursive: true, force: true });
  }
  return ca;
}

export type CommandResult = { code: number | null; stdout: string; stderr: string };

/** Runs a command to its end, collecting its output. */
export function runCommand(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; signal?: AbortSignal } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      ...(options.signal === undefined ? {} : { signal: options.signal, killSignal: "SIGKILL" as const }),
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (data: Buffer) => {
      stdout += data.toString();
    });
    child.stderr.on("data", (data: Buffer) => {
      stderr += data.toString();
    });
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Builds the branded win-x64 executable with the real `build:sos` command: with the project's
 * Node 24 (what end users get) unless `nodeVersion` asks for another (22.x for tests under Wine).
 */
export async function buildWindows(
  outDir: string,
  extraArgs: readonly string[] = [],
): Promise<{ executable: string; result: CommandResult }> {
  mkdirSync(outDir, { recursive: true });
  const result = await runCommand(process.execPath, [
    "build/cli.ts",
    "--gateway",
    BAKED_GATEWAY,
    "--brand",
    BRAND,
    "--target",
    "win-x64",
    "--out",
    outDir,
    "--cache",
    CACHE,
    ...extraArgs,
  ]);
  const executable = join(outDir, "Acme-IT-SOS-win-x64.exe");
  if (result.code !== 0 || !existsSync(executable)) {
    throw new Error(`build:sos --target win-x64 failed (${result.code}): ${result.stdout}${result.stderr}`);
  }
  return { executable, result };
}

/**
 * The `build:sos` command line of buildOnce (its inputs and cache) for `targets`: a build with these
 * inputs after buildOnce reuses its linux-x64 executable from the cache.
 */
export function buildOnceArgs(outDir: string, targets: readonly string[]): string[] {
  return [
    "build/cli.ts",
    "--gateway",
    BAKED_GATEWAY,
    "--brand",
    BRAND,
    "--support-message",
    "Call 555-0100 if unsure.",
    "--target",
    ...targets,
    "--out",
    outDir,
    "--cache",
    CACHE,
  ];
}

/**
 * Builds the branded linux-x64 executable once with the real `build:sos` command. Its cache
 * (keyed by the inputs' hash) makes a rerun with unchanged sources quick.
 */
export async function buildOnce(
  outDir: string,
  extraArgs: readonly string[] = [],
): Promise<{ executable: string; result: CommandResult }> {
  mkdirSync(outDir, { recursive: true });
  const result = await runCommand(process.execPath, [...buildOnceArgs(outDir, ["linux-x64"]), ...extraArgs]);
  const executable = join(outDir, "Acme-IT-SOS-linux-x64");
  if (result.code !== 0 || !existsSync(executable)) {
    throw new Error(`build:sos failed (${result.code}): ${result.stderr}`);
  }
  return { executable, result };
}
