/**
 * The end user's side of the agent: what it prints and what the user types.
 *
 * Interactive (a TTY): readline; consent questions are asked one at a time and only a line typed
 * after the question answers it. Ctrl+C ends. Otherwise (stdin is a pipe, for tests and scripted
 * support): one answer line per question, lines that arrive before a question wait for it.
 * In both: `q` ends, `r` withdraws all permissions, `f <path>` offers a file to the technicians,
 * `x` stops every file transfer, `?` shows the commands, no answer within the
 * timeout is a deny, and any other line is a chat message to the technicians (`chat` event).
 * Consent questions take precedence: while one is on screen, the next line answers it and is
 * never sent as chat. The same holds for the question whether the session may continue
 * (askContinue): it has no timer of its own (the gateway keeps the deadline), and a line that is
 * neither yes nor no asks again. Piped, a bare answer word (y, yes, j, ja, v, n, no, nein) typed with no
 * question open waits for the next question, as before; any other line is chat.
 *
 * A consent question is one write, last on screen: a blank line, the marker line (fixed text no
 * outside text can produce: outside text is inert and never starts a line, see messages.ts), who
 * asks for what, the warning, the choices. Lines said while it is open wait until it is answered
 * (or cancelled), and are printed before the next question.
 */
import { EventEmitter } from "node:events";
import { createInterface, type Interface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import type { ConsentDecision } from "../../shared/agent-protocol.ts";
import type { ContinueAnswer } from "../../shared/continuation.ts";
import type { AccessMode } from "../../shared/status.ts";
import { type Messages, parseConsentAnswer, parseContinueAnswer, refusesFiles } from "./messages.ts";

export type ConsentQuestion = {
  readonly technician: string;
  readonly organization: string;
  readonly access: AccessMode;
};
export type ConsentAnswer = ConsentDecision | "timeout";

type TerminalEvents = {
  end: [];
  revoke: [];
  chat: [text: string];
  /** `f <path>`: the end user offers a file to the technicians. */
  offerFile: [path: string];
  /** `x`: the end user stops every file transfer. */
  cancelFiles: [];
};

/** "May the session continue?": how long it has run, and how long the end user has to answer. */
export type ContinueQuestion = { readonly minutes: number; readonly seconds: number };

/** How an open question ends: a line typed (or `q`), its timer, or cancel(). */
type Outcome = { readonly typed: string } | "end" | "timeout" | "cancelled";

/** One question on the queue, whatever its kind: what it shows and how an outcome answers it. */
type Pending = {
  /** The question as written, last on screen (no newline at its end). */
  readonly text: string;
  /** Shown when a typed line answers nothing (undefined: every line answers). */
  readonly invalid: string | undefined;
  readonly timeoutMs: number | undefined;
  /** Settles the question; false when a typed line is no answer (the question stays). */
  readonly settle: (outcome: Outcome) => boolean;
  timer?: NodeJS.Timeout;
};

export type TerminalOptions = {
  readonly input: Readable;
  readonly output: Writable;
  readonly interactive: boolean;
  readonly messages: Messages;
  readonly consentTimeoutMs: number;
};

const END = new Set(["q", "quit", "exit", "beenden"]);
const REVOKE = new Set(["r", "revoke", "entziehen"]);
const HELP = new Set(["?", "help", "hilfe"]);
const CANCEL_FILES = new Set(["x"]);
/** Piped input: lines that are answers, kept for the next question rather than sent as chat. */
const ANSWER_WORDS = new Set(["y", "yes", "j", "ja", "o", "v", "n", "no", "nein"]);

export class EndUserTerminal extends EventEmitter<TerminalEvents> {
  readonly #options: TerminalOptions;
  readonly #rl: Interface;
  readonly #questions: Pending[] = [];
  /** Non-interactive lines typed ahead of a question. */
  readonly #typedAhead: string[] = [];
  /** Lines said while a question is on screen: printed once it is answered. */
  readonly #held: string[] = [];
  #closed = false;

  constructor(options: TerminalOptions) {
    super();
    this.#options = options;
    this.#rl = createInterface({
      input: options.input,
      ...(options.interactive ? { output: options.output, terminal: true, prompt: "" } : { terminal: false }),
    });
    this.#rl.on("line", (line) => this.#onLine(line));
    this.#rl.on("SIGINT", () => this.emit("end"));
  }

  /** A consent question is on screen: input from technicians must wait. */
  get asking(): boolean {
    return this.#questions.length > 0;
  }

  /** Prints a line; while a consent question is on screen the line waits, so the question stays last. */
  say(line: string): void {
    if (this.#closed) return;
    if (this.asking) this.#held.push(line);
    else this.#print(line);
  }

  /**
   * On a terminal, a chat message the end user is half-way through typing stays whole: the line
   * goes above it (the typed text is cleared from the screen first), then the typed text is drawn
   * again with the cursor where it was.
   */
  #print(line: string): void {
    const typing = this.#options.interactive ? this.#rl.line : "";
    if (typing === "") {
      this.#options.output.write(`${line}\n`);
      return;
    }
    this.#options.output.write(`\r\u001b[2K${line}\n`);
    this.#rl.prompt(true);
  }

  /**
   * Asks the end user; questions queue and are shown one at a time. Resolves with the decision,
   * "timeout", or "cancelled" after cancel().
   */
  ask(question: ConsentQuestion): {
    answer: Promise<ConsentAnswer | "cancelled">;
    cancel(): void;
    /** After the answer: it allowed control but no incoming files ("o"). */
    readonly withoutFiles: boolean;
  } {
    const { messages, consentTimeoutMs } = this.#options;
    let withoutFiles = false;
    const asked = this.#enqueue<ConsentAnswer | "cancelled">((resolve) => ({
      text: [
        "",
        messages.consentMarker,
        messages.consentAsk(question.technician, question.organization, question.access),
        messages.consentWarning,
        messages.consentChoices(question.access, Math.round(consentTimeoutMs / 1000)),
      ].join("\n"),
      invalid: undefined,
      timeoutMs: consentTimeoutMs,
      settle: (outcome) => {
        if (typeof outcome === "string") resolve(outcome === "end" ? "deny" : outcome);
        else {
          withoutFiles = question.access === "control" && refusesFiles(outcome.typed);
          resolve(parseConsentAnswer(outcome.typed, question.access));
        }
        return true;
      },
    }));
    return {
      ...asked,
      get withoutFiles() {
        return withoutFiles;
      },
    };
  }

  /**
   * Asks whether the session may continue. No timer here: the gateway keeps the deadline and ends
   * the session (then close() cancels the question). `q` answers no.
   */
  askContinue(question: ContinueQuestion): { answer: Promise<ContinueAnswer | "cancelled">; cancel(): void } {
    const { messages } = this.#options;
    return this.#enqueue<ContinueAnswer | "cancelled">((resolve) => ({
      text: [
        "",
        messages.continueMarker,
        messages.continueAsk(question.minutes),
        messages.continueChoices(question.seconds),
      ].join("\n"),
      invalid: messages.continueInvalid,
      timeoutMs: undefined,
      settle: (outcome) => {
        if (outcome === "end") resolve("no");
        else if (outcome === "timeout" || outcome === "cancelled") resolve("cancelled");
        else {
          const answer = parseContinueAnswer(outcome.typed);
          if (answer === undefined) return false;
          resolve(answer);
        }
        return true;
      },
    }));
  }

  #enqueue<A>(make: (resolve: (answer: A) => void) => Pending): { answer: Promise<A>; cancel(): void } {
    let pending: Pending | undefined;
    const answer = new Promise<A>((resolve) => {
      pending = make(resolve);
    });
    if (pending === undefined) throw new Error("unreachable");
    const entry = pending;
    this.#questions.push(entry);
    if (this.#questions.length === 1) this.#show();
    return { answer, cancel: () => this.#finish(entry, "cancelled") };
  }

  /** Reads one line (the PIN or gateway address before the session starts). */
  question(prompt: string): Promise<string> {
    return new Promise((resolve) => this.#rl.question(prompt, resolve));
  }

  /** Stops reading; open questions resolve as cancelled. Safe to call more than once. */
  close(): void {
    if (this.#closed) return;
    for (const entry of [...this.#questions]) this.#finish(entry, "cancelled");
    this.#flushHeld();
    this.#closed = true;
    this.#rl.close();
  }

  #show(): void {
    const entry = this.#questions[0];
    if (entry === undefined || this.#closed) return;
    this.#options.output.write(entry.text);
    if (entry.timeoutMs !== undefined) {
      entry.timer = setTimeout(() => this.#finish(entry, "timeout"), entry.timeoutMs);
    }
    const typed = this.#options.interactive ? undefined : this.#typedAhead.shift();
    if (typed !== undefined) this.#answer(entry, typed);
  }

  #finish(entry: Pending, outcome: Outcome, typed = false): void {
    const index = this.#questions.indexOf(entry);
    if (index < 0) return;
    if (!entry.settle(outcome)) {
      // Not an answer: said so, and the question is written again (still last on screen).
      this.#options.output.write(`${typed && this.#options.interactive ? "" : "\n"}${entry.invalid ?? ""}\n`);
      this.#options.output.write(entry.text);
      return;
    }
    clearTimeout(entry.timer);
    this.#questions.splice(index, 1);
    // The question ends without a newline; an answer typed on a terminal brings its own.
    if (index === 0 && !(typed && this.#options.interactive)) this.#options.output.write("\n");
    if (index === 0) {
      this.#flushHeld();
      this.#show();
    }
  }

  /** Between two questions (or after the last): what was said meanwhile. */
  #flushHeld(): void {
    for (const line of this.#held.splice(0)) this.#print(line);
  }

  #answer(entry: Pending, line: string): void {
    this.#finish(entry, { typed: line }, true);
  }

  #onLine(raw: string): void {
    const line = raw.trim().toLowerCase();
    const current = this.#questions[0];
    if (END.has(line)) {
      if (current !== undefined) this.#finish(current, "end", true);
      this.emit("end");
      return;
    }
    if (current !== undefined) {
      if (this.#options.interactive && line === "") return;
      this.#answer(current, line);
      return;
    }
    if (REVOKE.has(line)) {
      this.emit("revoke");
      return;
    }
    if (CANCEL_FILES.has(line)) {
      this.emit("cancelFiles");
      return;
    }
    const file = /^f(?:\s+(.*))?$/isu.exec(raw.trim());
    if (file !== null) {
      this.emit("offerFile", unquote(file[1] ?? ""));
      return;
    }
    if (HELP.has(line)) {
      this.say(this.#options.messages.help);
      return;
    }
    if (!this.#options.interactive && ANSWER_WORDS.has(line)) {
      this.#typedAhead.push(line);
      return;
    }
    if (line !== "") this.emit("chat", raw.trim());
  }
}

/** A path as typed or dropped into a terminal: surrounding quotes removed. */
function unquote(path: string): string {
  const trimmed = path.trim();
  const quoted = /^(["'])(.*)\1$/su.exec(trimmed);
  return quoted?.[2] ?? trimmed;
}
