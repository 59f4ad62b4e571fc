import { createHash } from "node:crypto";
import { createReadStream, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { type BuildTarget, buildTargetSchema } from "../../shared/build-config.ts";

/** A branded SOS executable the gateway offers for download. */
export type AvailableBuild = {
  target: BuildTarget;
  /** The file's name in the downloads folder, `<Brand>-SOS-<target>[.exe]`. */
  file: string;
  /** `<Brand>`, used to name the file for the visitor with their session code. */
  stem: string;
  path: string;
  size: number;
  modifiedAt: number;
};

const NAME = /^(.+)-SOS-(linux-x64|win-x64|darwin-x64|darwin-arm64)(\.exe)?$/;

/**
 * The builds in the downloads folder, one per target (the newest wins). Only names that `build:sos`
 * produces are considered; nothing a client sends ever becomes a path here.
 */
export function listBuilds(dir: string): AvailableBuild[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const byTarget = new Map<BuildTarget, AvailableBuild>();
  for (const file of names) {
    const match = NAME.exec(file);
    const target = buildTargetSchema.safeParse(match?.[2]);
    if (match === null || !target.success || (target.data === "win-x64") !== (match[3] === ".exe")) continue;
    const path = join(dir, file);
    const stat = statSync(path, { throwIfNoEntry: false });
    if (stat === undefined || !stat.isFile()) continue;
    const build = {
      target: target.data,
      file,
      stem: match[1] ?? "SOS",
      path,
      size: stat.size,
      modifiedAt: stat.mtimeMs,
    };
    const existing = byTarget.get(target.data);
    if (existing === undefined || existing.modifiedAt < build.modifiedAt) byTarget.set(target.data, build);
  }
  return [...byTarget.values()].sort((a, b) => a.target.localeCompare(b.target));
}

/** The visitor's platform from its User-Agent, as well as a browser tells it. */
export function targetOf(userAgent: string | undefined): BuildTarget | undefined {
  const ua = userAgent ?? "";
  if (/Windows/i.test(ua)) return "win-x64";
  if (/Macintosh|Mac OS X/i.test(ua)) return "darwin-arm64";
  if (/Linux|X11/i.test(ua) && !/Android/i.test(ua)) return "linux-x64";
  return undefined;
}

const digests = new Map<string, { size: number; modifiedAt: number; sha256: Promise<string> }>();

/**
 * A build's SHA-256, streamed off the event loop and remembered while the file keeps its size and
 * date (a rebuilt file is hashed again).
 */
export function buildSha256(build: AvailableBuild): Promise<string> {
  const known = digests.get(build.path);
  if (known !== undefined && known.size === build.size && known.modifiedAt === build.modifiedAt) {
    return known.sha256;
  }
  const sha256 = new Promise<string>((resolve, reject) => {
    const hash = createHash("sha256");
    createReadStream(build.path)
      .on("data", (chunk) => hash.update(chunk))
      .once("error", reject)
      .once("end", () => resolve(hash.digest("hex")));
  });
  digests.set(build.path, { size: build.size, modifiedAt: build.modifiedAt, sha256 });
  sha256.catch(() => digests.delete(build.path));
  return sha256;
}

/** The builds in the downloads folder with their SHA-256. */
export async function listBuildsWithDigests(dir: string): Promise<(AvailableBuild & { sha256: string })[]> {
  return Promise.all(listBuilds(dir).map(async (build) => ({ ...build, sha256: await buildSha256(build) })));
}
