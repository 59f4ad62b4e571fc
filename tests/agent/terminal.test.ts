import { PassThrough } from "node:stream";
import t, { type Test } from "tap";
import { messagesFor, parseConsentAnswer, systemLanguage } from "../../agent/session/messages.ts";
import { EndUserTerminal } from "../../agent/session/terminal.ts";

function terminal(t: Test, options: { interactive?: boolean; timeoutMs?: number } = {}) {
  const input = new PassThrough();
  const output = new PassThrough();
  let printed = "";
  output.on("data", (data: Buffer) => {
    printed += data.toString();
  });
  const term = new EndUserTerminal({
    input,
    output,
    interactive: options.interactive ?? false,
    messages: messagesFor("en"),
    consentTimeoutMs: options.timeoutMs ?? 10_000,
  });
  t.teardown(() => term.close());
  return {
    term,
    type: (line: string) => input.write(`${line}\n`),
    /** Keys typed without Enter. */
    keys: (text: string) => input.write(text),
    printed: () => printed,
  };
}

const question = { technician: "Alice", organization: "Acme IT", access: "control" } as const;

t.test("answers: y/yes/j/ja allow what was asked, v view only, anything else denies", async (t) => {
  for (const answer of ["y", "yes", "J", " ja "])
    t.equal(parseConsentAnswer(answer, "control"), "control", answer);
  t.equal(parseConsentAnswer("y", "view"), "view", "y to a view request allows viewing");
  t.equal(parseConsentAnswer("v", "control"), "view");
  for (const answer of ["n", "no", "", "maybe", "yy"])
    t.equal(parseConsentAnswer(answer, "control"), "deny", answer);
});

t.test("the question names the technician and organization and warns", async (t) => {
  const { term, type, printed } = terminal(t);
  const asked = term.ask(question);
  t.equal(term.asking, true);
  type("y");
  t.equal(await asked.answer, "control");
  t.equal(term.asking, false);
  t.match(printed(), /Alice \(Acme IT\) asks to SEE and CONTROL your screen/);
  t.match(printed(), /Never allow this if someone contacted you unexpectedly/);
});

t.test("no answer within the timeout is a timeout (a deny)", async (t) => {
  const { term } = terminal(t, { timeoutMs: 50 });
  t.equal(await term.ask(question).answer, "timeout");
});

t.test("piped stdin: a line typed before the question answers it", async (t) => {
  const { term, type } = terminal(t);
  type("v");
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(await term.ask(question).answer, "view");
});

t.test("a terminal: lines typed before the question do not answer it", async (t) => {
  const { term, type } = terminal(t, { interactive: true, timeoutMs: 100 });
  type("y");
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(await term.ask(question).answer, "timeout");
});

/** The chat lines the terminal hands on, as they come. */
function chatted(term: EndUserTerminal): string[] {
  const lines: string[] = [];
  term.on("chat", (text) => lines.push(text));
  return lines;
}

t.test("a terminal: a line with no question open is a chat message, as typed", async (t) => {
  const { term, type } = terminal(t, { interactive: true });
  const lines = chatted(term);
  type("  Hello, the Printer is OFF  ");
  type("");
  await new Promise((resolve) => setImmediate(resolve));
  t.same(lines, ["Hello, the Printer is OFF"], "trimmed, case kept; an empty line is nothing");
});

t.test("a consent question takes precedence: the next line answers it and is not chat", async (t) => {
  for (const interactive of [true, false]) {
    const { term, type } = terminal(t, { interactive });
    const lines = chatted(term);
    const asked = term.ask(question);
    type("y");
    t.equal(await asked.answer, "control", `answered (${interactive ? "terminal" : "piped"})`);
    type("thanks");
    await new Promise((resolve) => setImmediate(resolve));
    t.same(lines, ["thanks"], "only the line after the answer is chat");
    term.close();
  }
});

t.test("a terminal: a line said while the end user types goes above it, and the typing stays", async (t) => {
  const { term, keys, type, printed } = terminal(t, { interactive: true });
  const lines = chatted(term);
  keys("the printer is");
  await new Promise((resolve) => setImmediate(resolve));
  const before = printed().length;
  term.say("[Chat 10:00] Alice: which printer?");
  const shown = printed().slice(before);
  t.ok(
    shown.startsWith("\r\u001b[2K[Chat 10:00] Alice: which printer?\n"),
    "the half-typed text is cleared and the line printed in its place",
  );
  t.match(shown.slice(shown.indexOf("\n")), /the printer is/, "then the typed text is drawn again");
  type(" broken");
  await new Promise((resolve) => setImmediate(resolve));
  t.same(lines, ["the printer is broken"], "what the end user typed is sent whole");
});

t.test("commands are never chat: q, r and ? (help)", async (t) => {
  const { term, type, printed } = terminal(t, { interactive: true });
  const lines = chatted(term);
  const revoked = new Promise<void>((resolve) => term.once("revoke", resolve));
  type("?");
  type("r");
  await revoked;
  t.match(printed(), /Any other line is sent to your technician as a chat message/);
  t.same(lines, []);
});

t.test("piped: a bare answer word waits for the next question, any other line is chat", async (t) => {
  const { term, type } = terminal(t);
  const lines = chatted(term);
  type("my screen is black");
  type("j");
  await new Promise((resolve) => setImmediate(resolve));
  t.same(lines, ["my screen is black"]);
  t.equal(await term.ask(question).answer, "control", "the typed-ahead j answers the question");
});

