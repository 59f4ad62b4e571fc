/**
 * Clipboard text from the end user to controlling technicians: watched while one is connected;
 * only changes made after that are sent (what was on the clipboard before stays private), and
 * text a technician just put there is not echoed back. Where the text comes from depends on the
 * platform (clipboard-source.ts); a platform without a source is not watched (technician -> end
 * user still works, through the injector).
 */
import { MAX_CLIPBOARD_CHARS } from "../../shared/limits.ts";
import type { ClipboardSource } from "./clipboard-source.ts";
import type { Injector } from "./injector.ts";

export class ClipboardWatch {
  readonly #injector: Pick<Injector, "writeClipboard">;
  readonly #source: ClipboardSource | undefined;
  readonly #onChange: (text: string) => void;
  #stop: (() => void) | undefined;
  /** The clipboard as last seen (or written by a technician); undefined until the first reading. */
  #last: string | undefined;
  #firstReading: Promise<void> | undefined;

  constructor(
    injector: Pick<Injector, "writeClipboard">,
    source: ClipboardSource | undefined,
    onChange: (text: string) => void,
  ) {
    this.#injector = injector;
    this.#source = source;
    this.#onChange = onChange;
  }

  set running(running: boolean) {
    if (running && this.#stop === undefined) this.#start();
    else if (!running && this.#stop !== undefined) this.#halt();
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
    if (this.#source === undefined) return;
    let first: () => void = () => undefined;
    this.#firstReading = new Promise((resolve) => {
      first = resolve;
    });
    this.#stop = this.#source.watch((text) => {
      const seenBefore = this.#last;
      this.#last = text;
      first();
      if (seenBefore !== undefined && text !== seenBefore && text.length <= MAX_CLIPBOARD_CHARS) {
        this.#onChange(text);
      }
    });
  }

  #halt(): void {
    this.#stop?.();
    this.#stop = undefined;
    this.#last = undefined;
    this.#firstReading = undefined;
  }
}
