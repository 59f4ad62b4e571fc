/**
 * The Windows parts of the injector that user32 and gdi32 give through koffi, opened in the input
 * worker: the clipboard and the input desktop (win32-user32.ts) and the cursor (win32-cursor.ts).
 * Without them input still works (nut-js), and each call that needs them rejects saying why.
 */
import type { Injector } from "./injector.ts";
import { openWin32Cursor, type Win32Cursor } from "./win32-cursor.ts";
import { openWin32Desktop, type Win32Desktop } from "./win32-user32.ts";

export type Win32Extras = Pick<Injector, "readClipboard" | "writeClipboard" | "inputDesktop" | "readCursor">;

/** What a part that failed to open answers: every call rejects with why it cannot be used. */
function unavailable(what: string, error: unknown): Error {
  return new Error(
    `${what} through koffi is unavailable: ${error instanceof Error ? error.message : String(error)}`,
  );
}

/**
 * Opens the clipboard and input desktop part and the cursor part each on its own: one that cannot
 * be used (a library or an export missing) leaves the other working, so a cursor that cannot be
 * read never stops the clipboard watch or the secure-desktop detection.
 */
export async function win32Extras(
  openDesktop: () => Promise<Win32Desktop> = openWin32Desktop,
  openCursor: () => Promise<Win32Cursor> = openWin32Cursor,
): Promise<Win32Extras> {
  const [desktop, cursor] = await Promise.allSettled([openDesktop(), openCursor()]);
  const desktopPart: Omit<Win32Extras, "readCursor"> =
    desktop.status === "fulfilled"
      ? desktop.value
      : (() => {
          const why = unavailable("user32", desktop.reason);
          return {
            readClipboard: () => Promise.reject(why),
            writeClipboard: () => Promise.reject(why),
            inputDesktop: () => Promise.reject(why),
          };
        })();
  const readCursor: Win32Extras["readCursor"] =
    cursor.status === "fulfilled"
      ? // async: a read that throws (koffi, GDI) is that call's rejection.
        async (known) => cursor.value.readCursor(known)
      : (() => {
          const why = unavailable("user32 and gdi32 (the cursor)", cursor.reason);
          return () => Promise.reject(why);
        })();
  return { ...desktopPart, readCursor };
}
