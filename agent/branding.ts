/**
 * A branded build's baked-in settings (the single executable's `config.json` asset, written by
 * `npm run build:sos`): the organization's gateway, so the end user types nothing but the PIN, and
 * its name. The plain agent (`npm run agent`) has none.
 */
import { getAsset, isSea } from "node:sea";
import { type BuildConfig, buildConfigSchema } from "../shared/build-config.ts";

export type BakedConfig = BuildConfig;

let cached: BakedConfig | undefined | null = null;

/** The configuration baked into this build, or undefined for the plain agent. */
export function bakedConfig(): BakedConfig | undefined {
  if (cached !== null) return cached;
  cached = undefined;
  if (!isSea()) return cached;
  // A build with a damaged configuration must not start with half of it.
  cached = buildConfigSchema.parse(JSON.parse(getAsset("config.json", "utf8")));
  return cached;
}
