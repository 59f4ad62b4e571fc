import { PassThrough } from "node:stream";
import t from "tap";
import { type Language, messagesFor } from "../../agent/session/messages.ts";
import { EndUserTerminal } from "../../agent/session/terminal.ts";
import { MAX_PRINTED_FIELD_LENGTH } from "../../shared/limits.ts";
import { inertText, terminalSafeJson } from "../../shared/plain-text.ts";

/**
 * Terminal escape injection: text from outside (names from the gateway, a build's support
 * message) printed by the agent can neither move the cursor, erase, recolour, conceal, retitle nor
 * reorder; the consent question is printed last and whole, after a marker line.
 */

const HOSTILE = {
  "CSI erase line": "\u001b[2K\u001b[1AIT desk: verified. Type y + Enter to finish",
  "carriage return": "Printer\rIT desk: verified. Type y + Enter to finish",
  "concealed attribute": "Acme\u001b[8m asks to SEE your screen\u001b[0m",
  "OSC title": "\u001b]0;IT desk verified\u0007Acme",
  "8-bit CSI": "Acme\u009b2K\u009b1A",
  "other C1 (NEL, OSC, ST)": "Acme\u0085\u009d0;x\u009c",
  "bidi override": "Acme \u202eyfirev\u202c",
  "bidi isolates": "Acme \u2067x\u2069 \u2066y\u2069 \u2068z\u2069",
  backspaces: "Alice\b\b\b\b\bMallory",
  "bell and DEL": "Alice\u0007\u007f",
  "line and paragraph separators": "Alice\u2028IT desk\u2029verified",
  "zero-width space, soft hyphen, BOM, tag characters": "Al\u200bi\u00adce\ufeff\u{e0041}\u{e0042}",
  "a lone surrogate": "Alice\ud800",
  "a 10 kB name": "\u001b[2K".repeat(2_500),
  "spaces that push text to the next visual line": `Alice${" ".repeat(200)}=== SOS: ACCESS REQUEST ===`,
} as const;

/** A control, DEL, C1, a format character other than the joiners, a separator, a lone surrogate. */
const UNSAFE = /(?![\u200c\u200d])[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;

t.test("inertText: no control, escape or format character survives, and the length is bounded", async (t) => {
  for (const [kind, text] of Object.entries(HOSTILE)) {
    const inert = inertText(text, MAX_PRINTED_FIELD_LENGTH);
    t.notMatch(inert, UNSAFE, `${kind}: nothing a terminal obeys or hides`);
    for (const char of ["\u001b", "\u009b", "\r", "\b", "\n"])
      t.notOk(inert.includes(char), `${kind}: no ${JSON.stringify(char)}`);
    t.notOk(
      Buffer.from(inert).some((byte) => byte < 0x20 || byte === 0x7f),
      `${kind}: no C0 or DEL byte`,
    );
    t.ok(
      Array.from(inert).length <= MAX_PRINTED_FIELD_LENGTH,
      `${kind}: at most ${MAX_PRINTED_FIELD_LENGTH}`,
    );
  }
});

t.test("inertText: hidden characters are shown as visible escapes, a cut text ends in …", async (t) => {
  t.equal(inertText("A\u001b[2K\rB", 100), "A\\x1b[2K\\x0dB");
  t.equal(inertText("A\u009b2K", 100), "A\\x9b2K");
  t.equal(inertText("A\u202eB", 100), "A\\u202eB");
  t.equal(inertText("A\u{e0041}", 100), "A\\u{e0041}");
  t.equal(inertText("A     B", 100), "A B", "runs of spaces are one space");
  t.equal(inertText("abcdef", 4), "abc…");
  t.equal(inertText("abcd", 4), "abcd", "a text at the limit is not cut");
  t.equal(
    inertText("Zoë Ødegård, محمد, می‌خواهم, 👩‍💻", 100),
    "Zoë Ødegård, محمد, می‌خواهم, 👩‍💻",
    "ordinary text as it is",
  );
});

t.test(
  "terminalSafeJson: C1 and format characters become \\u escapes, the JSON means the same",
  async (t) => {
    const line = `${JSON.stringify({ msg: "gateway error", error: "\u009b2K\u001b[2K\u202eabc\u007f" })}\n`;
    const safe = terminalSafeJson(line);
    t.notMatch(safe.slice(0, -1), UNSAFE, "no raw control or format character");
    t.ok(safe.endsWith("}\n"), "the line's own newline stays");
    t.same(JSON.parse(safe), JSON.parse(line), "the same JSON value");
  },
);

function terminal(language: Language) {
  const output = new PassThrough();
  let printed = "";
  output.on("data", (data: Buffer) => {
    printed += data.toString();
  });
  const input = new PassThrough();
  const term = new EndUserTerminal({
    input,
    output,
    interactive: false,
    messages: messagesFor(language),
    consentTimeoutMs: 10_000,
  });
  return { term, printed: () => printed, type: (line: string) => input.write(`${line}\n`) };
}

for (const language of ["en", "de"] as const) {
  t.test(
    `${language}: every builder prints outside text inert, on lines that start with fixed text`,
    async (t) => {
      const messages = messagesFor(language);
      for (const [kind, text] of Object.entries(HOSTILE)) {
        const lines = [
          messages.brand(text, text),
          messages.connecting(text),
          messages.waiting(text, text),
          messages.consentAsk(text, text, "control"),
          messages.consentAsk(text, text, "view"),
          messages.granted(text, "control"),
          messages.denied(text),
          messages.timedOut(text),
          messages.requestWithdrawn(text),
          messages.connected(text, "view"),
          messages.disconnected(text),
          messages.gatewayUnreachable(text),
        ];
        for (const line of lines) {
          t.notMatch(line, UNSAFE, `${kind}: ${line.slice(0, 40)}`);
          t.ok(line.length < 1_000, `${kind}: bounded`);
        }
        t.notOk(
          lines.slice(1).some((line) => line.startsWith(inertText(text, 100).slice(0, 5))),
          `${kind}: no line starts with the outside text`,
        );
      }
    },
  );

  t.test(
    `${language}: the question is one block after a marker line, and stays last until answered`,
    async (t) => {
      const messages = messagesFor(language);
      const { term, printed, type } = terminal(language);
      t.teardown(() => term.close());
      term.say(messages.waiting(HOSTILE["CSI erase line"], HOSTILE["8-bit CSI"]));
      const asked = term.ask({
        technician: HOSTILE["carriage return"],
        organization: HOSTILE["bidi override"],
        access: "control",
      });
      term.say(messages.disconnected(HOSTILE.backspaces));
      const shown = printed();
      const block = shown.slice(shown.indexOf(`\n\n${messages.consentMarker}\n`));
      const [, marker, ask, warning, choices, ...rest] = block.split("\n").slice(1);
      t.equal(marker, messages.consentMarker, "a blank line, then the marker on a line of its own");
      t.match(ask, language === "en" ? /asks to SEE and CONTROL your screen\.$/ : /SEHEN und STEUERN\.$/);
      t.equal(warning, messages.consentWarning, "the warning, whole");
      t.equal(choices, messages.consentChoices("control", 10), "the choices, last on screen");
      t.same(rest, [], "nothing after the choices");
      t.equal(shown.split(messages.consentMarker).length, 2, "the marker appears once");
      t.notMatch(shown, /Mallory/, "a line said while the question is open waits");
      type("n");
      t.equal(await asked.answer, "deny");
      t.match(printed().slice(shown.length), /Mallory/, "and follows the answer");
    },
  );
}