t.test("lines said while a question is open wait until it is answered", async (t) => {
  const { term, type, printed } = terminal(t);
  const asked = term.ask(question);
  term.say("[Chat 10:00] Alice: are you there?");
  t.notMatch(printed(), /are you there/, "the question stays last on screen");
  type("n");
  await asked.answer;
  t.match(printed(), /are you there\?/);
});

t.test("the status line names each technician with their rights, in English and German", async (t) => {
  const people = [
    { name: "Anna", access: "control", viewing: true },
    { name: "Ben", access: "view", viewing: false },
    { name: "Carl\u001b[2J", access: null, viewing: false },
  ] as const;
  t.equal(
    messagesFor("en").connectedNow(people),
    "Connected: Anna (control, sees your screen now), Ben (view only), Carl\\x1b[2J (chat only)",
  );
  t.equal(
    messagesFor("de").connectedNow(people),
    "Verbunden: Anna (Steuerung, sieht jetzt Ihren Bildschirm), Ben (nur Ansehen), Carl\\x1b[2J (nur Chat)",
  );
  t.equal(
    messagesFor("en").chatFrom("Anna", "<b>hi</b>\u001b]0;owned\u0007", "10:02"),
    "[Chat 10:02] Anna: <b>hi</b>\\x1b]0;owned\\x07",
    "a technician's line is printed inert",
  );
});

t.test("questions are asked one at a time, in order", async (t) => {
  const { term, type, printed } = terminal(t);
  const first = term.ask(question);
  const second = term.ask({ technician: "Bob", organization: "Acme IT", access: "view" });
  t.notMatch(printed(), /Bob/, "Bob's question waits");
  type("n");
  t.equal(await first.answer, "deny");
  t.match(printed(), /Bob \(Acme IT\) asks to SEE your screen/);
  type("y");
  t.equal(await second.answer, "view");
});

t.test("a cancelled question resolves as cancelled and the next one is shown", async (t) => {
  const { term, printed } = terminal(t);
  const first = term.ask(question);
  const second = term.ask({ technician: "Bob", organization: "Acme IT", access: "control" });
  first.cancel();
  t.equal(await first.answer, "cancelled");
  t.match(printed(), /Bob/);
  second.cancel();
  t.equal(term.asking, false);
});

t.test("q ends (denying an open question), r withdraws", async (t) => {
  const { term, type } = terminal(t);
  const ended = new Promise<void>((resolve) => term.once("end", resolve));
  const revoked = new Promise<void>((resolve) => term.once("revoke", resolve));
  type("r");
  await revoked;
  const asked = term.ask(question);
  type("q");
  await ended;
  t.equal(await asked.answer, "deny");
});

t.test("close() cancels open questions and is safe to repeat", async (t) => {
  const { term } = terminal(t);
  const asked = term.ask(question);
  term.close();
  term.close();
  t.equal(await asked.answer, "cancelled");
});

t.test("the language follows the system locale: German for de_*, English otherwise", async (t) => {
  t.equal(systemLanguage({ LANG: "de_DE.UTF-8" }), "de");
  t.equal(systemLanguage({ LC_ALL: "de_AT", LANG: "en_US" }), "de");
  t.equal(systemLanguage({ LC_ALL: "", LC_MESSAGES: "fr_FR", LANG: "de_DE" }), "en");
  t.equal(systemLanguage({ LANG: "C.UTF-8" }), "en");
});

t.test(
  "may the session continue: yes or no, any other line asks again and is no chat, q is no, German too",
  async (t) => {
    const { term, type, printed } = terminal(t);
    const lines = chatted(term);
    const first = term.askContinue({ minutes: 30, seconds: 300 });
    t.equal(term.asking, true, "technicians' input waits meanwhile");
    type("what is this?");
    type("j");
    t.equal(await first.answer, "yes");
    t.same(lines, [], "the unclear line was not sent as chat");
    t.match(
      printed(),
      /=== SOS: CONTINUE THE SESSION\? ===\nThis support session has been running for 30 minutes/,
    );
    t.match(printed(), /no answer in 5 min = the session ends/);
    t.match(printed(), /Please answer y or n\.\n\n=== SOS: CONTINUE THE SESSION\? ===/, "asked again");
    const second = term.askContinue({ minutes: 31, seconds: 45 });
    type("q");
    t.equal(await second.answer, "no", "q ends the session: no");
    const third = term.askContinue({ minutes: 1, seconds: 60 });
    third.cancel();
    t.equal(await third.answer, "cancelled", "cancelled when the session ends first");
    const de = messagesFor("de");
    t.equal(de.continueMarker, "=== SOS: SITZUNG FORTSETZEN? ===");
    t.match(de.continueChoices(270), /keine Antwort in 4 Min\. 30 s = die Sitzung endet/);
  },
);

t.test("o allows control without incoming files; f offers a file, x stops transfers", async (t) => {
  const { term, type } = terminal(t);
  const asked = term.ask(question);
  type("o");
  t.equal(await asked.answer, "control", "o allows control");
  t.equal(asked.withoutFiles, true, "but no files");
  const again = term.ask(question);
  type("y");
  t.equal(await again.answer, "control");
  t.equal(again.withoutFiles, false, "y lets files come in");
  const offered = new Promise((resolve) => term.once("offerFile", resolve));
  type('f "/home/eve/my log.txt"');
  t.equal(await offered, "/home/eve/my log.txt", "the path, quotes removed");
  const stopped = new Promise<void>((resolve) => term.once("cancelFiles", () => resolve()));
  type("x");
  await stopped;
  const chat = new Promise((resolve) => term.once("chat", resolve));
  type("first things first");
  t.equal(await chat, "first things first", "a line that merely starts with f is chat");
});
