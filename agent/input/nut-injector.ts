/**
 * Input injection with nut-js, the one module that talks to it. Runs in the input worker
 * (input-worker.ts): libnut's calls are synchronous X requests, which wait whenever the X server
 * is busy (a screen capture under way), and must not hold up the agent's event loop. Loaded only
 * after the display was found: libnut crashes the process when it cannot open the display.
 * Calls run one at a time, in the order given, so a key's down always lands before its up.
 */
import type { Injector, Keyboard, MouseButton } from "./injector.ts";
import { nutKeyboard } from "./nut-keyboard.ts";

/** The injector; keys and text go to `keyboard` when given (X11), else to nut-js. */
export async function openNutInjector(keyboard?: Keyboard): Promise<Injector> {
  const nut = await import("@nut-tree-fork/nut-js");
  nut.mouse.config.autoDelayMs = 0;
  nut.keyboard.config.autoDelayMs = 0;
  // nut-js hands its (300 ms) default to libnut at construction; set libnut's own delays too.
  nut.providerRegistry.getKeyboard().setKeyboardDelay(0);
  nut.providerRegistry.getMouse().setMouseDelay(0);
  const buttons: Record<MouseButton, (typeof nut.Button)[keyof typeof nut.Button]> = {
    left: nut.Button.LEFT,
    middle: nut.Button.MIDDLE,
    right: nut.Button.RIGHT,
  };

  const keys = keyboard ?? nutKeyboard(nut);

  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(action: () => Promise<T>): Promise<T> => {
    const next = queue.then(action, action);
    queue = next.catch(() => undefined);
    return next;
  };

  return {
    move: (x, y) =>
      serial(async () => {
        await nut.mouse.setPosition(new nut.Point(x, y));
      }),
    button: (button, down) =>
      serial(async () => {
        if (down) await nut.mouse.pressButton(buttons[button]);
        else await nut.mouse.releaseButton(buttons[button]);
      }),
    scroll: (dx, dy) =>
      serial(async () => {
        if (dy > 0) await nut.mouse.scrollDown(dy);
        else if (dy < 0) await nut.mouse.scrollUp(-dy);
        if (dx > 0) await nut.mouse.scrollRight(dx);
        else if (dx < 0) await nut.mouse.scrollLeft(-dx);
      }),
    key: (code, down, char) => serial(() => keys.key(code, down, char)),
    type: (text) => serial(() => keys.type(text)),
    position: () =>
      serial(async () => {
        const point = await nut.mouse.getPosition();
        return { x: point.x, y: point.y };
      }),
    writeClipboard: (text) => nut.clipboard.setContent(text),
    // Windows' (win32-user32.ts, win32-cursor.ts) replace these there; X11 watches its clipboard
    // with xsel and its cursor through XFixes.
    readClipboard: () => Promise.reject(new Error("the clipboard is read by a helper program here")),
    inputDesktop: () => Promise.reject(new Error("no input desktop to watch here")),
    readCursor: () => Promise.reject(new Error("the cursor's look is read through XFixes here")),
  };
}
