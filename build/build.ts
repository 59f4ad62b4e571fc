import { createHash } from "node:crypto";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { FFMPEG_MANIFEST, type FfmpegManifest, fileSha256 } from "../agent/media/ffmpeg-binary.ts";
import {
  type BuildConfig,
  type BuildTarget,
  brandFileStem,
  buildConfigSchema,
} from "../shared/build-config.ts";
import { type Bundle, bundleAgent } from "./bundle.ts";
import { blobGenerator, missingPackages, nodeBinary, packageDir, requiredVersions } from "./packages.ts";
import { type BuiltFile, type FailedTarget, measure, measureOnce } from "./report.ts";
import { makeExecutable, payload } from "./sea.ts";
import { type SigningIdentity, signWindowsExecutable } from "./sign.ts";
import { type EncoderSpec, TARGETS } from "./targets.ts";

export type BuildRequest = {
  config: Omit<BuildConfig, "buildId" | "version"> & { buildId?: string | undefined };
  targets: readonly BuildTarget[];
  outDir: string;
  /** Intermediate files, registry downloads and finished executables keyed by input hash. */
  cacheDir: string;
  /**
   * The Node version inside the executables (default: the one running the build). Only for tests
   * under Wine, whose Wine 8 cannot run Node 24's node.exe; end users get the project's Node.
   */
  nodeVersion?: string | undefined;
  /** Signs the Windows executables (osslsigncode) when given. */
  sign?: SigningIdentity | undefined;
  progress: (line: string) => void;
};

function agentVersion(): string {
  const source = readFileSync("agent/version.ts", "utf8");
  return /"(\d+\.\d+\.\d+[^"]*)"/.exec(source)?.[1] ?? "0.0.0";
}

/**
 * The bundle for a kind of encoder, made once per build. A bundle for an FFmpeg target must not
 * import the WebCodecs addon, which such a target does not carry: checked here, so a new import
 * of agent/media/encoder.ts fails the build instead of the end user's program.
 */
async function bundleFor(kind: EncoderSpec["kind"], scratch: string): Promise<Bundle> {
  const bundle = await bundleAgent(join(scratch, `bundle-${kind}`), kind);
  if (kind !== "webcodecs") {
    for (const file of [bundle.app, ...bundle.workers]) {
      if (/from\s*"@napi-rs\/webcodecs"/.test(readFileSync(file, "utf8"))) {
        throw new Error(
          `${file} imports @napi-rs/webcodecs; only agent/media/encoder-backend.ts may import encoder.ts`,
        );
      }
    }
  }
  return bundle;
}

/** ffmpeg.json for the extraction folder: where the FFmpeg executable is, and its SHA-256. */
function ffmpegManifest(
  encoder: Extract<EncoderSpec, { kind: "ffmpeg-exe" }>,
  packageDir: string,
  dir: string,
) {
  const manifest: FfmpegManifest = {
    path: `node_modules/${encoder.package}/${encoder.file}`,
    sha256: fileSha256(join(packageDir, encoder.file)),
  };
  mkdirSync(dir, { recursive: true });
  const source = join(dir, FFMPEG_MANIFEST);
  writeFileSync(source, JSON.stringify(manifest));
  return { path: FFMPEG_MANIFEST, source };
}

const WORK_PREFIX = "work-";
/** No build takes this long: a work folder this old was left by a build that was killed (Cancel). */
export const STALE_WORK_MS = 24 * 60 * 60 * 1000;

/** Removes the work folders that killed builds left in the cache (a build's own is removed at its end). */
export function sweepStaleWork(cacheDir: string, now = Date.now()): void {
  for (const entry of readdirSync(cacheDir, { withFileTypes: true })) {
    if (!entry.isDirectory() || !entry.name.startsWith(WORK_PREFIX)) continue;
    const folder = join(cacheDir, entry.name);
    if (now - statSync(folder).mtimeMs > STALE_WORK_MS) rmSync(folder, { recursive: true, force: true });
  }
}

/**
 * Builds one executable per target. A target whose Node binary or native packages the registry
 * cannot give is reported with exactly what is missing; the others still build.
 */
