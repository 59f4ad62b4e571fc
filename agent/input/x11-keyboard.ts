/**
 * The keyboard on X11, through the `x11` package: XTEST presses keycodes, the core keyboard mapping
 * and XKB's state say which keycode and modifiers type a character on the end user's layout as it
 * is now (read afresh for each key, so a layout switched mid-session is seen at once), and a
 * character the layout cannot type is given a spare keycode (ChangeKeyboardMapping), which is
 * restored once typing pauses. Runs in the input worker, in the injector's serial queue.
 */
import type { Display, Xkb, XTest } from "x11";
import { connectDisplay, extensionOf, SETUP_TIMEOUT_MS, within } from "../x11-client.ts";
import { x11KeycodeOf } from "./dom-codes.ts";
import type { Keyboard } from "./injector.ts";
import { keysymsOf } from "./keysyms.ts";
import {
  capsAffects,
  interferingModifiers,
  type Keymap,
  level3Key,
  rowOf,
  type Stroke,
  shiftKey,
  spareKeycodes,
  strokeFor,
} from "./x11-keymap.ts";

/** A spare keycode given a keysym is put back this long after the last character typed. */
export const SPARE_RESTORE_MS = 1_000;

const LOCK_MASK = 0x02;

type Reply<T> = (callback: (error: Error | null | undefined, value: T) => void) => void;

/** A request's reply; rejects when the server does not answer in time (it went away), so the
 * input queue moves on instead of waiting forever. */
function ask<T>(request: Reply<T>): Promise<T> {
  const answered = new Promise<T>((resolve, reject) =>
    request((error, value) => (error ? reject(error) : resolve(value))),
  );
  return within(answered, SETUP_TIMEOUT_MS, "the X server's answer");
}

export async function openX11Keyboard(): Promise<Keyboard> {
  const display = await connectDisplay();
  const [xtest, xkb] = await Promise.all([extensionOf(display, "xtest"), extensionOf(display, "xkb")]);
  if (xtest === undefined) {
    display.client.terminate();
    throw new Error("the X server has no XTEST extension");
  }
  return new Keys(display, xtest, xkb);
}

class Keys implements Keyboard {
  readonly #display: Display;
  readonly #xtest: XTest;
  readonly #xkb: Xkb | undefined;
  /** The keycode each held code pressed, so its release hits the same key after a layout change. */
  readonly #pressed = new Map<string, number>();
  /** Spare keycodes given a keysym, least recently used first. */
  readonly #spares = new Map<number, number>();
  #restoreTimer: NodeJS.Timeout | undefined;

  constructor(display: Display, xtest: XTest, xkb: Xkb | undefined) {
    this.#display = display;
    this.#xtest = xtest;
    this.#xkb = xkb;
  }

