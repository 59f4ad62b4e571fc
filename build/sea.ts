import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { basename, join, relative } from "node:path";
import { promisify } from "node:util";
import type { BuildConfig } from "../shared/build-config.ts";
import type { Bundle } from "./bundle.ts";
import { declarePerMonitorDpiAware, stripAuthenticode } from "./pe.ts";

const run = promisify(execFile);

/** The fuse Node's SEA loader looks for (documented, fixed for all Node versions that have SEA). */
const SEA_FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";

type PayloadFile = { asset: string; path: string; source: string; size: number };

function packageFiles(
  name: string,
  dir: string,
  only: readonly string[] | undefined,
): Array<{ path: string; source: string }> {
  if (only !== undefined) {
    return only.map((file) => {
      const source = join(dir, file);
      if (!existsSync(source)) throw new Error(`${name} has no ${file}`);
      return { path: join("node_modules", name, file), source };
    });
  }
  const files: Array<{ path: string; source: string }> = [];
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const full = join(folder, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== "node_modules" && entry.name !== "src" && entry.name !== "test") walk(full);
      } else if (!/\.(d\.ts|map|md|markdown)$/i.test(entry.name) || /^licen[cs]e/i.test(entry.name)) {
        files.push({ path: join("node_modules", name, relative(dir, full)), source: full });
      }
    }
  };
  walk(dir);
  return files;
}

/**
 * Everything the executable extracts at first run, and the hash that names its cache folder:
 * the bundle, the packages (only the files `packageFiles` names of those it names), and `extra`
 * files (path in the folder, source on this machine).
 */
export function payload(
  bundle: Bundle,
  packages: ReadonlyMap<string, string>,
  extra: ReadonlyArray<{ path: string; source: string }> = [],
  only: Readonly<Record<string, readonly string[]>> = {},
): { files: PayloadFile[]; hash: string } {
  const sources = [
    { path: "app.mjs", source: bundle.app },
    ...bundle.workers.map((source) => ({ path: basename(source), source })),
    ...extra,
    ...[...packages].flatMap(([name, dir]) => packageFiles(name, dir, only[name])),
  ];
  const hash = createHash("sha256");
  const files = sources.map((file, index) => {
    const bytes = readFileSync(file.source);
    hash.update(file.path).update("\0").update(bytes);
    return { asset: `file-${index}`, path: file.path, source: file.source, size: bytes.byteLength };
  });
  return { files, hash: hash.digest("hex").slice(0, 32) };
}

/**
 * Writes the SEA blob with `generator` (a Node of the same version as the target binary), copies
 * the target's Node binary and injects the blob with postject.
 */
export async function makeExecutable(options: {
  bundle: Bundle;
  files: PayloadFile[];
  hash: string;
  config: BuildConfig;
  nodeBinary: string;
  generator: string;
  workDir: string;
  output: string;
  platform: NodeJS.Platform;
}): Promise<void> {
  const { workDir } = options;
  mkdirSync(workDir, { recursive: true });
  const manifestPath = join(workDir, "manifest.json");
  const configPath = join(workDir, "config.json");
  writeFileSync(
    manifestPath,
    JSON.stringify({
      hash: options.hash,
      files: options.files.map(({ asset, path, size }) => ({ asset, path, size })),
    }),
  );
  writeFileSync(configPath, JSON.stringify(options.config));
  const blob = join(workDir, "sea.blob");
  const seaConfig = {
    main: options.bundle.bootstrap,
    output: blob,
    disableExperimentalSEAWarning: true,
    useSnapshot: false,
    useCodeCache: false,
    assets: {
      "manifest.json": manifestPath,
      "config.json": configPath,
      ...Object.fromEntries(options.files.map((file) => [file.asset, file.source])),
    },
  };
  const seaConfigPath = join(workDir, "sea-config.json");
  writeFileSync(seaConfigPath, JSON.stringify(seaConfig));
  await run(options.generator, ["--experimental-sea-config", seaConfigPath], { maxBuffer: 16 * 1024 * 1024 });
  // In this build's own folder: a build of the same inputs at once must not write into it.
  const partial = join(workDir, "executable.partial");
  copyFileSync(options.nodeBinary, partial);
  chmodSync(partial, 0o755);
  if (options.platform === "win32") {
    stripAuthenticode(partial);
    declarePerMonitorDpiAware(partial);
  }
  const postject = join("node_modules", ".bin", "postject");
  if (!existsSync(postject)) throw new Error("postject is not installed (npm ci)");
  const args = [partial, "NODE_SEA_BLOB", blob, "--sentinel-fuse", SEA_FUSE];
  if (options.platform === "darwin") args.push("--macho-segment-name", "NODE_SEA");
  await run(postject, args, { maxBuffer: 16 * 1024 * 1024 });
  renameSync(partial, options.output);
}

export function fileSize(path: string): number {
  return statSync(path).size;
}
