import { spawn } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";

/** The port the test build's baked gateway points at; the test gateway listens there. */
export const BAKED_PORT = 47_913;
export const BAKED_GATEWAY = `http://127.0.0.1:${BAKED_PORT}`;
export const BRAND = "Acme IT";
const CACHE = join("node_modules", ".cache", "sos-build");

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