  async key(code: string, down: boolean, char?: string): Promise<void> {
    if (!down) {
      const keycode = this.#pressed.get(code) ?? x11KeycodeOf(code);
      this.#pressed.delete(code);
      if (keycode !== undefined) await this.#fake([[keycode, false]]);
      return;
    }
    let keycode = this.#pressed.get(code) ?? x11KeycodeOf(code);
    if (char !== undefined && !this.#pressed.has(code)) {
      const [keymap, state] = await Promise.all([this.#keymap(), this.#state()]);
      keycode = strokeFor(keymap, keysymsOf(char), state.group, 2)?.keycode ?? keycode;
    }
    if (keycode === undefined) return;
    this.#pressed.set(code, keycode);
    await this.#fake([[keycode, true]]);
  }

  async type(text: string): Promise<void> {
    const [keymap, state, down] = await Promise.all([this.#keymap(), this.#state(), this.#keysDown()]);
    const held = [...interferingModifiers(keymap)].filter((keycode) => down.has(keycode));
    const events: Array<[number, boolean]> = held.map((keycode) => [keycode, false]);
    for (const char of text) {
      const stroke = this.#strokeOrSpare(keymap, char, state.group);
      if (stroke === undefined) continue;
      const caps = (state.lockedMods & LOCK_MASK) !== 0 && capsAffects(keymap, stroke.keycode, state.group);
      const modifiers = [
        ...(stroke.shift !== caps ? [shiftKey(keymap)] : []),
        ...(stroke.level3 ? [level3Key(keymap)] : []),
      ].filter((keycode) => keycode !== undefined);
      for (const keycode of modifiers) events.push([keycode, true]);
      events.push([stroke.keycode, true], [stroke.keycode, false]);
      for (const keycode of modifiers.reverse()) events.push([keycode, false]);
    }
    for (const keycode of held) events.push([keycode, true]);
    await this.#fake(events);
    if (this.#spares.size > 0) this.#scheduleRestore();
  }

  /** The stroke for `char` on the layout, or a spare keycode given its keysym; undefined for none. */
  #strokeOrSpare(keymap: Keymap, char: string, group: number): Stroke | undefined {
    const keysyms = keysymsOf(char);
    const keysym = keysyms[0];
    if (keysym === undefined) return undefined;
    const stroke = strokeFor(keymap, keysyms, group);
    if (stroke !== undefined) return stroke;
    for (const [keycode, given] of this.#spares) {
      if (given !== keysym || rowOf(keymap, keycode)[0] !== keysym) continue;
      this.#spares.delete(keycode);
      this.#spares.set(keycode, keysym);
      return { keycode, shift: false, level3: false };
    }
    const free = spareKeycodes(keymap).filter((keycode) => !this.#spares.has(keycode));
    const keycode = free[0] ?? this.#spares.keys().next().value;
    if (keycode === undefined) return undefined;
    this.#spares.delete(keycode);
    this.#spares.set(keycode, keysym);
    const row = Array.from({ length: keymap.width }, (_, i) => (i < 2 ? keysym : 0));
    this.#display.client.ChangeKeyboardMapping(keycode, keymap.width, row);
    keymap.rows[keycode - keymap.minKeycode] = row;
    return { keycode, shift: false, level3: false };
  }

  #scheduleRestore(): void {
    clearTimeout(this.#restoreTimer);
    this.#restoreTimer = setTimeout(() => {
      this.#restoreSpares().catch(() => undefined);
    }, SPARE_RESTORE_MS);
    this.#restoreTimer.unref();
  }

  /** Puts back NoSymbol on the spare keycodes still holding what this agent gave them. */
  async #restoreSpares(): Promise<void> {
    if (this.#spares.size === 0) return;
    const keymap = await this.#keymap();
    for (const [keycode, keysym] of this.#spares) {
      if (rowOf(keymap, keycode)[0] !== keysym) continue;
      this.#display.client.ChangeKeyboardMapping(keycode, keymap.width, Array(keymap.width).fill(0));
    }
    this.#spares.clear();
    await this.#sync();
  }

  /** Sends key events, then waits until the server has handled them. */
  async #fake(events: ReadonlyArray<readonly [number, boolean]>): Promise<void> {
    const { KeyPress, KeyRelease } = this.#xtest;
    for (const [keycode, down] of events) {
      this.#xtest.FakeInput(down ? KeyPress : KeyRelease, keycode, 0, 0, 0, 0);
    }
    await this.#sync();
  }

  /** A round trip: requests sent before are done once it answers. */
  async #sync(): Promise<void> {
    await this.#keysDown();
  }

  async #keymap(): Promise<Keymap> {
    const { client, min_keycode: minKeycode, max_keycode: maxKeycode } = this.#display;
    const [rows, modifiers] = await Promise.all([
      ask<number[][]>((callback) =>
        client.GetKeyboardMapping(minKeycode, maxKeycode - minKeycode + 1, callback),
      ),
      ask<number[][]>((callback) => client.GetModifierMapping(callback)),
    ]);
    return { minKeycode, width: rows[0]?.length ?? 0, rows, modifiers };
  }

  /** The active group and locked modifiers (group 0, none, without XKB). */
  async #state(): Promise<{ group: number; lockedMods: number }> {
    const xkb = this.#xkb;
    if (xkb === undefined) return { group: 0, lockedMods: 0 };
    return ask((callback) => xkb.GetState(xkb.UseCoreKbd, callback));
  }

  async #keysDown(): Promise<Set<number>> {
    const bits = await ask<Buffer>((callback) => this.#display.client.QueryKeymap(callback));
    const down = new Set<number>();
    for (let keycode = 0; keycode < 256; keycode += 1) {
      if (((bits[keycode >> 3] ?? 0) >> (keycode & 7)) & 1) down.add(keycode);
    }
    return down;
  }
}
