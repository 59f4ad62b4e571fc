/**
 * The single executable's main script (CommonJS, run by Node's SEA loader). It writes the agent
 * bundle and native addons once into a per-build cache folder, checked by the build's hash, and
 * loads the agent from there. Two copies starting at once are safe: each extracts into a private
 * temporary folder and renames it into place; the loser discards its copy and uses the winner's.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { getAsset, getRawAsset } from "node:sea";
import { QUIET_DEPRECATIONS_ENV } from "../agent/quiet-deprecations.ts";

type Manifest = { hash: string; files: Array<{ asset: string; path: string; size: number }> };

function cacheRoot(): string {
  const override = process.env.SOS_CACHE_DIR;
  if (override !== undefined && override !== "") return override;
  if (process.platform === "win32")
    return join(process.env.LOCALAPPDATA ?? join(homedir(), "AppData", "Local"), "sos-agent");
  if (process.platform === "darwin") return join(homedir(), "Library", "Caches", "sos-agent");
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "sos-agent");
}

function complete(dir: string, hash: string): boolean {
  try {
    return readFileSync(join(dir, ".complete"), "utf8") === hash;
  } catch {
    return false;
  }
}

function extract(manifest: Manifest, root: string, target: string): void {
  mkdirSync(root, { recursive: true });
  const temporary = mkdtempSync(join(root, ".extract-"));
  try {
    for (const file of manifest.files) {
      const destination = join(temporary, file.path);
      mkdirSync(dirname(destination), { recursive: true });
      const bytes = new Uint8Array(getRawAsset(file.asset));
      if (bytes.byteLength !== file.size) throw new Error(`asset ${file.asset} is damaged`);
      writeFileSync(destination, bytes, { mode: 0o755 });
    }
    writeFileSync(join(temporary, ".complete"), manifest.hash);
    try {
      renameSync(temporary, target);
    } catch {
      // Another copy won the race (or an incomplete folder is in the way): use or replace it.
      if (complete(target, manifest.hash)) return;
      rmSync(target, { recursive: true, force: true });
      renameSync(temporary, target);
    }
  } finally {
    rmSync(temporary, { recursive: true, force: true });
  }
}

function start(): void {
  // Deprecation notices from bundled dependencies mean nothing to an end user; the worker threads
  // (agent/quiet-deprecations.ts) learn it from the environment they are given.
  process.noDeprecation = true;
  process.env[QUIET_DEPRECATIONS_ENV] = "1";
  const manifest: Manifest = JSON.parse(getAsset("manifest.json", "utf8"));
  const root = cacheRoot();
  const target = join(root, manifest.hash);
  if (!existsSync(target) || !complete(target, manifest.hash)) extract(manifest, root, target);
  const app = join(target, "app.mjs");
  const load = createRequire(app);
  const agent: { run: () => void } = load(app);
  agent.run();
}

try {
  start();
} catch (error) {
  process.stderr.write(`sos: could not start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
