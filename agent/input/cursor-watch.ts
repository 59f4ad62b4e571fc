/**
 * The end user's pointer, for the technician's view: captured frames carry no cursor, so the
 * agent polls the pointer position and reports each move, normalized to the shown monitor.
 * `visible`: inside the shown monitor and not hidden by a program (cursor-look.ts).
 */
import type { MonitorGeometry } from "../media/capture.ts";
import { type FailureRun, failureRun } from "./failure-run.ts";
import { toNormalized } from "./geometry.ts";
import type { Injector } from "./injector.ts";

export type CursorPosition = { readonly x: number; readonly y: number; readonly visible: boolean };

export class CursorWatch {
  readonly #injector: Pick<Injector, "position">;
  readonly #monitor: () => MonitorGeometry;
  readonly #onMove: (position: CursorPosition) => void;
  readonly #failures: FailureRun;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #last: { x: number; y: number } | undefined;
  #busy = false;
  #hidden = false;

  /** `onError`: a position that could not be read (the watch goes on polling). */
  constructor(
    injector: Pick<Injector, "position">,
    monitor: () => MonitorGeometry,
    onMove: (position: CursorPosition) => void,
    onError: (error: unknown) => void,
    intervalMs = 50,
  ) {
    this.#injector = injector;
    this.#monitor = monitor;
    this.#onMove = onMove;
    this.#failures = failureRun(onError);
    this.#intervalMs = intervalMs;
  }

  /** Watches while true; the last position is reported again on the next start. */
  set running(running: boolean) {
    if (running && this.#timer === undefined) {
      this.#last = undefined;
      this.#timer = setInterval(() => void this.#poll(), this.#intervalMs);
    } else if (!running && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  /** A program hid (or showed again) the pointer: reported with the next poll. */
  set hidden(hidden: boolean) {
    if (hidden === this.#hidden) return;
    this.#hidden = hidden;
    this.refresh();
  }

  /** Reports the current position at the next poll even when it did not move. */
  refresh(): void {
    this.#last = undefined;
  }

  async #poll(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      const at = await this.#injector.position();
      this.#failures.succeeded();
      if (this.#last?.x === at.x && this.#last.y === at.y) return;
      this.#last = at;
      const normalized = toNormalized(this.#monitor(), at.x, at.y);
      this.#onMove({ x: normalized.x, y: normalized.y, visible: normalized.inside && !this.#hidden });
    } catch (error) {
      // Not an unhandled rejection (that would end the agent): told once, and polled again.
      this.#failures.failed(error);
    } finally {
      this.#busy = false;
    }
  }
}
