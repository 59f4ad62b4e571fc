import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { z } from "zod";
import { PINNED_VERSIONS, type TargetSpec } from "./targets.ts";

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

/**
 * The version each package of a target must have: what the installed loaders were built against,
 * and the official Node binary at `nodeVersion` (the project's own Node unless a build asks otherwise).
 */
export function requiredVersions(spec: TargetSpec, nodeVersion: string): Map<string, string> {
  const pinned = new Map<string, string>();
  const lookups = [
    installedManifest("node-screenshots"),
    installedManifest("@napi-rs/webcodecs"),
    installedManifest("@nut-tree-fork/libnut"),
    installedManifest("@nut-tree-fork/libnut-linux"),
    installedManifest("bindings"),
    installedManifest("node-datachannel"),
  ];
  for (const name of spec.runtimePackages) {
    const own = installedManifest(name);
    const declared = lookups
      .map((m) => m?.optionalDependencies?.[name] ?? m?.dependencies?.[name])
      .find((v) => v !== undefined);
    const version = declared ?? PINNED_VERSIONS[name] ?? own?.version;
    if (version === undefined) throw new Error(`cannot tell which version of ${name} the agent needs`);
    pinned.set(name, version.replace(/^[\^~=]/, ""));
  }
  pinned.set(spec.nodePackage, nodeVersion);
  return pinned;
}

/** The package of the official Node for this machine, which writes the SEA blob. */
const GENERATOR_PACKAGE = `node-${process.platform === "win32" ? "win" : process.platform}-${process.arch}`;

/** A package at `version` fetched by an earlier build into the cache (packageDir). */
function cachedPackage(name: string, version: string, cacheDir: string): string | undefined {
  const dir = join(cacheDir, "packages", `${name.replace("/", "+")}@${version}`);
  return existsSync(join(dir, "package.json")) ? dir : undefined;
}

/**
 * Which of the target's packages the registry cannot give (empty when all can be had). A package
 * already installed or fetched into the cache was given, so only the others are asked for.
 */
export async function missingPackages(
  spec: TargetSpec,
  nodeVersion: string,
  cacheDir: string,
): Promise<string[]> {
  const wanted = requiredVersions(spec, nodeVersion);
  if (nodeVersion !== process.versions.node) wanted.set(GENERATOR_PACKAGE, nodeVersion);
  const asked = [...wanted].filter(
    ([name, version]) =>
      !(name !== spec.nodePackage && installedManifest(name)?.version === version) &&
      !isOwnNode(name, version) &&
      cachedPackage(name, version, cacheDir) === undefined,
  );
  // Asked all at once: each `npm view` is a second or more of start-up and a round trip.
  const answers = await Promise.all(
    asked.map(async ([name, version]) => {
      try {
        const { stdout } = await run("npm", ["view", `${name}@${version}`, "version"], { timeout: 60_000 });
        return stdout.trim() === "" ? `${name}@${version}` : undefined;
      } catch {
        return `${name}@${version}`;
      }
    }),
  );
  return answers.filter((name) => name !== undefined);
}

/** The Node running this build is the binary of the node-<host> package at its own version. */
function isOwnNode(name: string, version: string): boolean {
  return name === GENERATOR_PACKAGE && version === process.versions.node;
}

/** A package's folder: the installed one when its version matches, else fetched with `npm pack`. */
export async function packageDir(name: string, version: string, cacheDir: string): Promise<string> {
  if (installedManifest(name)?.version === version) return join("node_modules", name);
  const cached = cachedPackage(name, version, cacheDir);
  if (cached !== undefined) return cached;
  const dir = join(cacheDir, "packages", `${name.replace("/", "+")}@${version}`);
  // Fetched and unpacked in a folder of this call's own, then renamed into place whole: another
  // build at once must never take a half-unpacked folder (its package.json is there early) for
  // the package, nor unpack over this one's.
  mkdirSync(join(cacheDir, "downloads"), { recursive: true });
  const downloads = mkdtempSync(join(cacheDir, "downloads", "pack-"));
  try {
    const { stdout } = await run(
      "npm",
      ["pack", `${name}@${version}`, "--pack-destination", downloads, "--silent"],
      {
        timeout: 600_000,
        maxBuffer: 1024 * 1024,
      },
    );
    const tarball = join(downloads, stdout.trim().split("\n").at(-1) ?? "");
    const unpacked = join(downloads, "package");
    mkdirSync(unpacked);
    await run("tar", ["-xzf", tarball, "-C", unpacked, "--strip-components=1"]);
    // A folder without package.json is what an older, interrupted build left: replaced.
    if (cachedPackage(name, version, cacheDir) === undefined) rmSync(dir, { recursive: true, force: true });
    mkdirSync(join(cacheDir, "packages"), { recursive: true });
    try {
      renameSync(unpacked, dir);
    } catch (error) {
      // Another build put the same package there first: that one is used.
      if (cachedPackage(name, version, cacheDir) === undefined) throw error;
    }
    return dir;
  } finally {
    rmSync(downloads, { recursive: true, force: true });
  }
}

/** The official Node binary for a target at `nodeVersion`. */
export async function nodeBinary(spec: TargetSpec, cacheDir: string, nodeVersion: string): Promise<string> {
  if (isOwnNode(spec.nodePackage, nodeVersion)) {
    // The project's own Node 24 is the binary of the node-<host> package (installed by `node`).
    return process.execPath;
  }
  const dir = await packageDir(spec.nodePackage, nodeVersion, cacheDir);
  return join(dir, spec.nodeBinary);
}

/**
 * The Node that writes the SEA blob: it must be the same version as the target's binary. This one
 * when the versions match, else the registry's node-<host> package at that version.
 */
export async function blobGenerator(cacheDir: string, nodeVersion: string): Promise<string> {
  if (nodeVersion === process.versions.node) return process.execPath;
  const dir = await packageDir(GENERATOR_PACKAGE, nodeVersion, cacheDir);
  return join(dir, "bin", process.platform === "win32" ? "node.exe" : "node");
}
