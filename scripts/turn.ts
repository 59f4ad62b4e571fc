/**
 * `npm run turn`: a local coturn for development and tests, with the product's config
 * (scripts/coturn-config.ts): TURN REST auth with a shared secret, UDP+TCP on --port, TLS on
 * --tls-port with a certificate from a throwaway CA, no TCP relay, no relay into internal addresses.
 * Prints the TURN URLs and the secret the gateway needs, stays in the foreground, stops coturn on
 * SIGINT/SIGTERM. Exit codes: 0 stopped by a signal, 1 coturn failed or ended, 2 bad options.
 */
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { networkInterfaces, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Command, InvalidArgumentError } from "commander";
import { turnUrls } from "./coturn-config.ts";
import { makeTurnCertificate, startCoturn } from "./coturn-process.ts";

function port(flag: string) {
  return (value: string): number => {
    const parsed = Number(value);
    if (Number.isInteger(parsed) && parsed >= 1 && parsed <= 65_535) return parsed;
    throw new InvalidArgumentError(`${flag} must be a whole number from 1 to 65535, not ${value}`);
  };
}

function collect(value: string, previous: readonly string[]): readonly string[] {
  return [...previous, value];
}

/** The first non-internal IPv4 address of this host, for the printed URLs. */
function defaultHost(): string {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) {
      if (address.family === "IPv4" && !address.internal) return address.address;
    }
  }
  return "127.0.0.1";
}

const program = new Command("turn")
  .description("Start a local coturn with the product's TURN config (foreground; Ctrl+C stops it).")
  .option("--port <port>", "UDP and TCP listener", port("--port"), 3478)
  .option(
    "--tls-port <port>",
    "TLS listener (443 for networks that allow nothing else)",
    port("--tls-port"),
    5349,
  )
  .option("--secret <secret>", "shared secret for TURN REST credentials (or SOS_TURN_SECRET; else generated)")
  .option("--realm <realm>", "TURN realm", "sos")
  .option("--host <host>", "the address clients reach, used in the printed URLs and the certificate")
  .option("--listening-ip <ip>", "address to listen on (repeatable; default all)", collect, [])
  .option("--dir <dir>", "where the config, certificate and pid file go (default a new temp folder)")
  .option(
    "--allow-loopback-peers",
    "let the relay reach 127.0.0.1 and ::1: for tests that need it, never in production",
  )
  .option("--verbose", "coturn logs each allocation, permission and refusal")
  .exitOverride((error) => {
    process.exit(error.exitCode === 0 ? 0 : 2);
  });
program.parse();
const options = program.opts<{
  port: number;
  tlsPort: number;
  secret?: string;
  realm: string;
  host?: string;
  listeningIp: readonly string[];
  dir?: string;
  allowLoopbackPeers?: boolean;
  verbose?: boolean;
}>();

if (options.port === options.tlsPort) {
  console.error("turn: --port and --tls-port must differ");
  process.exit(2);
}
const given = options.secret ?? process.env.SOS_TURN_SECRET;
if (given !== undefined && given.length < 16) {
  console.error("turn: the secret must be at least 16 characters");
  process.exit(2);
}
const secret = given ?? randomBytes(24).toString("base64url");
const host = options.host ?? defaultHost();
const dir = options.dir ? resolve(options.dir) : await mkdtemp(join(tmpdir(), "sos-turn-"));
await mkdir(dir, { recursive: true });

const hostIsIp = /^[\d.]+$/.test(host) || host.includes(":");
const certificate = await makeTurnCertificate(dir, {
  dns: hostIsIp ? ["localhost"] : [host, "localhost"],
  ips: hostIsIp ? [host, "127.0.0.1"] : ["127.0.0.1"],
});
const coturn = await startCoturn({
  dir,
  verbose: options.verbose === true,
  config: {
    secret,
    realm: options.realm,
    port: options.port,
    tlsPort: options.tlsPort,
    certFile: certificate.certFile,
    keyFile: certificate.keyFile,
    pidFile: join(dir, "turnserver.pid"),
    listeningIps: options.listeningIp,
    allowLoopbackPeers: options.allowLoopbackPeers === true,
  },
}).catch((error: unknown) => {
  console.error(`turn: coturn did not start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});

const urls = turnUrls(host, options.port, options.tlsPort);
console.log(`coturn ready (config ${coturn.configFile})`);
console.log("Gateway settings (README, docs/deploy-turn.md):");
for (const url of urls) console.log(`  --turn-url ${url}`);
if (given === undefined)
  console.log(`  --turn-secret ${secret}   (generated; pass --secret or SOS_TURN_SECRET to keep one)`);
else console.log(`  --turn-secret: the secret from ${options.secret ? "--secret" : "SOS_TURN_SECRET"}`);
console.log(
  `TLS certificate signed by ${certificate.caFile} (trust it: NODE_EXTRA_CA_CERTS, or certutil for Chromium)`,
);
if (options.allowLoopbackPeers === true)
  console.log("WARNING: loopback peers allowed (--allow-loopback-peers): tests only");
console.log("Ctrl+C stops it.");

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void coturn
      .stop()
      .then(() => (options.dir === undefined ? rm(dir, { recursive: true, force: true }) : undefined))
      .then(() => process.exit(0));
  });
}
coturn.process.once("exit", (code, signal) => {
  if (stopping) return;
  console.error(
    `turn: coturn ended on its own (${code ?? signal}):\n${coturn.log().split("\n").slice(-15).join("\n")}`,
  );
  process.exit(1);
});
