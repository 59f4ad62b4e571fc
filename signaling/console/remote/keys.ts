import type { TechnicianControl } from "../../../shared/control.ts";

/** Keyboard events as control messages: physical keys by `code`, other characters as text. */

const CODE = /^[A-Za-z0-9]+$/;

export type KeyLike = { readonly code: string; readonly key: string };

/** The message for a key going down or up; null when there is nothing to send. */
export function keyMessage(event: KeyLike, down: boolean): TechnicianControl | null {
  if (
    event.code !== "" &&
    event.code !== "Unidentified" &&
    CODE.test(event.code) &&
    event.code.length <= 32
  ) {
    return { type: "key", code: event.code, down };
  }
  // No physical code (on-screen keyboards, some layouts): send the character itself.
  if (down && [...event.key].length === 1) return { type: "text", text: event.key };
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
