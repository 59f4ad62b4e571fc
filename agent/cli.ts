#!/usr/bin/env node
/**
 * `sos [link-or-pin]`: the end user's command. Parses the command line, picks the language,
 * finds the session, runs the agent and exits with the documented code and a one-line reason.
 */
import { Command, CommanderError, Option } from "commander";
import { MAX_PRINTED_OUTCOME_LENGTH } from "../shared/limits.ts";
import { pemCertificates } from "../shared/pem.ts";
import { inertText } from "../shared/plain-text.ts";
import { bakedConfig } from "./branding.ts";
import { AgentError, type AgentOutcome, EXIT_CODES, outcomeOf } from "./exit.ts";
import { downloadsDir } from "./files/downloads-dir.ts";
import { createLogger, type RunningAgent, startAgent } from "./main.ts";
import { VIDEO_CODECS } from "./media/video-encoder.ts";
import { type AgentCliOptions, LOG_LEVELS, OPTION_DEFAULTS, parseAgentOptions } from "./options.ts";
import { LANGUAGES, type Language, type Messages, messagesFor, systemLanguage } from "./session/messages.ts";
import { EndUserTerminal } from "./session/terminal.ts";
import { resolveTarget } from "./target.ts";
import { readCaFile, trustedCas } from "./trust.ts";
import { AGENT_VERSION } from "./version.ts";

/** The frame rate cap without --max-fps. */
export const DEFAULT_MAX_FPS = OPTION_DEFAULTS.maxFps;

/** An option commander only reads; its value is checked by parseAgentOptions. */
function option(flags: string, description: string, fallback?: string | number): Option {
  const made = new Option(flags, description);
  return fallback === undefined ? made : made.default(fallback);
}

/** The command line's parser (commander): what it hands over is checked by parseAgentOptions. */
export function command(): Command {
  return new Command()
    .name("sos")
    .description("SOS remote support: let your technician see (and, if you allow, control) your screen.")
    .argument("[link-or-pin]", "the session link or the 9-digit PIN your technician gave you")
    .option("--gateway <url>", "your team gateway's address (or set SOS_GATEWAY); not needed with a link")
    .addOption(
      new Option(
        "--ca <file>",
        "also trust this CA (PEM) for the gateway's certificate, for a gateway with its own CA",
      ).env("SOS_CA"),
    )
    .addOption(option("--monitor <n>", "the monitor to share first, from 0", OPTION_DEFAULTS.monitor))
    .addOption(option(`--codec <${VIDEO_CODECS.join("|")}>`, "video codec", OPTION_DEFAULTS.codec))
    .addOption(option("--max-fps <n>", "highest frame rate", OPTION_DEFAULTS.maxFps))
    .addOption(option("--max-bitrate <kbit/s>", "highest video bitrate", OPTION_DEFAULTS.maxBitrate))
    .addOption(option(`--lang <${LANGUAGES.join("|")}>`, "language (default: the system's)"))
    .addOption(
      option(
        "--log-level <level>",
        `log detail, on stderr (${LOG_LEVELS.join(", ")})`,
        OPTION_DEFAULTS.logLevel,
      ),
    )
    .addOption(
      option(
        "--consent-timeout <seconds>",
        "seconds to answer a technician's request before it counts as denied",
        OPTION_DEFAULTS.consentTimeout,
      ),
    )
    .addOption(
      option(
        "--answer-timeout <seconds>",
        "seconds a technician's browser has to answer the connection offer before the view counts as failed",
        OPTION_DEFAULTS.answerTimeout,
      ),
    )
    .addOption(
      option(
        "--files-resume-timeout <seconds>",
        "seconds a file transfer broken off by the connection waits for it to come back and go on",
        OPTION_DEFAULTS.filesResumeTimeout,
      ),
    )
    .option("--no-files", "refuse every file a technician sends you")
    .option(
      "--files-dir <folder>",
      "where files a technician sends you are saved (default: your Downloads folder)",
    )
    .addOption(
      new Option(
        "--no-screen-copy",
        "send the whole screen as video only, without the sharp copy of text areas (or set SOS_NO_SCREEN_COPY)",
      ).env("SOS_NO_SCREEN_COPY"),
    )
    .version(AGENT_VERSION, "--version")
    .helpOption("--help")
    .addHelpText(
      "after",
      "\nExit codes: 0 ended, 1 internal error, 2 bad command line, 3 no display, 4 gateway unreachable,\n" +
        "5 unknown session, 6 session closed or expired, 7 consent denied, 8 refused by the gateway,\n" +
        "9 the gateway's certificate is not trusted.",
    )
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });
}

