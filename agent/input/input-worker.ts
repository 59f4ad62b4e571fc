/**
 * The input worker: owns nut-js (and on Windows user32, win32-user32.ts and win32-cursor.ts) and runs the injector's calls in the order they arrive, so that
 * injection (synchronous X requests that wait while the X server serves a screen capture) never
 * holds up the main event loop, which receives the technician's next events meanwhile.
 */
import "../quiet-deprecations.ts";
import { parentPort } from "node:worker_threads";
import { x11Desktop } from "../x11-client.ts";
import type { Injector } from "./injector.ts";
import type { FromInputWorker, InjectorCall, ToInputWorker } from "./input-worker-protocol.ts";
import { openNutInjector } from "./nut-injector.ts";
import { openWin32Cursor } from "./win32-cursor.ts";
import { openWin32Desktop } from "./win32-user32.ts";
import { openX11Keyboard } from "./x11-keyboard.ts";

const port = parentPort;
if (port === null) throw new Error("input-worker must run in a worker thread");
const post = (message: FromInputWorker) => port.postMessage(message);

function call(injector: Injector, request: InjectorCall): Promise<unknown> {
  switch (request.method) {
    case "move":
      return injector.move(...request.args);
    case "button":
      return injector.button(...request.args);
    case "scroll":
      return injector.scroll(...request.args);
    case "key":
      return injector.key(...request.args);
    case "type":
      return injector.type(...request.args);
    case "position":
      return injector.position();
    case "writeClipboard":
      return injector.writeClipboard(...request.args);
    case "readClipboard":
      return injector.readClipboard(...request.args);
    case "inputDesktop":
      return injector.inputDesktop();
    case "readCursor":
      return injector.readCursor(...request.args);
  }
}

type Win32Extras = Pick<Injector, "readClipboard" | "writeClipboard" | "inputDesktop" | "readCursor">;

/**
 * user32 through koffi; without it input still works, and the clipboard, desktop and cursor calls
 * say why not.
 */
async function win32Extras(): Promise<Win32Extras> {
  try {
    const [desktop, cursor] = await Promise.all([openWin32Desktop(), openWin32Cursor()]);
    return { ...desktop, readCursor: async (known) => cursor.readCursor(known) };
  } catch (error) {
    const why = new Error(
      `user32 through koffi is unavailable: ${error instanceof Error ? error.message : String(error)}`,
    );
    return {
      readClipboard: () => Promise.reject(why),
      writeClipboard: () => Promise.reject(why),
      inputDesktop: () => Promise.reject(why),
      readCursor: () => Promise.reject(why),
    };
  }
}

try {
  // On an X11 desktop keys go through XTEST with the live keyboard mapping (x11-keyboard.ts);
  // a server without XTEST falls back to nut-js, as other platforms do.
  const keyboard = x11Desktop() ? await openX11Keyboard().catch(() => undefined) : undefined;
  const nut = await openNutInjector(keyboard);
  // On Windows the clipboard goes through user32 (nut-js would start a helper program the
  // executable does not carry), and the input desktop is watched (UAC prompt, lock screen).
  const injector: Injector = process.platform === "win32" ? { ...nut, ...(await win32Extras()) } : nut;
  port.on("message", (request: ToInputWorker) => {
    // The nut injector serializes its calls itself; replies go back as each one settles.
    call(injector, request).then(
      (value) => post({ type: "done", id: request.id, value }),
      (error: unknown) =>
        post({
          type: "error",
          id: request.id,
          message: error instanceof Error ? error.message : String(error),
        }),
    );
  });
  post({ type: "ready" });
} catch (error) {
  post({ type: "failed", message: error instanceof Error ? error.message : String(error) });
  port.close();
}
