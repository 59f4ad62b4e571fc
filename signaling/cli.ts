#!/usr/bin/env node
/**
 * `sos-gateway` / `npm start`: starts the team gateway with its console on the embedded store.
 * Exit codes: 0 stopped by a signal, 1 could not start (bad settings, port in use, ...).
 * `sos-gateway backup|restore ...` are the store's commands (backup/backup-cli.ts, its own exit codes).
 */
import { Command, InvalidArgumentError, Option } from "commander";
import { z } from "zod";
import { flattenIssues } from "../shared/errors.ts";
import { BACKUP_COMMANDS, BACKUP_HELP, runBackupCommand } from "./backup/backup-cli.ts";
import { MAX_RETENTION_DAYS } from "./domain/retention.ts";
import { type Gateway, startGateway } from "./main.ts";
import { readSecretFile } from "./secret-file.ts";
import type { CertificateInfo } from "./tls.ts";
import { DEFAULT_TURN_TTL_SECONDS } from "./turn/relay.ts";

if (BACKUP_COMMANDS.includes(process.argv[2] ?? ""))
  process.exit(await runBackupCommand(process.argv.slice(2)));

/** A comma-separated list in one value or repeated flags, as `--ice-url` and `--turn-url` take them. */
function urlList(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...value.split(",").filter(Boolean)];
}

function portNumber(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new InvalidArgumentError("a port from 0 to 65535");
  return port;
}

/** A retention in days, as `--session-retention-days` and `--audit-retention-days` take it. */
function days(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < 1 || n > MAX_RETENTION_DAYS)
    throw new InvalidArgumentError(`a whole number of days from 1 to ${MAX_RETENTION_DAYS}`);
  return n;
}

const program = new Command()
  .name("sos-gateway")
  .description("The SOS team gateway: Service Desk console, REST API and WebRTC signaling.")
  .addOption(
    new Option("--port <port>", "port to listen on").env("SOS_PORT").default(8080).argParser(portNumber),
  )
  .addOption(new Option("--host <host>", "address to listen on").env("SOS_HOST").default("0.0.0.0"))
  .addOption(
    new Option("--data-dir <dir>", "where the SQLite store lives").env("SOS_DATA_DIR").default("./data"),
  )
  .addOption(
    new Option(
      "--database-url <url>",
      "keep everything in PostgreSQL instead of SQLite (postgres://user:password@host:5432/db)",
    ).env("SOS_DATABASE_URL"),
  )
  .addOption(
    new Option("--public-url <url>", "the address users reach (links are built on it)").env("SOS_PUBLIC_URL"),
  )
  .addOption(
    new Option(
      "--downloads-dir <dir>",
      "branded SOS builds offered to end users (default <data-dir>/downloads)",
    ).env("SOS_DOWNLOADS_DIR"),
  )
  .addOption(
    new Option(
      "--recordings-dir <dir>",
      "session recordings (default <data-dir>/recordings; shared storage when several gateways share a database)",
    ).env("SOS_RECORDINGS_DIR"),
  )
  .addOption(
    new Option(
      "--build-cache <dir>",
      "build:sos --cache for SOS builds started from the console (default <data-dir>/build-cache)",
    ).env("SOS_BUILD_CACHE"),
  )
  .addOption(
    new Option(
      "--build-ca <file>",
      "a CA (PEM) baked into every SOS build started from the console, for a gateway whose certificate a private CA signed",
    ).env("SOS_BUILD_CA"),
  )
  .addOption(new Option("--org-name <name>", "organization name shown to end users").env("SOS_ORG_NAME"))
  .addOption(
    new Option("--ice-url <url...>", "STUN/TURN server URLs handed to peers")
      .env("SOS_ICE_URLS")
      .argParser(urlList),
  )
  .addOption(
    new Option(
      "--turn-url <url...>",
      "TURN relay (coturn) URLs, handed out per remote view with a fresh credential",
    )
      .env("SOS_TURN_URLS")
      .argParser(urlList),
  )
  .addOption(
    new Option("--turn-secret <secret>", "the secret shared with coturn (static-auth-secret)").env(
      "SOS_TURN_SECRET",
    ),
  )
  .addOption(
    new Option("--turn-secret-file <file>", "read the TURN secret from this file (trimmed)").env(
      "SOS_TURN_SECRET_FILE",
    ),
  )
  .addOption(
    new Option("--turn-ttl <seconds>", "how long a minted TURN credential is valid")
      .env("SOS_TURN_TTL")
      .default(DEFAULT_TURN_TTL_SECONDS)
      .argParser((value: string) => {
        const n = Number(value);
        if (!Number.isInteger(n) || n < 1)
          throw new InvalidArgumentError("a positive whole number of seconds");
        return n;
      }),
  )
  .addOption(
    new Option(
      "--trust-proxy <addresses...>",
      "the reverse proxy's addresses or ranges whose X-Forwarded-* headers are believed (e.g. 127.0.0.1)",
    )
      .env("SOS_TRUST_PROXY")
      .argParser(urlList),
  )
  .addOption(
    new Option(
      "--tls-cert <file>",
      "serve https with this certificate (PEM, full chain); reloaded on SIGHUP",
    ).env("SOS_TLS_CERT"),
  )
  .addOption(new Option("--tls-key <file>", "the certificate's private key (PEM)").env("SOS_TLS_KEY"))
  .addOption(
    new Option("--api-rate-limit <n>", "API requests per minute per address before RATE_LIMITED")
      .env("SOS_API_RATE_LIMIT")
      .default(600)
      .argParser((value: string) => {
        const n = Number(value);
        if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("a positive whole number");
        return n;
      }),
  )
  .addOption(
    new Option(
      "--session-retention-days <days>",
      "delete ended sessions (with their chat and system information) this many days after they ended (default: keep)",
    )
      .env("SOS_SESSION_RETENTION_DAYS")
      .argParser(days),
  )
  .addOption(
    new Option("--audit-retention-days <days>", "delete audit entries this many days old (default: keep)")
      .env("SOS_AUDIT_RETENTION_DAYS")
      .argParser(days),
  )
  .addOption(
    new Option("--license <features>", "licensed features: attended-access or none")
      .env("SOS_LICENSE")
      .choices(["attended-access", "none"])
      .default("attended-access"),
  )
  .addOption(
    new Option(
      "--metrics-token <token>",
      "serve GET /metrics to scrapers sending Authorization: Bearer <token> (16+ characters)",
    ).env("SOS_METRICS_TOKEN"),
  )
  .addOption(
    new Option("--metrics-token-file <file>", "read the metrics token from this file (trimmed)").env(
      "SOS_METRICS_TOKEN_FILE",
    ),
  )
  .addOption(
    new Option("--metrics-listen <host:port>", "serve GET /metrics on a listener of its own").env(
      "SOS_METRICS_LISTEN",
    ),
  )
  .addOption(
    new Option("--log-level <level>", "log level")
      .env("SOS_LOG_LEVEL")
      .choices(["fatal", "error", "warn", "info", "debug", "trace", "silent"])
      .default("info"),
  )
  .version("0.1.0")
  .showHelpAfterError()
  .addHelpText("after", BACKUP_HELP);

