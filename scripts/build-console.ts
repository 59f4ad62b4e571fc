/** Bundles the technician console (signaling/console) into signaling/public/assets with esbuild. */
import { existsSync } from "node:fs";
import { build } from "esbuild";

const entry = "signaling/console/main.tsx";
if (!existsSync(entry)) {
  console.log("build-console: no console sources yet");
  process.exit(0);
}
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
});
console.log("build-console: signaling/public/assets/console.js");
