import type { KeyboardMode, TechnicianControl } from "../../../shared/control.ts";

/**
 * Keyboard events as control messages: the physical key (`code`), the character it produced
 * (`key`, when one) and the keyboard mode; characters without a physical key go as text.
 */

const CODE = /^[A-Za-z0-9]+$/;

export type KeyLike = { readonly code: string; readonly key: string; readonly isComposing?: boolean };

/** The character a key event produced: one code point, not a control character. */
function producedChar(key: string): string | undefined {
  return [...key].length === 1 && !/\p{Cc}/u.test(key) ? key : undefined;
}

/**
 * Whether the event belongs to an input method's composition (its result arrives as text with
 * `compositionend`): the page must let the browser handle it.
 */
export function composing(event: KeyLike): boolean {
  return event.isComposing === true || event.key === "Process";
}

/** The message for a key going down or up; null when there is nothing to send. */
export function keyMessage(event: KeyLike, down: boolean, mode: KeyboardMode): TechnicianControl | null {
  if (composing(event)) return null;
  // A dead key only starts a character: by character, the composed one comes with the next key.
  if (mode === "character" && event.key === "Dead") return null;
  const char = producedChar(event.key);
  if (
    event.code !== "" &&
    event.code !== "Unidentified" &&
    CODE.test(event.code) &&
    event.code.length <= 32
  ) {
    return char === undefined
      ? { type: "key", code: event.code, down, mode }
      : { type: "key", code: event.code, down, key: char, mode };
  }
  // No physical code (on-screen keyboards, some layouts): send the character itself.
  if (down && char !== undefined) return { type: "text", text: char };
  return null;
}

const press = (codes: readonly string[]): TechnicianControl[] => [
  ...codes.map((code): TechnicianControl => ({ type: "key", code, down: true })),
  ...[...codes].reverse().map((code): TechnicianControl => ({ type: "key", code, down: false })),
];

/** Key combinations the browser or the local system would eat, sent from the toolbar. */
export const SPECIAL_KEYS = {
  ctrlAltDel: press(["ControlLeft", "AltLeft", "Delete"]),
  winKey: press(["MetaLeft"]),
  altTab: press(["AltLeft", "Tab"]),
} as const;
export type SpecialKey = keyof typeof SPECIAL_KEYS;