/**
 * The last line. It may carry text from outside (a gateway's error message for a refusal the agent
 * has no words of its own for), so it is made inert like every other printed field.
 */
function printOutcome(outcome: AgentOutcome, messages: Messages, language: Language): void {
  const message = outcome.reason === "no_display" && language !== "en" ? messages.noDisplay : outcome.message;
  const line = inertText(message, MAX_PRINTED_OUTCOME_LENGTH);
  if (outcome.reason === "ended") process.stdout.write(`${line}\n`);
  else process.stderr.write(`sos: ${line}\n`);
}

/** Runs the command; resolves with the process exit code. */
export async function main(argv: readonly string[] = process.argv): Promise<number> {
  const program = command();
  let code: string | undefined;
  let options: AgentCliOptions;
  try {
    program.parse([...argv]);
    code = program.args[0];
    options = parseAgentOptions(program.opts());
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_CODES.usage;
    if (error instanceof AgentError) {
      process.stderr.write(`sos: ${error.message}\n`);
      return EXIT_CODES[error.reason];
    }
    throw error;
  }
  const language = options.lang ?? systemLanguage();
  const messages = messagesFor(language);
  const interactive = process.stdin.isTTY === true && process.stdout.isTTY === true;
  const terminal = new EndUserTerminal({
    input: process.stdin,
    output: process.stdout,
    interactive,
    messages,
    consentTimeoutMs: options.consentTimeout * 1000,
  });
  const log = createLogger(options.logLevel);
  let agent: RunningAgent | undefined;
  let interrupted = false;
  const stop = () => {
    if (agent !== undefined) void agent.session.end();
    else if (interrupted) process.exit(EXIT_CODES.ended);
    interrupted = true;
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  let outcome: AgentOutcome;
  try {
    const baked = bakedConfig();
    if (baked !== undefined) terminal.say(messages.brand(baked.brand, baked.supportMessage));
    const target = await resolveTarget({
      code,
      gatewayOption: options.gateway,
      env: process.env,
      bakedGateway: bakedConfig()?.gateway,
      executable: process.execPath,
      ask: interactive
        ? (question) => terminal.question(question === "pin" ? messages.askPin : messages.askGateway)
        : undefined,
    });
    const extraCas = [...(baked?.ca === undefined ? [] : pemCertificates(baked.ca, "the build's CA"))];
    if (options.ca !== undefined) extraCas.push(...readCaFile(options.ca));
    // Only an https gateway needs the list (reading the system's store takes a moment).
    const trust = target.gateway.startsWith("https:") ? trustedCas(extraCas) : undefined;
    agent = await startAgent({
      ...(trust === undefined ? {} : { trust }),
      target,
      codec: options.codec,
      maxFps: options.maxFps,
      maxBitrate: options.maxBitrate * 1000,
      monitor: options.monitor,
      files: {
        dir: downloadsDir(options.filesDir),
        refused: !options.files,
        resumeWindowMs: options.filesResumeTimeout * 1000,
      },
      answerTimeoutMs: options.answerTimeout * 1000,
      screenCopy: options.screenCopy,
      messages,
      terminal,
      log,
    });
    if (interrupted) void agent.session.end();
    outcome = await agent.done;
  } catch (error) {
    terminal.close();
    outcome = outcomeOf(error);
    if (outcome.reason === "internal") log.error({ err: error }, "the agent failed");
  }
  printOutcome(outcome, messages, language);
  return EXIT_CODES[outcome.reason];
}

/**
 * Runs the command as the process and exits with its code. No top-level await: the branded
 * executable loads this module with require() (build/sea-app.ts).
 */
export function runAsProgram(argv: readonly string[] = process.argv): void {
  // Output piped into a reader that went away (`sos --help | head`): nothing more is shown, and
  // the agent carries on (a session in progress still ends properly), with no stack trace.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code !== "EPIPE") throw error;
    });
  }
  void main(argv).then((exitCode) => {
    process.exitCode = exitCode;
    // Native handles (X connection, encoder threads) should not keep an ended agent alive.
    setTimeout(() => process.exit(exitCode), 2_000).unref();
  });
}

if (import.meta.main) runAsProgram();
