/**
 * The agent's command-line options as one zod schema: commander only splits the command line, and
 * what it hands over is checked here before anything runs (as the gateway checks its own config
 * in signaling/config.ts). A bad value is refused with one line that names the option.
 */
import { z } from "zod";
import { DEFAULT_CONSENT_TIMEOUT_MS, FILE_RESUME_WINDOW_MS } from "../shared/limits.ts";
import { AgentError } from "./exit.ts";
import { VIDEO_CODECS } from "./media/video-encoder.ts";
import { PATH_DEFAULTS } from "./peer/path-watch.ts";
import { LANGUAGES } from "./session/messages.ts";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/** What an option is when not given (commander shows them in --help). */
export const OPTION_DEFAULTS = {
  monitor: 0,
  codec: "h264",
  maxFps: 30,
  /** kbit/s */
  maxBitrate: 3_000,
  logLevel: "warn",
  /** seconds */
  consentTimeout: DEFAULT_CONSENT_TIMEOUT_MS / 1000,
  /** seconds */
  answerTimeout: PATH_DEFAULTS.answer / 1000,
  /** seconds */
  filesResumeTimeout: FILE_RESUME_WINDOW_MS / 1000,
} as const;

/** A whole number in [min, max], given as text on the command line (or a default number). */
function wholeNumber(flag: string, min: number, max: number) {
  return z.union([z.string(), z.number()]).transform((value, context) => {
    const parsed = Number(value);
    if (Number.isInteger(parsed) && parsed >= min && parsed <= max) return parsed;
    context.addIssue({
      code: "custom",
      message: `${flag} must be a whole number from ${min} to ${max}, not ${value}`,
    });
    return z.NEVER;
  });
}

function oneOf<const T extends readonly [string, ...string[]]>(flag: string, values: T) {
  return z.enum(values, {
    error: (issue) => `${flag} must be one of ${values.join(", ")}, not ${String(issue.input)}`,
  });
}

export const agentOptionsSchema = z.object({
  gateway: z.string().min(1, "--gateway needs an address").optional(),
  ca: z.string().min(1, "--ca needs a file").optional(),
  monitor: wholeNumber("--monitor", 0, 32),
  codec: oneOf("--codec", VIDEO_CODECS),
  maxFps: wholeNumber("--max-fps", 1, 60),
  maxBitrate: wholeNumber("--max-bitrate", 100, 50_000),
  lang: oneOf("--lang", LANGUAGES).optional(),
  logLevel: oneOf("--log-level", LOG_LEVELS),
  consentTimeout: wholeNumber("--consent-timeout", 1, 3_600),
  answerTimeout: wholeNumber("--answer-timeout", 1, 600),
  filesResumeTimeout: wholeNumber("--files-resume-timeout", 1, 3_600),
  /** commander's --no-files: files is false; true by default. */
  files: z.boolean().default(true),
  filesDir: z.string().min(1, "--files-dir needs a folder").optional(),
  /** commander's --no-screen-copy (or SOS_NO_SCREEN_COPY): the screen copy path off; on by default. */
  screenCopy: z.boolean().default(true),
});
export type AgentCliOptions = z.output<typeof agentOptionsSchema>;

/** The options, checked; throws an AgentError("usage") with the first problem's line. */
export function parseAgentOptions(raw: unknown): AgentCliOptions {
  const parsed = agentOptionsSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new AgentError("usage", issue?.message ?? "invalid options");
}