program.parse();
const flags = z
  .object({
    port: z.number(),
    host: z.string(),
    dataDir: z.string(),
    databaseUrl: z.string().optional(),
    downloadsDir: z.string().optional(),
    recordingsDir: z.string().optional(),
    buildCache: z.string().optional(),
    buildCa: z.string().optional(),
    publicUrl: z.string().optional(),
    orgName: z.string().optional(),
    iceUrl: z.array(z.string()).optional(),
    turnUrl: z.array(z.string()).optional(),
    turnSecret: z.string().optional(),
    turnSecretFile: z.string().optional(),
    turnTtl: z.number(),
    trustProxy: z.array(z.string()).optional(),
    tlsCert: z.string().optional(),
    tlsKey: z.string().optional(),
    license: z.string(),
    apiRateLimit: z.number(),
    sessionRetentionDays: z.number().optional(),
    auditRetentionDays: z.number().optional(),
    logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]),
    metricsToken: z.string().optional(),
    metricsTokenFile: z.string().optional(),
    metricsListen: z.string().optional(),
  })
  .parse(program.opts());

const adminEmail = process.env.SOS_ADMIN_EMAIL;
const adminPassword = process.env.SOS_ADMIN_PASSWORD;

let gateway: Gateway;
try {
  if (flags.turnSecret !== undefined && flags.turnSecretFile !== undefined) {
    throw new Error("turnSecret: give --turn-secret or --turn-secret-file, not both");
  }
  if (flags.metricsToken !== undefined && flags.metricsTokenFile !== undefined) {
    throw new Error("metricsToken: give --metrics-token or --metrics-token-file, not both");
  }
  if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined)) {
    throw new Error("tls: give --tls-cert and --tls-key together");
  }
  const turnSecret =
    flags.turnSecretFile === undefined
      ? flags.turnSecret
      : readSecretFile("turnSecretFile", flags.turnSecretFile);
  const metricsToken =
    flags.metricsTokenFile === undefined
      ? flags.metricsToken
      : readSecretFile("metricsTokenFile", flags.metricsTokenFile);
  gateway = await startGateway({
    port: flags.port,
    host: flags.host,
    dataDir: flags.dataDir,
    ...(flags.databaseUrl === undefined ? {} : { databaseUrl: flags.databaseUrl }),
    ...(flags.publicUrl === undefined ? {} : { publicUrl: flags.publicUrl }),
    ...(flags.orgName === undefined ? {} : { organizationName: flags.orgName }),
    ...(flags.downloadsDir === undefined ? {} : { downloadsDir: flags.downloadsDir }),
    ...(flags.recordingsDir === undefined ? {} : { recordingsDir: flags.recordingsDir }),
    ...(flags.buildCache === undefined ? {} : { buildCacheDir: flags.buildCache }),
    ...(flags.buildCa === undefined ? {} : { buildCaFile: flags.buildCa }),
    ...(adminEmail !== undefined && adminPassword !== undefined
      ? {
          admin: {
            email: adminEmail,
            password: adminPassword,
            name: process.env.SOS_ADMIN_NAME ?? "Administrator",
          },
        }
      : {}),
    license: { attendedAccess: flags.license === "attended-access" },
    iceUrls: flags.iceUrl ?? [],
    turnUrls: flags.turnUrl ?? [],
    ...(turnSecret === undefined ? {} : { turnSecret }),
    turnTtlSeconds: flags.turnTtl,
    trustProxy: flags.trustProxy ?? [],
    ...(flags.tlsCert === undefined || flags.tlsKey === undefined
      ? {}
      : { tls: { certFile: flags.tlsCert, keyFile: flags.tlsKey } }),
    logLevel: flags.logLevel,
    apiRateLimit: flags.apiRateLimit,
    ...(flags.sessionRetentionDays === undefined ? {} : { sessionRetentionDays: flags.sessionRetentionDays }),
    ...(flags.auditRetentionDays === undefined ? {} : { auditRetentionDays: flags.auditRetentionDays }),
    ...(metricsToken === undefined ? {} : { metricsToken }),
    ...(flags.metricsListen === undefined ? {} : { metricsListen: flags.metricsListen }),
  });
} catch (error) {
  const reason =
    error instanceof z.ZodError
      ? flattenIssues(error.issues)
          .map((issue) => `${issue.path}: ${issue.message}`)
          .join("; ")
      : error instanceof Error
        ? error.message
        : String(error);
  process.stderr.write(`sos-gateway: could not start: ${reason}\n`);
  process.exit(1);
}

