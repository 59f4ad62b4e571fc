import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { type BuildOptions, build, type Plugin } from "esbuild";
import { type EncoderSpec, EXTERNAL_PACKAGES } from "./targets.ts";

/** Files the executable carries besides the native packages, all made by esbuild. */
export type Bundle = { app: string; workers: readonly string[]; bootstrap: string };

/**
 * The agent's worker threads: each is a file of its own, named in its owner's source as
 * `new URL("./<name>.ts", import.meta.url)`; in the bundle it sits beside app.mjs as <name>.mjs.
 */
const WORKERS = [
  {
    name: "capture-worker",
    source: "agent/media/capture-worker.ts",
    owner: /agent[\\/]media[\\/]screen-stream\.ts$/,
  },
  { name: "input-worker", source: "agent/input/input-worker.ts", owner: /agent[\\/]input[\\/]injector\.ts$/ },
] as const;

const workerUrls: Plugin = {
  name: "sos-worker-urls",
  setup(builder) {
    for (const worker of WORKERS) {
      const named = `"./${worker.name}.ts"`;
      builder.onLoad({ filter: worker.owner }, async (args) => {
        const source = await readFile(args.path, "utf8");
        if (!source.includes(named)) {
          throw new Error(`build: ${args.path} no longer names ${named}; update build/bundle.ts`);
        }
        return { contents: source.replaceAll(named, `"./${worker.name}.mjs"`), loader: "ts" };
      });
    }
  },
};

/**
 * Targets that carry an FFmpeg executable bundle agent/media/encoder-backend-ffmpeg.ts where the
 * capture worker imports encoder-backend.ts: the WebCodecs adapter and its addon stay out.
 */
const ffmpegBackend: Plugin = {
  name: "sos-ffmpeg-encoder-backend",
  setup(builder) {
    const replacement = resolve("agent/media/encoder-backend-ffmpeg.ts");
    builder.onResolve({ filter: /^\.\/encoder-backend\.ts$/ }, (args) => {
      if (!/agent[\\/]media$/.test(args.resolveDir)) return undefined;
      return { path: replacement };
    });
  },
};

// CommonJS dependencies inside an ES module bundle need a real `require` (and __dirname); it also resolves the
// external native packages from the extraction folder's node_modules.
const REQUIRE_BANNER = [
  'import { createRequire as __sosCreateRequire } from "node:module";',
  'import { fileURLToPath as __sosFileURLToPath } from "node:url";',
  "const require = __sosCreateRequire(import.meta.url);",
  // Some CommonJS dependencies (jimp's font plugin, under nut-js) read __dirname at load time.
  "const __filename = __sosFileURLToPath(import.meta.url);",
  'const __dirname = __sosFileURLToPath(new URL(".", import.meta.url));',
].join(" ");

/** Bundles the agent (with the encoder backend `encoder` needs), its workers and the SEA bootstrap into `outDir`. */
export async function bundleAgent(outDir: string, encoder: EncoderSpec["kind"]): Promise<Bundle> {
  const common: BuildOptions = {
    bundle: true,
    platform: "node",
    target: "node24",
    external: [...EXTERNAL_PACKAGES],
    legalComments: "none",
    logLevel: "warning",
    minify: true,
    sourcemap: false,
  };
  await build({
    ...common,
    entryPoints: {
      app: "build/sea-app.ts",
      ...Object.fromEntries(WORKERS.map((worker) => [worker.name, worker.source])),
    },
    outdir: outDir,
    outExtension: { ".js": ".mjs" },
    format: "esm",
    banner: { js: REQUIRE_BANNER },
    plugins: encoder === "ffmpeg-exe" ? [workerUrls, ffmpegBackend] : [workerUrls],
  });
  await build({
    ...common,
    entryPoints: ["build/sea-bootstrap.ts"],
    outfile: join(outDir, "bootstrap.cjs"),
    format: "cjs",
  });
  return {
    app: join(outDir, "app.mjs"),
    workers: WORKERS.map((worker) => join(outDir, `${worker.name}.mjs`)),
    bootstrap: join(outDir, "bootstrap.cjs"),
  };
}
