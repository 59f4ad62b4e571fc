/**
 * `KeyboardEvent.code` (a physical key, named after its place on a US keyboard) to the Linux evdev
 * key number of the same physical key (linux/input-event-codes.h). X servers on Linux number keys
 * evdev + 8 (the `evdev` XKB rules: Xorg with libinput or evdev, Xvfb, XWayland), so this table is
 * what "map by position" presses there, whatever layout the end user has chosen.
 * This table is also the list of codes the agent accepts; others are ignored.
 */

// biome-ignore format: one keyboard row per line
const LETTERS: Readonly<Record<string, number>> = {
  Q: 16, W: 17, E: 18, R: 19, T: 20, Y: 21, U: 22, I: 23, O: 24, P: 25,
  A: 30, S: 31, D: 32, F: 33, G: 34, H: 35, J: 36, K: 37, L: 38,
  Z: 44, X: 45, C: 46, V: 47, B: 48, N: 49, M: 50,
};

const NAMED: Readonly<Record<string, number>> = {
  Escape: 1,
  Minus: 12,
  Equal: 13,
  Backspace: 14,
  Tab: 15,
  BracketLeft: 26,
  BracketRight: 27,
  Enter: 28,
  ControlLeft: 29,
  Semicolon: 39,
  Quote: 40,
  Backquote: 41,
  ShiftLeft: 42,
  Backslash: 43,
  Comma: 51,
  Period: 52,
  Slash: 53,
  ShiftRight: 54,
  NumpadMultiply: 55,
  AltLeft: 56,
  Space: 57,
  CapsLock: 58,
  NumLock: 69,
  ScrollLock: 70,
  Numpad7: 71,
  Numpad8: 72,
  Numpad9: 73,
  NumpadSubtract: 74,
  Numpad4: 75,
  Numpad5: 76,
  Numpad6: 77,
  NumpadAdd: 78,
  Numpad1: 79,
  Numpad2: 80,
  Numpad3: 81,
  Numpad0: 82,
  NumpadDecimal: 83,
  IntlBackslash: 86,
  F11: 87,
  F12: 88,
  IntlRo: 89,
  Convert: 92,
  KanaMode: 93,
  NonConvert: 94,
  NumpadEnter: 96,
  ControlRight: 97,
  NumpadDivide: 98,
  PrintScreen: 99,
  AltRight: 100,
  Home: 102,
  ArrowUp: 103,
  PageUp: 104,
  ArrowLeft: 105,
  ArrowRight: 106,
  End: 107,
  ArrowDown: 108,
  PageDown: 109,
  Insert: 110,
  Delete: 111,
  AudioVolumeMute: 113,
  AudioVolumeDown: 114,
  AudioVolumeUp: 115,
  NumpadEqual: 117,
  Pause: 119,
  NumpadComma: 121,
  Lang1: 122,
  Lang2: 123,
  IntlYen: 124,
  MetaLeft: 125,
  MetaRight: 126,
  ContextMenu: 127,
  MediaTrackNext: 163,
  MediaPlayPause: 164,
  MediaTrackPrevious: 165,
  MediaStop: 166,
};

/** The evdev key number for a `KeyboardEvent.code`, or undefined when the agent does not know it. */
export function evdevOf(code: string): number | undefined {
  if (Object.hasOwn(NAMED, code)) return NAMED[code];
  const letter = /^Key([A-Z])$/.exec(code)?.[1];
  if (letter !== undefined) return LETTERS[letter];
  const digit = /^Digit([0-9])$/.exec(code)?.[1];
  if (digit !== undefined) return digit === "0" ? 11 : Number(digit) + 1;
  const fn = /^F([1-9]|1[0-9]|2[0-4])$/.exec(code)?.[1];
  if (fn === undefined) return undefined;
  const n = Number(fn);
  if (n <= 10) return 58 + n;
  if (n <= 12) return 76 + n;
  return 170 + n; // F13 is 183
}

/** The X keycode of a physical key on a server with evdev key numbers. */
export function x11KeycodeOf(code: string): number | undefined {
  const evdev = evdevOf(code);
  return evdev === undefined ? undefined : evdev + 8;
}

/** Codes a technician holds for shortcuts, not for characters. */
const SHORTCUT_MODIFIERS = ["MetaLeft", "MetaRight", "AltLeft"] as const;
const CONTROLS = ["ControlLeft", "ControlRight"] as const;

/**
 * Whether keys held make the next key a shortcut (Ctrl+C) rather than a character. AltRight is
 * AltGr on most layouts, and Windows reports AltGr as ControlLeft + AltRight: Control with AltRight
 * is AltGr, not a shortcut.
 */
export function shortcutHeld(held: ReadonlySet<string>): boolean {
  if (SHORTCUT_MODIFIERS.some((code) => held.has(code))) return true;
  return CONTROLS.some((code) => held.has(code)) && !held.has("AltRight");
}
