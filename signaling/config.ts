import { isIP } from "node:net";
import { z } from "zod";
import { DEFAULT_SESSION_EXPIRY_MINUTES, MAX_NAME_LENGTH } from "../shared/limits.ts";
import { plainText } from "../shared/plain-text.ts";
import { MAX_RETENTION_DAYS } from "./domain/retention.ts";
import { MetricsToken } from "./metrics/scrape.ts";
import { DatabaseUrl } from "./store/database-url.ts";
import { DEFAULT_TURN_TTL_SECONDS, MAX_TURN_TTL_SECONDS, turnUrlSchema } from "./turn/relay.ts";
import { TurnSecret } from "./turn/secret.ts";

/** proxy-addr's names for address ranges, as fastify's `trustProxy` takes them. */
const PROXY_RANGE_NAMES = ["loopback", "linklocal", "uniquelocal"] as const;

/** One trusted proxy: an address, a CIDR range, or one of proxy-addr's range names. */
const proxyAddress = z
  .string()
  .trim()
  .refine(
    (value) => {
      if ((PROXY_RANGE_NAMES as readonly string[]).includes(value)) return true;
      const [address = "", bits, ...rest] = value.split("/");
      const family = isIP(address);
      if (family === 0 || rest.length > 0) return false;
      if (bits === undefined) return true;
      const prefix = Number(bits);
      // A /0 range is every address: the same as trusting everyone's headers.
      return /^\d+$/.test(bits) && prefix >= 1 && prefix <= (family === 4 ? 32 : 128);
    },
    {
      error: (issue) =>
        `${JSON.stringify(String(issue.input))} is not a proxy address: give its IP address or range (127.0.0.1, 10.0.0.0/8, loopback), never "trust everyone"`,
    },
  );

/** The gateway's settings: from flags and environment variables (see cli.ts and the README). */
export const gatewayConfigSchema = z
  .object({
    port: z.number().int().min(0).max(65_535).default(8080),
    host: z.string().min(1).default("0.0.0.0"),
    dataDir: z.string().min(1).default("./data"),
    /** PostgreSQL instead of the embedded SQLite store (postgres://user:password@host:port/db). */
    databaseUrl: z
      .string()
      .transform((value, context) => {
        try {
          return new DatabaseUrl(value);
        } catch {
          context.addIssue({
            code: "custom",
            message: "the database URL must look like postgres://user:password@host:5432/database",
          });
          return z.NEVER;
        }
      })
      .optional(),
    /** Branded SOS builds offered on the landing page; default `<dataDir>/downloads`. */
    downloadsDir: z.string().min(1).optional(),
    /** Session recordings' files (`<id>.webm`); default `<dataDir>/recordings`. */
    recordingsDir: z.string().min(1).optional(),
    /** Bundles, registry downloads and finished executables of console builds; default `<dataDir>/build-cache`. */
    buildCacheDir: z.string().min(1).optional(),
    /** A CA (PEM) baked into every console build (`build:sos --ca`), for a gateway behind a private CA. */
    buildCaFile: z.string().min(1).optional(),
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
    /**
     * Ended sessions (Closed, Expired, deleted) and their chat, system information, invitations and
     * permissions are deleted this many days after they ended (signaling/domain/retention.ts);
     * absent: kept forever.
     */
    sessionRetentionDays: z.number().int().min(1).max(MAX_RETENTION_DAYS).optional(),
    /** Audit entries are deleted this many days after they were written; absent: kept forever. */
    auditRetentionDays: z.number().int().min(1).max(MAX_RETENTION_DAYS).optional(),
    /** STUN/TURN URLs handed to peers; empty means host candidates only (same network or loopback). */
    iceUrls: z.array(z.string().min(1)).default([]),
    /**
     * The TURN relay (coturn with `use-auth-secret`): its URLs, handed out only with a credential
     * minted per remote view from `turnSecret`, valid `turnTtlSeconds` at most (signaling/turn/relay.ts).
     * URLs and secret come together or not at all.
     */
    turnUrls: z.array(turnUrlSchema).default([]),
    turnSecret: z
      .string()
      .min(1, "the TURN secret is empty")
      // Every end user is handed a username and its HMAC: a short secret could be guessed offline.
      .min(16, "the TURN secret needs at least 16 characters (openssl rand -base64 32)")
      .transform((value) => new TurnSecret(value))
      .optional(),
    turnTtlSeconds: z.number().int().min(60).max(MAX_TURN_TTL_SECONDS).default(DEFAULT_TURN_TTL_SECONDS),
    /**
     * The reverse proxies whose `X-Forwarded-For` / `-Proto` / `-Host` are believed: a request from
     * one of these addresses is keyed (PIN guard, rate limits, audit) by the address the proxy
     * names; a request from anywhere else by its own address, whatever headers it sends.
     */
    trustProxy: z.array(proxyAddress).default([]),
    /** Serve https with this certificate and key (PEM files), reloaded on SIGHUP (signaling/tls.ts). */
    tls: z.object({ certFile: z.string().min(1), keyFile: z.string().min(1) }).optional(),
    apiRateLimit: z.number().int().positive().default(600),
    logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    /** `GET /metrics` needs `Authorization: Bearer <token>`; with it, the gateway's own listener serves it. */
    metricsToken: z
      .string()
      .min(16, "the metrics token needs at least 16 characters (openssl rand -hex 32)")
      .transform((value) => new MetricsToken(value))
      .optional(),
    /** A listener of its own for `GET /metrics` only (`host:port`, e.g. 127.0.0.1:9464; port 0 picks one). */
    metricsListen: z
      .string()
      .transform((value, context) => {
        const at = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value);
        const port = Number(at?.[3]);
        const host = at?.[1] ?? at?.[2];
        if (host === undefined || !Number.isInteger(port) || port > 65_535) {
          context.addIssue({ code: "custom", message: "host:port, e.g. 127.0.0.1:9464 or [::1]:9464" });
          return z.NEVER;
        }
        return { host, port };
      })
      .optional(),
  })
  .superRefine((config, context) => {
    if (config.turnUrls.length > 0 && config.turnSecret === undefined) {
      context.addIssue({
        code: "custom",
        path: ["turnSecret"],
        message: "a TURN URL needs the relay's secret (--turn-secret or --turn-secret-file)",
      });
    }
    if (config.turnUrls.length === 0 && config.turnSecret !== undefined) {
      context.addIssue({
        code: "custom",
        path: ["turnUrls"],
        message: "a TURN secret needs the relay's URLs (--turn-url)",
      });
    }
  });

export type GatewayConfigInput = z.input<typeof gatewayConfigSchema>;
export type GatewayConfig = z.output<typeof gatewayConfigSchema>;
