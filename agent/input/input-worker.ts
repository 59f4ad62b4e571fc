/**
 * The input worker: owns nut-js (and on Windows user32 and gdi32, win32-extras.ts) and runs the
 * injector's calls in the order they arrive (each answered by input-worker-answer.ts), so that
 * injection (synchronous X requests that wait while the X server serves a screen capture) never
 * holds up the main event loop, which receives the technician's next events meanwhile.
 */
import "../quiet-deprecations.ts";
import { parentPort } from "node:worker_threads";
import { x11Desktop } from "../x11-client.ts";
import type { Injector } from "./injector.ts";
import { answer } from "./input-worker-answer.ts";
import type { FromInputWorker, ToInputWorker } from "./input-worker-protocol.ts";
import { openNutInjector } from "./nut-injector.ts";
import { win32Extras } from "./win32-extras.ts";
import { openX11Keyboard } from "./x11-keyboard.ts";

const port = parentPort;
if (port === null) throw new Error("input-worker must run in a worker thread");
const post = (message: FromInputWorker) => port.postMessage(message);

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
    void answer(injector, request, post);
  });
  post({ type: "ready" });
} catch (error) {
  post({ type: "failed", message: error instanceof Error ? error.message : String(error) });
  port.close();
}
