/**
 * One technician's input on the end user's desktop: pointer coordinates mapped onto the shown
 * monitor, wheel deltas turned into steps, keys by position or by character (the keyboard mode),
 * and a record of the keys and buttons this technician holds down, so they can be released when the
 * technician goes or loses control.
 * Whether input may be applied at all is decided by the session, not here.
 */
import type { TechnicianControl } from "../../shared/control.ts";
import type { MonitorGeometry } from "../media/capture.ts";
import { evdevOf, shortcutHeld } from "./dom-codes.ts";
import { toDesktop } from "./geometry.ts";
import type { Injector, MouseButton } from "./injector.ts";
import { keyNameOf } from "./key-codes.ts";

/** The control messages that act on the desktop. */
export type InputMessage = Extract<
  TechnicianControl,
  { type: "pointer" | "button" | "wheel" | "key" | "text" }
>;

const INPUT_TYPES: ReadonlySet<TechnicianControl["type"]> = new Set([
  "pointer",
  "button",
  "wheel",
  "key",
  "text",
]);

export function isInput(message: TechnicianControl): message is InputMessage {
  return INPUT_TYPES.has(message.type);
}

/** Wheel deltas arrive in CSS pixels (deltaMode 0); this many make one wheel step. */
export const PIXELS_PER_WHEEL_STEP = 100;

export class RemoteInput {
  readonly #injector: Injector;
  /** Codes held, in the order pressed. */
  readonly #keys = new Set<string>();
  readonly #buttons = new Set<MouseButton>();
  #wheelX = 0;
  #wheelY = 0;

  constructor(injector: Injector) {
    this.#injector = injector;
  }

  /** Keys and buttons this technician holds down now. */
  get held(): number {
    return this.#keys.size + this.#buttons.size;
  }

  async apply(message: InputMessage, monitor: MonitorGeometry): Promise<void> {
    switch (message.type) {
      case "pointer": {
        const point = toDesktop(monitor, message.x, message.y);
        await this.#injector.move(point.x, point.y);
        return;
      }
      case "button":
        if (message.down) this.#buttons.add(message.button);
        else if (!this.#buttons.delete(message.button)) return;
        await this.#injector.button(message.button, message.down);
        return;
      case "wheel":
        await this.#wheel(message.dx, message.dy);
        return;
      case "key":
        await this.#key(message);
        return;
      case "text":
        await this.#injector.type(message.text);
        return;
    }
  }

  /**
   * Releases every key (last pressed first) and button this technician holds. Safe to repeat, and
   * never fails: it runs while closing, and a release that cannot be injected has nothing to undo.
   */
  async releaseAll(): Promise<void> {
    const keys = [...this.#keys].reverse();
    const buttons = [...this.#buttons];
    this.#keys.clear();
    this.#buttons.clear();
    this.#wheelX = 0;
    this.#wheelY = 0;
    const release = (action: Promise<void>) => action.catch(() => undefined);
    for (const key of keys) await release(this.#injector.key(key, false));
    for (const button of buttons) await release(this.#injector.button(button, false));
  }

  /**
   * By position: the physical key goes down and up. By character: a key that produced a character
   * types it exactly (on its down; its up has nothing to release), unless a shortcut modifier is
   * held (Ctrl+C), when the key that types that character on the end user's layout is pressed.
   * Keys that produce no character (Enter, arrows, modifiers) go by position in both modes.
   */
  async #key(message: Extract<InputMessage, { type: "key" }>): Promise<void> {
    const { code, down, key: char } = message;
    if (evdevOf(code) === undefined && keyNameOf(code) === undefined) return;
    const byCharacter = message.mode === "character" && char !== undefined;
    if (!down) {
      if (this.#keys.delete(code)) await this.#injector.key(code, false);
      return;
    }
    if (byCharacter && !shortcutHeld(this.#keys)) {
      await this.#injector.type(char);
      return;
    }
    this.#keys.add(code);
    await this.#injector.key(code, true, byCharacter ? char : undefined);
  }

  async #wheel(dx: number, dy: number): Promise<void> {
    this.#wheelX += dx;
    this.#wheelY += dy;
    const stepsX = Math.trunc(this.#wheelX / PIXELS_PER_WHEEL_STEP);
    const stepsY = Math.trunc(this.#wheelY / PIXELS_PER_WHEEL_STEP);
    this.#wheelX -= stepsX * PIXELS_PER_WHEEL_STEP;
    this.#wheelY -= stepsY * PIXELS_PER_WHEEL_STEP;
    if (stepsX !== 0 || stepsY !== 0) await this.#injector.scroll(stepsX, stepsY);
  }
}
