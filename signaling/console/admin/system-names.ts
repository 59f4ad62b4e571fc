import type { BuildTarget } from "../../../shared/build-config.ts";

/** The systems' names, as the end user's landing page shows them. */
export const SYSTEM_NAMES = {
  "linux-x64": "Linux",
  "win-x64": "Windows",
  "darwin-x64": "macOS (Intel)",
  "darwin-arm64": "macOS (Apple silicon)",
} as const satisfies Record<BuildTarget, string>;
