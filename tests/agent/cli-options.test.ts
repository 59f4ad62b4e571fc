import t from "tap";
import { command, main } from "../../agent/cli.ts";
import { EXIT_CODES } from "../../agent/exit.ts";
import { OPTION_DEFAULTS, parseAgentOptions } from "../../agent/options.ts";

/** The agent's command-line options are checked with one zod schema before anything runs. */

const given = (options: Record<string, unknown>) => ({ ...OPTION_DEFAULTS, ...options });

t.test("options from the command line come out typed, defaults included", async (t) => {
  t.same(parseAgentOptions(OPTION_DEFAULTS), {
    monitor: 0,
    codec: "h264",
    maxFps: 30,
    maxBitrate: 3_000,
    logLevel: "warn",
    consentTimeout: 60,
    answerTimeout: 20,
    filesResumeTimeout: 120,
    files: true,
    screenCopy: true,
  });
  t.same(
    parseAgentOptions(given({ files: false, filesDir: "/srv/incoming" })),
    {
      ...parseAgentOptions(OPTION_DEFAULTS),
      files: false,
      filesDir: "/srv/incoming",
    },
    "--no-files and --files-dir",
  );
  t.same(
    parseAgentOptions(
      given({ monitor: "1", maxFps: "30", lang: "de", codec: "vp8", gateway: "sos.example" }),
    ),
    {
      gateway: "sos.example",
      monitor: 1,
      codec: "vp8",
      maxFps: 30,
      maxBitrate: 3_000,
      lang: "de",
      logLevel: "warn",
      consentTimeout: 60,
      answerTimeout: 20,
      filesResumeTimeout: 120,
      files: true,
      screenCopy: true,
    },
  );
});

t.test("--no-screen-copy, or SOS_NO_SCREEN_COPY set, turns the screen copy path off", async (t) => {
  const parsed = (argv: readonly string[]) =>
    parseAgentOptions(
      command()
        .parse(["node", "sos", ...argv])
        .opts(),
    ).screenCopy;
  t.equal(parsed([]), true, "on by default");
  t.equal(parsed(["--no-screen-copy"]), false, "--no-screen-copy");
  process.env.SOS_NO_SCREEN_COPY = "1";
  t.teardown(() => {
    delete process.env.SOS_NO_SCREEN_COPY;
  });
  t.equal(parsed([]), false, "SOS_NO_SCREEN_COPY");
});

t.test("each bad value is refused with one line naming the option", async (t) => {
  const refusals: Array<[Record<string, unknown>, RegExp]> = [
    [{ monitor: "x" }, /^--monitor must be a whole number from 0 to 32, not x$/],
    [{ monitor: "33" }, /^--monitor must be a whole number from 0 to 32, not 33$/],
    [{ maxFps: "0" }, /^--max-fps must be a whole number from 1 to 60, not 0$/],
    [{ maxFps: "2.5" }, /^--max-fps must be a whole number/],
    [{ maxBitrate: "99" }, /^--max-bitrate must be a whole number from 100 to 50000, not 99$/],
    [{ consentTimeout: "3601" }, /^--consent-timeout must be a whole number from 1 to 3600/],
    [{ answerTimeout: "0" }, /^--answer-timeout must be a whole number from 1 to 600, not 0$/],
    [{ answerTimeout: "601" }, /^--answer-timeout must be a whole number from 1 to 600, not 601$/],
    [{ filesResumeTimeout: "0" }, /^--files-resume-timeout must be a whole number from 1 to 3600, not 0$/],
    [{ codec: "mjpeg" }, /^--codec must be one of h264, vp8, not mjpeg$/],
    [{ lang: "fr" }, /^--lang must be one of en, de, not fr$/],
    [
      { logLevel: "loud" },
      /^--log-level must be one of fatal, error, warn, info, debug, trace, silent, not loud$/,
    ],
    [{ gateway: "" }, /^--gateway needs an address$/],
  ];
  for (const [options, message] of refusals) {
    t.throws(() => parseAgentOptions(given(options)), { name: "AgentError", reason: "usage", message });
  }
});

t.test("the command refuses a bad option with exit code 2 before it starts", async (t) => {
  const written: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = (chunk: string | Uint8Array) => written.push(String(chunk)) > 0;
  t.teardown(() => {
    process.stderr.write = write;
  });
  const code = await main(["node", "sos", "123456789", "--gateway", "http://127.0.0.1:9", "--max-fps", "99"]);
  process.stderr.write = write;
  t.equal(code, EXIT_CODES.usage);
  t.equal(code, 2);
  t.same(written, ["sos: --max-fps must be a whole number from 1 to 60, not 99\n"]);
});
