/**
 * The pointer's look on Windows, for the technician's view: the Windows counterpart of
 * x11-cursor-shape.ts behind the same seam (cursor-look.ts). Windows announces no cursor change to
 * a program that does not own the window under the pointer, so the input worker is asked every
 * CURSOR_READ_INTERVAL_MS which cursor is shown (`GetCursorInfo`, a handle: cheap) and reads its
 * image only when the handle changed (win32-cursor.ts). No handle: a program hid the pointer.
 */
import { CURSOR_READ_INTERVAL_MS, type CursorLook, type CursorShapeSource } from "./cursor-look.ts";
import { failureRun } from "./failure-run.ts";
import type { Injector } from "./injector.ts";

/** The look as it crossed from the worker (its pixels a Uint8Array) with its pixels a Buffer again. */
function asLook(look: CursorLook): CursorLook {
  const pixels: Uint8Array = look.rgba;
  return { ...look, rgba: Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength) };
}

/** While reads fail (the worker gone, GDI refusing), the cursor is read this often instead. */
const FAILING_READ_INTERVAL_MS = 2_000;

/**
 * The Windows cursor-shape source: reads through the injector's worker; undefined (no watch) when
 * the first read fails (user32 through koffi unavailable). A read that fails is told to `onError`
 * once per run of the same failure (the end user's terminal is where warnings go) and the next
 * reads come at FAILING_READ_INTERVAL_MS until one succeeds.
 */
export function win32CursorShape(
  injector: Pick<Injector, "readCursor">,
  timing = { intervalMs: CURSOR_READ_INTERVAL_MS, failingIntervalMs: FAILING_READ_INTERVAL_MS },
): CursorShapeSource {
  return async (onChange, onError) => {
    let known: string | null | undefined;
    const read = async (): Promise<void> => {
      const reading = await injector.readCursor(known);
      if (reading.handle === known) return;
      known = reading.handle;
      if (reading.handle === null) onChange({ shown: false });
      else if (reading.look === undefined) onChange({ shown: true });
      else onChange({ shown: true, look: asLook(reading.look) });
    };
    try {
      await read();
    } catch {
      return undefined;
    }
    let closed = false;
    let timer: NodeJS.Timeout | undefined;
    const failures = failureRun(onError);
    const next = () => {
      const wait = failures.failing ? timing.failingIntervalMs : timing.intervalMs;
      if (!closed) timer = setTimeout(() => void tick(), wait);
    };
    const tick = async () => {
      try {
        await read();
        failures.succeeded();
      } catch (error) {
        failures.failed(error);
      }
      next();
    };
    next();
    return {
      close() {
        closed = true;
        clearTimeout(timer);
      },
    };
  };
}
