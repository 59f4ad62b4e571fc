/**
 * The keyboard through nut-js, where the agent has no X11 keyboard of its own (Windows, macOS).
 * nut-js presses keys by symbol, so a code types its US-layout symbol and a shortcut's letter is
 * pressed by its letter. Text: see text-keys.ts.
 */
import type { Keyboard } from "./injector.ts";
import { type KeyName, keyNameOf } from "./key-codes.ts";
import { keyStrokeOf } from "./text-keys.ts";

type Nut = typeof import("@nut-tree-fork/nut-js");

export function nutKeyboard(nut: Nut): Keyboard {
  const held = new Map<string, KeyName>();
  const press = async (key: KeyName, down: boolean) => {
    if (down) await nut.keyboard.pressKey(nut.Key[key]);
    else await nut.keyboard.releaseKey(nut.Key[key]);
  };
  return {
    async key(code, down, char) {
      if (!down) {
        const key = held.get(code) ?? keyNameOf(code);
        held.delete(code);
        if (key !== undefined) await press(key, false);
        return;
      }
      const letter = char !== undefined && /^[a-z0-9]$/i.test(char) ? keyStrokeOf(char)?.key : undefined;
      const key = held.get(code) ?? letter ?? keyNameOf(code);
      if (key === undefined) return;
      held.set(code, key);
      await press(key, true);
    },
    async type(text) {
      const shiftHeld = [...held.values()].some((key) => key === "LeftShift" || key === "RightShift");
      for (const char of text) {
        const stroke = keyStrokeOf(char);
        if (stroke === undefined) {
          await nut.keyboard.type(char);
          continue;
        }
        const shift = stroke.shift && !shiftHeld;
        if (shift) await press("LeftShift", true);
        await press(stroke.key, true);
        await press(stroke.key, false);
        if (shift) await press("LeftShift", false);
      }
    },
  };
}
