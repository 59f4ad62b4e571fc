/**
 * Windows' secure desktop, for the technician's view: while a UAC prompt, the lock screen or the
 * Ctrl+Alt+Del screen is up, input goes to a desktop other than "Default" (named "Winlogon"), which
 * a program that is not elevated can neither capture nor control, nor even open. The agent cannot
 * answer it; it tells the console that the end user must. Polled while someone looks.
 */

/** The name of the input desktop as read (null: it could not be opened). */
export type InputDesktopName = string | null;

/**
 * Whether the input desktop is one the agent cannot reach: any but the user's "Default" (Windows
 * compares desktop names without case), and one it may not open at all (the secure desktop is
 * closed to processes that are not elevated).
 */
export function isSecureDesktop(name: InputDesktopName): boolean {
  return name === null || name.toLowerCase() !== "default";
}

const POLL_MS = 1_000;

export class DesktopWatch {
  readonly #read: () => Promise<InputDesktopName>;
  readonly #onChange: (secure: boolean) => void;
  readonly #onError: (error: unknown) => void;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #busy = false;
  /** The last answer (undefined before the first). */
  #secure: boolean | undefined;

  constructor(
    read: () => Promise<InputDesktopName>,
    onChange: (secure: boolean) => void,
    onError: (error: unknown) => void,
    intervalMs = POLL_MS,
  ) {
    this.#intervalMs = intervalMs;
    this.#read = read;
    this.#onChange = onChange;
    this.#onError = onError;
  }

  /** Whether the secure desktop showed at the last look; undefined before the first. */
  get secure(): boolean | undefined {
    return this.#secure;
  }

  set running(running: boolean) {
    if (running && this.#timer === undefined) {
      this.#timer = setInterval(() => void this.#poll(), this.#intervalMs);
      void this.#poll();
    } else if (!running && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  async #poll(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      const secure = isSecureDesktop(await this.#read());
      if (this.#timer === undefined || secure === this.#secure) return;
      this.#secure = secure;
      this.#onChange(secure);
    } catch (error) {
      this.#onError(error);
    } finally {
      this.#busy = false;
    }
  }
}
