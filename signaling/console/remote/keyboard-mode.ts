import { DEFAULT_KEYBOARD_MODE, KEYBOARD_MODES, type KeyboardMode } from "../../../shared/control.ts";

/**
 * The technician's keyboard mode, remembered per technician in this browser (localStorage, keyed
 * by the technician's id; the gateway keeps no console preferences). Map by position is the
 * default: shortcuts and games behave as on the end user's own keyboard.
 */

const storageKey = (technicianId: string): string => `sos.keyboardMode.${technicianId}`;

function isMode(value: unknown): value is KeyboardMode {
  return typeof value === "string" && (KEYBOARD_MODES as readonly string[]).includes(value);
}

export function storedKeyboardMode(technicianId: string): KeyboardMode {
  try {
    const value = globalThis.localStorage?.getItem(storageKey(technicianId));
    return isMode(value) ? value : DEFAULT_KEYBOARD_MODE;
  } catch {
    return DEFAULT_KEYBOARD_MODE;
  }
}

export function storeKeyboardMode(technicianId: string, mode: KeyboardMode): void {
  try {
    globalThis.localStorage?.setItem(storageKey(technicianId), mode);
  } catch {
    // Private mode or storage disabled: the choice lasts until the view closes.
  }
}
