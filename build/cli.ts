/**
 * `npm run build:sos -- --gateway <url> [--brand <name>] [--target <t> ...] [--out dist/]`:
 * branded SOS executables with the gateway baked in. Exit codes: 0 every target built,
 * 1 some target could not be built (the table says why), 2 bad options or configuration.
 */
import { readFileSync } from "node:fs";
import { Command, Option } from "commander";
import { z } from "zod";
import { BUILD_TARGETS, buildConfigSchema, buildTargetSchema } from "../shared/build-config.ts";
import { flattenIssues } from "../shared/errors.ts";
import { buildSos } from "./build.ts";
import { table } from "./report.ts";
import { isPkcs12 } from "./sign.ts";

const program = new Command()
  .name("build:sos")
  .description("Build branded SOS executables with the team gateway baked in.")
  .requiredOption("--gateway <url>", "the team gateway the agent joins")
  .option("--brand <name>", "organization name shown to the end user and used in file names", "SOS")
  .option("--support-message <text>", "a line shown to the end user before the session starts")
  .option("--primary-color <#rrggbb>", "brand color")
  .option(
    "--ca <file>",
    "a CA (PEM) the agent trusts for the gateway's certificate, for a gateway with its own CA",
  )
  .option("--build-id <id>", "identifies the build (default: derived from its inputs)")
  .addOption(
    new Option("--target <target...>", "targets to build").choices(BUILD_TARGETS).default(["linux-x64"]),
  )
  .option("--out <dir>", "where the executables go", "dist")
  .option("--cache <dir>", "intermediate files and registry downloads", "dist/.cache")
  .option("--sign-cert <pem|pfx>", "sign the Windows executables with this certificate (osslsigncode)")
  .option("--sign-key <pem>", "the private key of a PEM --sign-cert (a .pfx carries its own)")
  .option(
    "--node-version <x.y.z>",
    "Node version inside the executables, for tests under Wine only (Wine 8 cannot run Node 24)",
  )
  .showHelpAfterError();

program.parse();
const parsed = z
  .object({
    gateway: z.string(),
    brand: z.string(),
    supportMessage: z.string().optional(),
    primaryColor: z.string().optional(),
    ca: z.string().optional(),
    buildId: z.string().optional(),
    target: z.array(buildTargetSchema),
    out: z.string(),
    cache: z.string(),
    signCert: z.string().optional(),
    signKey: z.string().optional(),
    nodeVersion: z
      .string()
      .regex(/^\d+\.\d+\.\d+$/, "a version like 22.23.3")
      .optional(),
  })
  .safeParse(program.opts());
if (!parsed.success) {
  const reasons = flattenIssues(parsed.error.issues).map((issue) => `${issue.path}: ${issue.message}`);
  process.stderr.write(`build:sos: invalid options: ${reasons.join("; ")}\n`);
  process.exit(2);
}
const options = parsed.data;
if (options.signKey !== undefined && options.signCert === undefined) {
  process.stderr.write("build:sos: --sign-key needs --sign-cert\n");
  process.exit(2);
}
if (options.signCert !== undefined && !isPkcs12(options.signCert) && options.signKey === undefined) {
  process.stderr.write("build:sos: a PEM --sign-cert needs --sign-key (or give a .pfx)\n");
  process.exit(2);
}

let ca: string | undefined;
if (options.ca !== undefined) {
  try {
    ca = readFileSync(options.ca, "utf8");
  } catch (error) {
    process.stderr.write(
      `build:sos: --ca ${options.ca}: ${error instanceof Error ? error.message : error}\n`,
    );
    process.exit(2);
  }
}

const config = buildConfigSchema
  .omit({ buildId: true, version: true })
  .extend({ buildId: buildConfigSchema.shape.buildId.optional() })
  .safeParse({
    gateway: options.gateway,
    brand: options.brand,
    ...(options.supportMessage === undefined ? {} : { supportMessage: options.supportMessage }),
    ...(options.primaryColor === undefined ? {} : { colors: { primary: options.primaryColor } }),
    ...(options.buildId === undefined ? {} : { buildId: options.buildId }),
    ...(ca === undefined ? {} : { ca }),
  });
if (!config.success) {
  const reasons = flattenIssues(config.error.issues).map((issue) => `${issue.path}: ${issue.message}`);
  process.stderr.write(`build:sos: invalid build configuration: ${reasons.join("; ")}\n`);
  process.exit(2);
}

const started = performance.now();
const { built, failed } = await buildSos({
  config: config.data,
  targets: [...new Set(options.target)],
  outDir: options.out,
  cacheDir: options.cache,
  nodeVersion: options.nodeVersion,
  sign:
    options.signCert === undefined
      ? undefined
      : { cert: options.signCert, key: options.signKey, password: process.env.SOS_SIGN_PASSWORD },
  progress: (line) => process.stderr.write(`build:sos: ${line}\n`),
});
process.stdout.write(`${table(built, failed)}\n`);
process.stderr.write(`build:sos: done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
process.exit(failed.length === 0 ? 0 : 1);
