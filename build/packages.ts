import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { z } from "zod";
import type { TargetSpec } from "./targets.ts";

const run = promisify(execFile);
const manifestSchema = z.object({
  version: z.string(),
  dependencies: z.record(z.string(), z.string()).optional(),
  optionalDependencies: z.record(z.string(), z.string()).optional(),
});

function installedManifest(name: string) {
  const path = join("node_modules", name, "package.json");
  if (!existsSync(path)) return undefined;
  return manifestSchema.parse(JSON.parse(readFileSync(path, "utf8")));
}

/** The version each package of a target must have: what the installed loaders were built against. */
export function requiredVersions(spec: TargetSpec): Map<string, string> {
  const pinned = new Map<string, string>();
  const lookups = [
    installedManifest("node-screenshots"),
    installedManifest("@napi-rs/webcodecs"),
    installedManifest("@nut-tree-fork/libnut"),
    installedManifest("@nut-tree-fork/libnut-linux"),
    installedManifest("bindings"),
  ];
  for (const name of spec.runtimePackages) {
    const own = installedManifest(name);
    const declared = lookups
      .map((m) => m?.optionalDependencies?.[name] ?? m?.dependencies?.[name])
      .find((v) => v !== undefined);
    const version = declared ?? own?.version;
    if (version === undefined) throw new Error(`cannot tell which version of ${name} the agent needs`);
    pinned.set(name, version.replace(/^[\^~=]/, ""));
  }
  pinned.set(spec.nodePackage, process.versions.node);
  return pinned;
}

/** Which of the target's packages the registry cannot give (empty when all can be had). */
export async function missingPackages(spec: TargetSpec): Promise<string[]> {
  const missing: string[] = [];
  for (const [name, version] of requiredVersions(spec)) {
    if (name !== spec.nodePackage && installedManifest(name)?.version === version) continue;
    if (name === spec.nodePackage && spec.target === hostTarget()) continue;
    try {
      const { stdout } = await run("npm", ["view", `${name}@${version}`, "version"], { timeout: 60_000 });
      if (stdout.trim() === "") missing.push(`${name}@${version}`);
    } catch {
      missing.push(`${name}@${version}`);
    }
  }
  return missing;
}

export function hostTarget(): string {
  const platform = process.platform === "win32" ? "win" : process.platform;
  return `${platform}-${process.arch}`;
}

/** A package's folder: the installed one when its version matches, else fetched with `npm pack`. */
export async function packageDir(name: string, version: string, cacheDir: string): Promise<string> {
  if (installedManifest(name)?.version === version) return join("node_modules", name);
  const dir = join(cacheDir, "packages", `${name.replace("/", "+")}@${version}`);
  if (existsSync(join(dir, "package.json"))) return dir;
  const downloads = join(cacheDir, "downloads");
  mkdirSync(downloads, { recursive: true });
  const { stdout } = await run(
    "npm",
    ["pack", `${name}@${version}`, "--pack-destination", downloads, "--silent"],
    {
      timeout: 600_000,
      maxBuffer: 1024 * 1024,
    },
  );
  const tarball = join(downloads, stdout.trim().split("\n").at(-1) ?? "");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  await run("tar", ["-xzf", tarball, "-C", dir, "--strip-components=1"]);
  return dir;
}

/** The official Node binary for a target, the same version as the Node running this build. */
export async function nodeBinary(spec: TargetSpec, cacheDir: string): Promise<string> {
  if (spec.target === hostTarget()) {
    // The project's own Node 24 is the binary of the node-<host> package (installed by `node`).
    return process.execPath;
  }
  const dir = await packageDir(spec.nodePackage, process.versions.node, cacheDir);
  return join(dir, spec.nodeBinary);
}
