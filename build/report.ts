import { createHash } from "node:crypto";
import { createReadStream, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { z } from "zod";

export type BuiltFile = { target: string; file: string; size: number; gzipSize: number; sha256: string };
export type FailedTarget = { target: string; error: string };

/** Size, gzip size and sha256 of a built file, streamed (the files are large). */
export async function measure(target: string, file: string): Promise<BuiltFile> {
  const sha = createHash("sha256");
  await pipeline(
    createReadStream(file),
    new Writable({
      write: (chunk: Buffer, _enc, done) => {
        sha.update(chunk);
        done();
      },
    }),
  );
  let gzipSize = 0;
  await pipeline(
    createReadStream(file),
    createGzip({ level: 6 }),
    new Writable({
      write: (chunk: Buffer, _enc, done) => {
        gzipSize += chunk.byteLength;
        done();
      },
    }),
  );
  return { target, file, size: statSync(file).size, gzipSize, sha256: sha.digest("hex") };
}

const measured = z.object({ size: z.number(), gzipSize: z.number(), sha256: z.string() });

/**
 * The measure of a cached executable (the output is a copy of it), kept beside it as
 * `<file>.measure.json` so an unchanged build does not gzip 150 MB again. Written atomically.
 */
export async function measureOnce(file: string): Promise<z.infer<typeof measured>> {
  const path = `${file}.measure.json`;
  try {
    const kept = measured.parse(JSON.parse(readFileSync(path, "utf8")));
    if (kept.size === statSync(file).size) return kept;
  } catch {
    // Not measured yet (or damaged): measure below.
  }
  const { size, gzipSize, sha256 } = await measure("", file);
  const partial = `${path}.${process.pid}.partial`;
  writeFileSync(partial, JSON.stringify({ size, gzipSize, sha256 }));
  renameSync(partial, path);
  return { size, gzipSize, sha256 };
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

export function table(built: readonly BuiltFile[], failed: readonly FailedTarget[]): string {
  const rows = [
    ["target", "file", "size", "gzip", "sha256"],
    ...built.map((b) => [b.target, b.file, mib(b.size), mib(b.gzipSize), b.sha256]),
    ...failed.map((f) => [f.target, "(not built)", "", "", f.error]),
  ];
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? "").length))) ?? [];
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}
