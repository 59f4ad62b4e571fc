import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Bundle } from "./bundle.ts";

const MODULE = "@napi-rs/webcodecs";

/** The names the bundle imports from @napi-rs/webcodecs (esbuild keeps the import as written). */
export function importedNames(sources: readonly string[]): string[] {
  const names = new Set<string>();
  const clause = /import\s*\{([^}]*)\}\s*from\s*"@napi-rs\/webcodecs"/g;
  for (const source of sources) {
    for (const match of source.matchAll(clause)) {
      for (const part of (match[1] ?? "").split(",")) {
        const name = part
          .trim()
          .split(/\s+as\s+/)[0]
          ?.trim();
        if (name !== undefined && /^[A-Za-z_$][\w$]*$/.test(name) && name !== "default") names.add(name);
      }
    }
  }
  return [...names].sort();
}

/**
 * A stand-in for @napi-rs/webcodecs on targets whose encoder is something else (win-x64 carries
 * ffmpeg.exe): the agent's encoder module imports the addon at load time, and without a module of
 * that name the executable could not even print its version. Every export throws when used, with a
 * message that says the encoder adapter for this platform is not written yet.
 */
export function writeEncoderPlaceholder(bundle: Bundle, dir: string, target: string): string {
  const sources = [bundle.app, ...bundle.workers].map((file) => readFileSync(file, "utf8"));
  const message = `no video encoder adapter for ${target} yet (the build carries the encoder; agent/media/encoder.ts does not drive it)`;
  const lines = [
    `// Placeholder written by build/encoder-placeholder.ts for ${target}; not the real ${MODULE}.`,
    `const message = ${JSON.stringify(message)};`,
    "function unavailable() { throw new Error(message); }",
    ...importedNames(sources).map((name) => `export function ${name}() { unavailable(); }`),
  ];
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({ name: MODULE, version: "0.0.0-placeholder", type: "module", main: "index.js" }),
  );
  writeFileSync(join(dir, "index.js"), `${lines.join("\n")}\n`);
  return dir;
}
