/**
 * Text as key presses. nut-js types a character by its symbol without the Shift a symbol may need
 * ("!" comes out as "1" on X11), so ASCII characters are pressed as keys here: letters and digits
 * by symbol (right on any Latin layout), punctuation by its US-layout key with Shift where the US
 * layout needs it. Other characters (é, €, ...) go to nut-js, which maps a spare key to them.
 */
import type { KeyName } from "./key-codes.ts";

export type KeyStroke = { readonly key: KeyName; readonly shift: boolean };

const PUNCTUATION: Readonly<Record<string, KeyStroke>> = {
  " ": { key: "Space", shift: false },
  "\n": { key: "Return", shift: false },
  "\t": { key: "Tab", shift: false },
  "-": { key: "Minus", shift: false },
  _: { key: "Minus", shift: true },
  "=": { key: "Equal", shift: false },
  "+": { key: "Equal", shift: true },
  "[": { key: "LeftBracket", shift: false },
  "{": { key: "LeftBracket", shift: true },
  "]": { key: "RightBracket", shift: false },
  "}": { key: "RightBracket", shift: true },
  "\\": { key: "Backslash", shift: false },
  "|": { key: "Backslash", shift: true },
  ";": { key: "Semicolon", shift: false },
  ":": { key: "Semicolon", shift: true },
  "'": { key: "Quote", shift: false },
  '"': { key: "Quote", shift: true },
  "`": { key: "Grave", shift: false },
  "~": { key: "Grave", shift: true },
  ",": { key: "Comma", shift: false },
  "<": { key: "Comma", shift: true },
  ".": { key: "Period", shift: false },
  ">": { key: "Period", shift: true },
  "/": { key: "Slash", shift: false },
  "?": { key: "Slash", shift: true },
};

const SHIFTED_DIGITS = ")!@#$%^&*(";

/** The key stroke for an ASCII character, or undefined when nut-js should type it by symbol. */
export function keyStrokeOf(char: string): KeyStroke | undefined {
  const punctuation = PUNCTUATION[char];
  if (punctuation !== undefined) return punctuation;
  if (/^[a-z]$/.test(char)) return { key: char.toUpperCase() as KeyName, shift: false };
  if (/^[A-Z]$/.test(char)) return { key: char as KeyName, shift: true };
  if (/^[0-9]$/.test(char)) return { key: `Num${char}` as KeyName, shift: false };
  const shiftedDigit = SHIFTED_DIGITS.indexOf(char);
  if (shiftedDigit >= 0 && char.length === 1) return { key: `Num${shiftedDigit}` as KeyName, shift: true };
  return undefined;
}
