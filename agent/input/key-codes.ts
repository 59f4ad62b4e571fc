/**
 * `KeyboardEvent.code` (a physical key, named after its US-layout position) to nut-js key names.
 * nut-js presses keys by symbol, so a code types its US-layout symbol on the end user's layout;
 * characters a layout places elsewhere are best sent as `text`. Codes not listed are ignored.
 */
import type { Key } from "@nut-tree-fork/nut-js";

export type KeyName = keyof typeof Key;

const NAMED: Readonly<Record<string, KeyName>> = {
  Escape: "Escape",
  Backspace: "Backspace",
  Tab: "Tab",
  Enter: "Return",
  Space: "Space",
  Minus: "Minus",
  Equal: "Equal",
  BracketLeft: "LeftBracket",
  BracketRight: "RightBracket",
  Backslash: "Backslash",
  Semicolon: "Semicolon",
  Quote: "Quote",
  Backquote: "Grave",
  Comma: "Comma",
  Period: "Period",
  Slash: "Slash",
  CapsLock: "CapsLock",
  ShiftLeft: "LeftShift",
  ShiftRight: "RightShift",
  ControlLeft: "LeftControl",
  ControlRight: "RightControl",
  AltLeft: "LeftAlt",
  AltRight: "RightAlt",
  MetaLeft: "LeftSuper",
  MetaRight: "RightSuper",
  ContextMenu: "Menu",
  ArrowUp: "Up",
  ArrowDown: "Down",
  ArrowLeft: "Left",
  ArrowRight: "Right",
  Insert: "Insert",
  Delete: "Delete",
  Home: "Home",
  End: "End",
  PageUp: "PageUp",
  PageDown: "PageDown",
  PrintScreen: "Print",
  ScrollLock: "ScrollLock",
  NumLock: "NumLock",
  NumpadEnter: "Enter",
  NumpadDecimal: "Decimal",
  NumpadAdd: "Add",
  NumpadSubtract: "Subtract",
  NumpadMultiply: "Multiply",
  NumpadDivide: "Divide",
  NumpadEqual: "NumPadEqual",
  AudioVolumeMute: "AudioMute",
  AudioVolumeDown: "AudioVolDown",
  AudioVolumeUp: "AudioVolUp",
  MediaPlayPause: "AudioPlay",
  MediaStop: "AudioStop",
  MediaTrackNext: "AudioNext",
  MediaTrackPrevious: "AudioPrev",
};

/** The nut-js key name for a `KeyboardEvent.code`, or undefined when the agent cannot press it. */
export function keyNameOf(code: string): KeyName | undefined {
  const named = NAMED[code];
  if (named !== undefined) return named;
  const letter = /^Key([A-Z])$/.exec(code)?.[1];
  if (letter !== undefined) return letter as KeyName;
  const digit = /^Digit([0-9])$/.exec(code)?.[1];
  if (digit !== undefined) return `Num${digit}` as KeyName;
  const numpad = /^Numpad([0-9])$/.exec(code)?.[1];
  if (numpad !== undefined) return `NumPad${numpad}` as KeyName;
  const fn = /^F([1-9]|1[0-9]|2[0-4])$/.exec(code)?.[1];
  if (fn !== undefined) return `F${fn}` as KeyName;
  return undefined;
}
