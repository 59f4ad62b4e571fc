/**
 * Which FFmpeg executable the agent runs, if any:
 * - `SOS_FFMPEG` (a path): use that FFmpeg instead of WebCodecs (development, tests, benchmarks);
 * - else `ffmpeg.json` beside the bundle, written by the build for targets that carry an FFmpeg
 *   executable (win-x64: ffmpeg.exe, extracted with the addons into the per-user cache folder; see
 *   build/sea-bootstrap.ts). It names the file and its SHA-256, which is checked once per agent
 *   process before the first start: the cache folder is writable by the user's programs, and a
 *   damaged or replaced executable is refused with a message that says how to get a fresh one.
 */
import { createHash } from "node:crypto";
import { closeSync, existsSync, openSync, readFileSync, readSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { AgentError } from "../exit.ts";
import type { FfmpegCommand } from "./ffmpeg-process.ts";

export const FFMPEG_ENV = "SOS_FFMPEG";
/** The file the build writes beside the bundle (build/build.ts). */
export const FFMPEG_MANIFEST = "ffmpeg.json";

export const ffmpegManifestSchema = z.object({
  /** Relative to the folder of the manifest. */
  path: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type FfmpegManifest = z.infer<typeof ffmpegManifestSchema>;

/** The SHA-256 of a file, read in pieces (ffmpeg.exe is 64 MB). */
export function fileSha256(path: string): string {
  const hash = createHash("sha256");
  const piece = Buffer.alloc(1 << 20);
  const fd = openSync(path, "r");
  try {
    for (let read = readSync(fd, piece); read > 0; read = readSync(fd, piece))
      hash.update(piece.subarray(0, read));
  } finally {
    closeSync(fd);
  }
  return hash.digest("hex");
}

const verified = new Map<string, string>();

/** The FFmpeg a manifest names, after checking its hash (once per path and process). */
export function verifiedFfmpeg(manifestPath: string): FfmpegCommand {
  const manifest = ffmpegManifestSchema.parse(JSON.parse(readFileSync(manifestPath, "utf8")));
  const folder = dirname(manifestPath);
  const file = join(folder, manifest.path);
  if (verified.get(file) !== manifest.sha256) {
    const actual = existsSync(file) ? fileSha256(file) : "missing";
    if (actual !== manifest.sha256) {
      throw new AgentError(
        "internal",
        `The video encoder ${file} is damaged or was replaced (SHA-256 ${actual.slice(0, 16)}, expected ${manifest.sha256.slice(0, 16)}). Delete the folder ${folder} and start the program again.`,
      );
    }
    verified.set(file, manifest.sha256);
  }
  return { file };
}

/** Where the FFmpeg to run comes from: SOS_FFMPEG, else a build's manifest beside the bundle. */
function ffmpegSource(bundleUrl: string): { file: string } | { manifest: string } | undefined {
  const override = process.env[FFMPEG_ENV];
  if (override !== undefined && override !== "") return { file: override };
  const manifest = join(dirname(fileURLToPath(bundleUrl)), FFMPEG_MANIFEST);
  return existsSync(manifest) ? { manifest } : undefined;
}

/** Whether the agent encodes with FFmpeg (as configuredFfmpeg decides), without checking the file. */
export function ffmpegConfigured(bundleUrl: string): boolean {
  return ffmpegSource(bundleUrl) !== undefined;
}

/**
 * The FFmpeg to run: SOS_FFMPEG, else the one the build put beside `bundleUrl` (pass
 * `import.meta.url` of the module that ends up in the bundle's folder), else undefined.
 */
export function configuredFfmpeg(bundleUrl: string): FfmpegCommand | undefined {
  const source = ffmpegSource(bundleUrl);
  if (source === undefined || "file" in source) return source;
  return verifiedFfmpeg(source.manifest);
}
