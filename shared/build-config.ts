import { z } from "zod";
import { MAX_BRAND_LENGTH, MAX_SUPPORT_MESSAGE_LENGTH } from "./limits.ts";
import { plainText } from "./plain-text.ts";

/**
 * The configuration baked into a branded SOS build (a single-executable asset `config.json`).
 * Written by `npm run build:sos`, read by the agent at start; validated on both sides.
 */
export const BUILD_TARGETS = ["linux-x64", "win-x64", "darwin-x64", "darwin-arm64"] as const;
export const buildTargetSchema = z.enum(BUILD_TARGETS);
export type BuildTarget = z.infer<typeof buildTargetSchema>;

/** A few certificates' worth of PEM. */
const MAX_BAKED_CA_LENGTH = 64 * 1024;

const color = z.string().regex(/^#[0-9a-fA-F]{6}$/, "a color like #1f6feb");

export const buildConfigSchema = z.strictObject({
  /** The team gateway the agent joins (http or https, no path beyond the gateway's own). */
  gateway: z.url({ protocol: /^https?$/ }).transform((url) => url.replace(/\/+$/, "")),
  /** The organization's name, shown to the end user and in the file name. */
  brand: z
    .string()
    .trim()
    .min(1)
    .max(MAX_BRAND_LENGTH)
    .regex(/^[\p{L}\p{N} ._-]+$/u, "letters, digits, spaces, dots, dashes and underscores only"),
  /** A line shown to the end user before the session starts. */
  supportMessage: plainText(MAX_SUPPORT_MESSAGE_LENGTH).optional(),
  colors: z.strictObject({ primary: color.optional(), accent: color.optional() }).optional(),
  /** Unique per build: names the extraction cache and identifies the build in the audit log. */
  buildId: z.string().regex(/^[a-z0-9-]{8,64}$/),
  /**
   * A CA (PEM) the agent trusts for the gateway's certificate besides the system's roots: for a
   * gateway whose certificate comes from the team's own CA or is self-signed (`build:sos --ca`).
   */
  ca: z
    .string()
    .max(MAX_BAKED_CA_LENGTH)
    .regex(/^-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----\s*$/, "PEM certificates only")
    .optional(),
  /** The agent version this build carries. */
  version: z.string().max(32),
});
export type BuildConfig = z.infer<typeof buildConfigSchema>;

/** A file name without characters any file system refuses, for `<Brand>-SOS...`. */
export function brandFileStem(brand: string): string {
  const stem = brand.replace(/[^\p{L}\p{N}._-]+/gu, "-").replace(/^-+|-+$/g, "");
  return stem === "" ? "SOS" : stem;
}
