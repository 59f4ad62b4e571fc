import { readdirSync, statSync } from "node:fs";
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
