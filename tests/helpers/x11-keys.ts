/**
 * Looks at an X server's keyboard from a test: which keys are down, what a keycode is mapped to,
 * and the XKB group lock (to switch to the second layout of "us,ru" as a layout indicator would).
 */
import type { Display } from "x11";
import { connectDisplay, extensionOf } from "../../agent/x11-client.ts";

export type KeyboardProbe = {
  keysDown(): Promise<number[]>;
  /** Keycodes mapped to nothing at all (NoSymbol in every column). */
  emptyKeycodes(): Promise<number[]>;
  /** Locks XKB group `group` (0 first layout, 1 second ...). */
  lockGroup(group: number): Promise<void>;
  close(): void;
};

export async function keyboardProbe(): Promise<KeyboardProbe> {
  const display: Display = await connectDisplay();
  const client = display.client;
  const xkb = await extensionOf(display, "xkb");
  const keysDown = () =>
    new Promise<number[]>((resolve, reject) =>
      client.QueryKeymap((error, bits) => {
        if (error) return reject(error);
        const down: number[] = [];
        for (let keycode = 8; keycode < 256; keycode += 1) {
          if (((bits[keycode >> 3] ?? 0) >> (keycode & 7)) & 1) down.push(keycode);
        }
        resolve(down);
      }),
    );
  return {
    keysDown,
    emptyKeycodes: () =>
      new Promise((resolve, reject) =>
        client.GetKeyboardMapping(
          display.min_keycode,
          display.max_keycode - display.min_keycode + 1,
          (error, rows) =>
            error
              ? reject(error)
              : resolve(
                  rows.flatMap((row, i) =>
                    row.every((keysym) => keysym === 0) ? [i + display.min_keycode] : [],
                  ),
                ),
        ),
      ),
    async lockGroup(group) {
      if (xkb === undefined) throw new Error("no XKB");
      xkb.LatchLockState(xkb.UseCoreKbd, 0, 0, true, group, 0, 0, false, 0);
      await keysDown();
    },
    close: () => client.terminate(),
  };
}
