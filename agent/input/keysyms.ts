/**
 * Characters and X keysyms. A character has up to two keysyms: the legacy one from keysymdef.h
 * (EuroSign 0x20ac, Cyrillic_zhe 0x6d6, Latin-1 as itself) that layouts mostly use, and the Unicode
 * keysym (0x1000000 + code point) that any character has. The table comes with the `x11` package.
 */
import keysymTable from "x11/lib/keysyms.js";

const UNICODE_KEYSYM = 0x100_0000;

/** Characters typed by a function key rather than a character keysym. */
const CONTROL_KEYSYMS: Readonly<Record<string, number>> = {
  "\n": 0xff0d, // Return
  "\r": 0xff0d,
  "\t": 0xff09, // Tab
  "\b": 0xff08, // BackSpace
};

const legacyByChar = new Map<string, number>();
const charByKeysym = new Map<number, string>();
for (const { code, description } of Object.values(keysymTable)) {
  const char = /^\((.+?)\) /u.exec(description ?? "")?.[1];
  if (char === undefined || [...char].length !== 1) continue;
  if (!charByKeysym.has(code)) charByKeysym.set(code, char);
  if (code >= UNICODE_KEYSYM) continue;
  const known = legacyByChar.get(char);
  if (known === undefined || code < known) legacyByChar.set(char, code);
}

/** The keysyms that type `char`, the one layouts use most first; empty for other control characters. */
export function keysymsOf(char: string): number[] {
  const control = CONTROL_KEYSYMS[char];
  if (control !== undefined) return [control];
  const point = char.codePointAt(0);
  if (point === undefined || point < 0x20 || (point >= 0x7f && point < 0xa0)) return [];
  const legacy = legacyByChar.get(char);
  const unicode = UNICODE_KEYSYM + point;
  return legacy === undefined || legacy === unicode ? [unicode] : [legacy, unicode];
}

/** The character a keysym types, or undefined for function keys, dead keys and NoSymbol. */
export function charOf(keysym: number): string | undefined {
  if (keysym >= UNICODE_KEYSYM && keysym <= UNICODE_KEYSYM + 0x10_ffff) {
    return String.fromCodePoint(keysym - UNICODE_KEYSYM);
  }
  return charByKeysym.get(keysym);
}

export const KEYSYM = {
  NoSymbol: 0,
  Shift_L: 0xffe1,
  ISO_Level3_Shift: 0xfe03,
  Mode_switch: 0xff7e,
} as const;
