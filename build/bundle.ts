import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { type BuildOptions, build, type Plugin } from "esbuild";
import { EXTERNAL_PACKAGES } from "./targets.ts";

/** Files the executable carries besides the native packages, all made by esbuild. */
export type Bundle = { app: string; worker: string; bootstrap: string };

// The capture worker is a file of its own; in the bundle it sits beside app.mjs as .mjs.
const WORKER_SOURCE = "./capture-worker.ts";
const workerUrl: Plugin = {
  name: "sos-worker-url",
  setup(builder) {
    builder.onLoad({ filter: /agent[\\/]media[\\/]screen-stream\.ts$/ }, async (args) => {
      const source = await readFile(args.path, "utf8");
      if (!source.includes(`"${WORKER_SOURCE}"`)) {
        throw new Error(`build: ${args.path} no longer names ${WORKER_SOURCE}; update build/bundle.ts`);
      }
      return { contents: source.replaceAll(`"${WORKER_SOURCE}"`, '"./capture-worker.mjs"'), loader: "ts" };
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

/** Bundles the agent, its capture worker and the SEA bootstrap into `outDir`. */
export async function bundleAgent(outDir: string): Promise<Bundle> {
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
    entryPoints: { app: "build/sea-app.ts", "capture-worker": "agent/media/capture-worker.ts" },
    outdir: outDir,
    outExtension: { ".js": ".mjs" },
    format: "esm",
    banner: { js: REQUIRE_BANNER },
    plugins: [workerUrl],
  });
  await build({
    ...common,
    entryPoints: ["build/sea-bootstrap.ts"],
    outfile: join(outDir, "bootstrap.cjs"),
    format: "cjs",
  });
  return {
    app: join(outDir, "app.mjs"),
    worker: join(outDir, "capture-worker.mjs"),
    bootstrap: join(outDir, "bootstrap.cjs"),
  };
}
