/**
 * The end user's X keyboard mapping as data, and where a keysym sits on it. The core mapping that
 * XKB presents has, per keycode, the keysyms of group 1 levels 1 and 2, group 2 levels 1 and 2,
 * then group 1 levels 3 and 4 (AltGr and AltGr+Shift) and further levels and groups. Levels 3 and
 * beyond of group 2 are placed after however many levels group 1 has, which the core mapping does
 * not say, so in group 2 only levels 1 and 2 are looked up; other characters get a spare keycode.
 */
import { charOf, KEYSYM } from "./keysyms.ts";

export type Keymap = {
  readonly minKeycode: number;
  /** Keysyms per keycode (the row length). */
  readonly width: number;
  /** One row of keysyms per keycode from minKeycode; rows may be changed in place (spare keycodes). */
  readonly rows: number[][];
  /** Eight rows of keycodes: Shift, Lock, Control, Mod1 ... Mod5. */
  readonly modifiers: readonly (readonly number[])[];
};

/** A key and the modifiers it needs for one keysym. */
export type Stroke = { readonly keycode: number; readonly shift: boolean; readonly level3: boolean };

/** The core mapping's column of a (group, level), both from 0; undefined where it cannot be known. */
function column(group: number, level: number): number | undefined {
  if (group === 0) return [0, 1, 4, 5][level];
  if (group === 1 && level < 2) return 2 + level;
  return undefined;
}

export function rowOf(keymap: Keymap, keycode: number): readonly number[] {
  return keymap.rows[keycode - keymap.minKeycode] ?? [];
}

/** The keycodes bound to modifier `index` (0 Shift, 1 Lock, 2 Control, 3..7 Mod1..Mod5). */
function modifierKeycodes(keymap: Keymap, index: number): number[] {
  return (keymap.modifiers[index] ?? []).filter((keycode) => keycode !== 0);
}

/** The key that produces `keysym` at level 1 (0) of column 0 and is bound to a modifier. */
function modifierKey(keymap: Keymap, keysym: number): number | undefined {
  const bound = new Set(keymap.modifiers.flat().filter((keycode) => keycode !== 0));
  for (const keycode of bound) if (rowOf(keymap, keycode)[0] === keysym) return keycode;
  return undefined;
}

/** The key to hold for Shift: Shift_L if the layout has it, else any key bound to Shift. */
export function shiftKey(keymap: Keymap): number | undefined {
  return modifierKey(keymap, KEYSYM.Shift_L) ?? modifierKeycodes(keymap, 0)[0];
}

/** The key to hold for level 3 (AltGr), if the layout has one. */
export function level3Key(keymap: Keymap): number | undefined {
  return modifierKey(keymap, KEYSYM.ISO_Level3_Shift);
}

/**
 * Keycodes of modifiers that change what a key types or make it a shortcut: Shift, Control and
 * Mod1..Mod5 except the one holding Num Lock. Lock (Caps Lock) is a lock, handled by the caller.
 */
export function interferingModifiers(keymap: Keymap): Set<number> {
  const numLock = new Set(
    keymap.rows.flatMap((row, i) => (row[0] === 0xff7f ? [i + keymap.minKeycode] : [])),
  );
  const keycodes = new Set<number>();
  keymap.modifiers.forEach((row, index) => {
    if (index === 1) return;
    if (row.some((keycode) => numLock.has(keycode))) return;
    for (const keycode of row) if (keycode !== 0) keycodes.add(keycode);
  });
  return keycodes;
}

/**
 * Where `keysyms` (tried in order) sit in `group`: the lowest level wins, levels 3 and 4 only when
 * the layout has a level-3 key. `maxLevel` 2 limits the search to levels 1 and 2 (for shortcuts).
 */
export function strokeFor(
  keymap: Keymap,
  keysyms: readonly number[],
  group: number,
  maxLevel = 4,
): Stroke | undefined {
  const levels = level3Key(keymap) === undefined ? Math.min(maxLevel, 2) : maxLevel;
  for (const keysym of keysyms) {
    for (let level = 0; level < levels; level += 1) {
      const col = column(group, level);
      if (col === undefined) continue;
      const index = keymap.rows.findIndex((row) => row[col] === keysym);
      if (index >= 0) {
        return { keycode: index + keymap.minKeycode, shift: level % 2 === 1, level3: level >= 2 };
      }
    }
  }
  return undefined;
}

/** Whether Caps Lock swaps this key's levels 1 and 2 in `group` (a lower/upper case letter pair). */
export function capsAffects(keymap: Keymap, keycode: number, group: number): boolean {
  const row = rowOf(keymap, keycode);
  const lower = charOf(row[column(group, 0) ?? 0] ?? 0);
  const upper = charOf(row[column(group, 1) ?? 1] ?? 0);
  return lower !== undefined && upper !== undefined && lower !== upper && lower.toUpperCase() === upper;
}

/** Keycodes no key of the layout uses (all NoSymbol), highest first: free for characters it lacks. */
export function spareKeycodes(keymap: Keymap): number[] {
  const spare: number[] = [];
  keymap.rows.forEach((row, index) => {
    if (row.every((keysym) => keysym === KEYSYM.NoSymbol)) spare.push(index + keymap.minKeycode);
  });
  return spare.reverse();
}