process.stdout.write(`SOS gateway ready. Console: ${gateway.publicUrl}/ (listening on ${gateway.url})\n`);
if (gateway.metricsUrl !== undefined) process.stdout.write(`Metrics: ${gateway.metricsUrl}\n`);
if (gateway.setupToken !== undefined) {
  process.stdout.write(
    `No admin yet. Create the first one with this one-time token:\n  ${gateway.publicUrl}/setup?token=${gateway.setupToken}\n  or POST ${gateway.publicUrl}/api/setup {"token":"${gateway.setupToken}","email":...,"name":...,"password":...}\n`,
  );
}

if (gateway.certificate !== undefined) {
  process.stdout.write(`TLS: ${describe(gateway.certificate)}. Reload it with SIGHUP.\n`);
}

/** One line about a certificate: whose, until when, which. */
function describe(certificate: CertificateInfo): string {
  return `${certificate.subject}, valid until ${certificate.validTo}, sha256 ${certificate.fingerprint256}`;
}

// SIGHUP: read the certificate and key again (after a renewal). Open sockets stay; a pair that does
// not load leaves the previous one in place. Without TLS there is nothing to reload (and SIGHUP
// does not end the gateway).
process.on("SIGHUP", () => {
  if (gateway.certificate === undefined) {
    process.stderr.write("sos-gateway: SIGHUP: no TLS certificate to reload (not serving https)\n");
    return;
  }
  try {
    process.stdout.write(`TLS certificate reloaded: ${describe(gateway.reloadTls())}\n`);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    process.stderr.write(
      `sos-gateway: TLS certificate NOT reloaded, still serving the previous one: ${reason}\n`,
    );
  }
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    process.stdout.write("sos-gateway: stopping\n");
    void gateway.close().then(() => process.exit(0));
  });
}
