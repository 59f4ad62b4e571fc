import { z } from "zod";
import { DEFAULT_SESSION_EXPIRY_MINUTES, MAX_NAME_LENGTH } from "../shared/limits.ts";
import { plainText } from "../shared/plain-text.ts";

/** The gateway's settings: from flags and environment variables (see cli.ts and the README). */
export const gatewayConfigSchema = z.object({
  port: z.number().int().min(0).max(65_535).default(8080),
  host: z.string().min(1).default("0.0.0.0"),
  dataDir: z.string().min(1).default("./data"),
  /** Branded SOS builds offered on the landing page; default `<dataDir>/downloads`. */
  downloadsDir: z.string().min(1).optional(),
  /** The address end users and technicians reach; links are built on it. Default: http://localhost:<port>. */
  publicUrl: z
    .url({ protocol: /^https?$/ })
    .transform((url) => url.replace(/\/+$/, ""))
    .optional(),
  organizationName: plainText(MAX_NAME_LENGTH).pipe(z.string().min(1)).optional(),
  /** The first admin, created on a first start with no accounts. */
  admin: z
    .object({
      email: z.email().transform((email) => email.toLowerCase()),
      password: z.string().min(10, "SOS_ADMIN_PASSWORD needs at least 10 characters"),
      name: plainText(MAX_NAME_LENGTH).pipe(z.string().min(1)).default("Administrator"),
    })
    .optional(),
  license: z.object({ attendedAccess: z.boolean() }).default({ attendedAccess: true }),
  sessionExpiryMinutes: z.number().int().positive().default(DEFAULT_SESSION_EXPIRY_MINUTES),
  /** STUN/TURN URLs handed to peers; empty means host candidates only (same network or loopback). */
  iceUrls: z.array(z.string().min(1)).default([]),
  trustProxy: z.boolean().default(false),
  apiRateLimit: z.number().int().positive().default(600),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

export type GatewayConfigInput = z.input<typeof gatewayConfigSchema>;
export type GatewayConfig = z.output<typeof gatewayConfigSchema>;
