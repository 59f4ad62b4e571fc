/**
 * Clipboard text from the end user to controlling technicians: watched while one is connected;
 * only changes made after that are sent (what was on the clipboard before stays private), and
 * text a technician just put there is not echoed back.
 *
 * Reading the clipboard means running a helper program, and starting a process from the agent
 * stalls its event loop for tens of milliseconds (fork copies the page tables of a few hundred MB).
 * So the agent starts one small shell loop once, which runs `xsel` every second and prints the
 * clipboard (base64, one line) when it changed. X11 only for now; elsewhere the clipboard is not
 * watched (technician -> end user still works, through nut-js).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { MAX_CLIPBOARD_CHARS } from "../../shared/limits.ts";
import type { Injector } from "./injector.ts";

/** Ends by itself when the agent is gone, even one that was killed. */
const WATCH_SCRIPT =
  'prev=x; while kill -0 "$AGENT" 2>/dev/null; do ' +
  'cur=$("$XSEL" --clipboard --output 2>/dev/null | base64 -w0); ' +
  'if [ "$cur" != "$prev" ]; then printf "%s\\n" "$cur"; prev=$cur; fi; sleep "$INTERVAL"; done';

/** xsel as clipboardy ships it (the helper nut-js uses), else one on PATH. */
function xselPath(): string | undefined {
  if (process.platform !== "linux") return undefined;
  try {
    const provider = createRequire(import.meta.url).resolve("@nut-tree-fork/default-clipboard-provider");
    const root = dirname(createRequire(provider).resolve("clipboardy"));
    const bundled = join(root, "fallbacks", "linux", "xsel");
    if (existsSync(bundled)) return bundled;
  } catch {
    // not installed next to the agent: try PATH
  }
  return "xsel";
}

export class ClipboardWatch {
  readonly #injector: Injector;
  readonly #onChange: (text: string) => void;
  readonly #intervalSeconds: number;
  #watcher: ChildProcess | undefined;
  /** The clipboard as last seen (or written by a technician); undefined until the first reading. */
  #last: string | undefined;
  #firstReading: Promise<void> | undefined;

  constructor(injector: Injector, onChange: (text: string) => void, intervalSeconds = 1) {
    this.#injector = injector;
    this.#onChange = onChange;
    this.#intervalSeconds = intervalSeconds;
  }

  set running(running: boolean) {
    if (running && this.#watcher === undefined) this.#start();
    else if (!running && this.#watcher !== undefined) this.#stop();
  }

  /** Resolves once the clipboard as it is now has been read (it counts as seen, not sent). */
  async prime(): Promise<void> {
    await Promise.race([this.#firstReading, new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);
  }

  /** Puts a technician's text on the clipboard without sending it back. */
  async write(text: string): Promise<void> {
    this.#last = text;
    await this.#injector.writeClipboard(text);
  }

  #start(): void {
    const xsel = xselPath();
    if (xsel === undefined) return;
    const watcher = spawn("sh", ["-c", WATCH_SCRIPT], {
      env: {
        ...process.env,
        XSEL: xsel,
        INTERVAL: String(this.#intervalSeconds),
        AGENT: String(process.pid),
      },
      stdio: ["ignore", "pipe", "ignore"],
    });
    this.#watcher = watcher;
    watcher.on("error", () => this.#stop());
    let first: () => void = () => undefined;
    this.#firstReading = new Promise((resolve) => {
      first = resolve;
    });
    if (watcher.stdout === null) return;
    createInterface({ input: watcher.stdout }).on("line", (line) => {
      const text = Buffer.from(line, "base64").toString("utf8");
      const seenBefore = this.#last;
      this.#last = text;
      first();
      if (seenBefore !== undefined && text !== seenBefore && text.length <= MAX_CLIPBOARD_CHARS) {
        this.#onChange(text);
      }
    });
  }

  #stop(): void {
    this.#watcher?.kill();
    this.#watcher = undefined;
    this.#last = undefined;
    this.#firstReading = undefined;
  }
}
