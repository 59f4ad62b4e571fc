/**
 * Clipboard text from the end user to controlling technicians: polled while one is connected;
 * only changes made after that are sent (what was on the clipboard before stays private), and
 * text a technician just put there is not echoed back.
 */
import type { Injector } from "./injector.ts";

/** The control channel's limit for clipboard text (shared/control.ts). */
export const MAX_CLIPBOARD_CHARS = 60_000;

export class ClipboardWatch {
  readonly #injector: Injector;
  readonly #onChange: (text: string) => void;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #last: string | undefined;
  #busy = false;

  constructor(injector: Injector, onChange: (text: string) => void, intervalMs = 1_500) {
    this.#injector = injector;
    this.#onChange = onChange;
    this.#intervalMs = intervalMs;
  }

  set running(running: boolean) {
    if (running && this.#timer === undefined) {
      this.#timer = setInterval(() => void this.#poll(), this.#intervalMs);
    } else if (!running && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      this.#last = undefined;
    }
  }

  /** Reads what is on the clipboard now, as already seen (not to be sent). */
  async prime(): Promise<void> {
    if (this.#last !== undefined) return;
    const text = await this.#injector.readClipboard().catch(() => undefined);
    this.#last ??= text ?? "";
  }

  /** Puts a technician's text on the clipboard without sending it back. */
  async write(text: string): Promise<void> {
    this.#last = text;
    await this.#injector.writeClipboard(text);
  }

  async #poll(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      const text = await this.#injector.readClipboard().catch(() => undefined);
      if (text === undefined || text === this.#last) return;
      const first = this.#last === undefined;
      this.#last = text;
      if (!first && text.length <= MAX_CLIPBOARD_CHARS) this.#onChange(text);
    } finally {
      this.#busy = false;
    }
  }
}
