/** Bundles the technician console (signaling/console) into signaling/public/assets with esbuild. */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { build, type Plugin } from "esbuild";

const entry = "signaling/console/main.tsx";
if (!existsSync(entry)) {
  console.log("build-console: no console sources yet");
  process.exit(0);
}

/**
 * zod re-exports every one of its ~50 message locales as `z.locales`, which defeats tree shaking
 * (about half of the bundle). The console only shows zod's English messages (in the log), so the
 * locale index is replaced by English alone.
 */
const zodEnglishOnly: Plugin = {
  name: "zod-english-only",
  setup(builder) {
    builder.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      args.importer.includes(`${"node_modules"}/zod/`)
        ? { path: resolve("signaling/console/lib/zod-locales.ts") }
        : undefined,
    );
  },
};

await build({
  entryPoints: [entry],
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: true,
  sourcemap: true,
  jsx: "automatic",
  jsxImportSource: "preact",
  outdir: "signaling/public/assets",
  entryNames: "console",
  logLevel: "warning",
  plugins: [zodEnglishOnly],
});
console.log("build-console: signaling/public/assets/console.js");