export async function buildSos(
  request: BuildRequest,
): Promise<{ built: BuiltFile[]; failed: FailedTarget[] }> {
  const { cacheDir } = request;
  const nodeVersion = request.nodeVersion ?? process.versions.node;
  mkdirSync(request.outDir, { recursive: true });
  // This build's own intermediate files (bundle, SEA configuration and blob, the executable being
  // injected): another build at once with the same cache (a second gateway instance, the CLI)
  // would otherwise write its configuration into this one's blob. In the cache folder, so the
  // finished executable is renamed into the cache on the same file system.
  mkdirSync(cacheDir, { recursive: true });
  sweepStaleWork(cacheDir);
  const scratch = mkdtempSync(join(cacheDir, WORK_PREFIX));
  try {
    return await buildTargets(request, scratch, nodeVersion);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function buildTargets(
  request: BuildRequest,
  scratch: string,
  nodeVersion: string,
): Promise<{ built: BuiltFile[]; failed: FailedTarget[] }> {
  const { progress, cacheDir } = request;
  const bundles = new Map<EncoderSpec["kind"], Promise<Bundle>>();
  const built: BuiltFile[] = [];
  const failed: FailedTarget[] = [];
  for (const target of request.targets) {
    const spec = TARGETS[target];
    try {
      progress(`${target}: checking the registry for Node ${nodeVersion} and the native packages`);
      const missing = await missingPackages(spec, nodeVersion, cacheDir);
      if (missing.length > 0) throw new Error(`the registry cannot give ${missing.join(", ")}`);
      const versions = requiredVersions(spec, nodeVersion);
      const packages = new Map<string, string>();
      for (const name of spec.runtimePackages) {
        packages.set(name, await packageDir(name, versions.get(name) ?? "", cacheDir));
      }
      const kind = spec.encoder.kind;
      if (!bundles.has(kind)) {
        progress(`bundling the agent with esbuild (${kind} encoder)`);
        bundles.set(kind, bundleFor(kind, scratch));
      }
      const bundle = await (bundles.get(kind) ?? bundleFor(kind, scratch));
      const extra =
        spec.encoder.kind === "ffmpeg-exe"
          ? [
              ffmpegManifest(
                spec.encoder,
                packages.get(spec.encoder.package) ?? "",
                join(scratch, "ffmpeg-manifest", target),
              ),
            ]
          : [];
      const { files, hash } = payload(bundle, packages, extra, spec.packageFiles);
      const bootstrap = readFileSync(bundle.bootstrap);
      const seed = createHash("sha256")
        .update(JSON.stringify({ ...request.config, buildId: undefined }))
        .update(hash)
        .digest("hex");
      const config = buildConfigSchema.parse({
        ...request.config,
        buildId: request.config.buildId ?? seed.slice(0, 16),
        version: agentVersion(),
      });
      const inputKey = createHash("sha256")
        .update(JSON.stringify(config))
        .update(hash)
        .update(bootstrap)
        .update(`${target} ${nodeVersion}`)
        // The code that makes the executable is an input too (an older cache entry may lack a fix).
        .update(readFileSync("build/sea.ts"))
        .update(readFileSync("build/pe.ts"))
        .digest("hex")
        .slice(0, 24);
      const output = join(request.outDir, `${brandFileStem(config.brand)}-SOS-${target}${spec.suffix}`);
      const cached = join(cacheDir, "executables", `${target}-${inputKey}${spec.suffix}`);
      if (existsSync(cached)) {
        progress(`${target}: unchanged inputs, reusing ${cached}`);
      } else {
        progress(`${target}: writing the SEA blob and injecting it into Node ${nodeVersion}`);
        mkdirSync(join(cacheDir, "executables"), { recursive: true });
        await makeExecutable({
          bundle,
          files,
          hash,
          config,
          nodeBinary: await nodeBinary(spec, cacheDir, nodeVersion),
          generator: await blobGenerator(cacheDir, nodeVersion),
          workDir: join(scratch, "sea", target),
          output: cached,
          platform: spec.platform,
        });
      }
      copyFileSync(cached, output);
      if (request.sign !== undefined && spec.platform === "win32") {
        progress(`${target}: signing ${output} with ${request.sign.cert}`);
        await signWindowsExecutable(output, request.sign, `${config.brand} SOS`);
      }
      progress(`${target}: measuring ${output}`);
      built.push(
        request.sign !== undefined && spec.platform === "win32"
          ? await measure(target, output)
          : { ...(await measureOnce(cached)), target, file: output },
      );
    } catch (error) {
      failed.push({ target, error: error instanceof Error ? error.message : String(error) });
      progress(`${target}: not built: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return { built, failed };
}
