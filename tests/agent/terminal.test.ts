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
  return { term, type: (line: string) => input.write(`${line}\n`), printed: () => printed };
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
