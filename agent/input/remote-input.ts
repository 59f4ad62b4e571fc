/**
 * One technician's input on the end user's desktop: pointer coordinates mapped onto the shown
 * monitor, wheel deltas turned into steps, and a record of the keys and buttons this technician
 * holds down, so they can be released when the technician goes or loses control.
 * Whether input may be applied at all is decided by the session, not here.
 */
import type { TechnicianControl } from "../../shared/control.ts";
import type { MonitorGeometry } from "../media/capture.ts";
import { toDesktop } from "./geometry.ts";
import type { Injector, MouseButton } from "./injector.ts";
import { type KeyName, keyNameOf } from "./key-codes.ts";
import { keyStrokeOf } from "./text-keys.ts";

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
  readonly #keys = new Set<KeyName>();
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
      case "key": {
        const key = keyNameOf(message.code);
        if (key === undefined) return;
        if (message.down) this.#keys.add(key);
        else if (!this.#keys.delete(key)) return;
        await this.#injector.key(key, message.down);
        return;
      }
      case "text":
        await this.#text(message.text);
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

  async #text(text: string): Promise<void> {
    const shiftHeld = this.#keys.has("LeftShift") || this.#keys.has("RightShift");
    for (const char of text) {
      const stroke = keyStrokeOf(char);
      if (stroke === undefined) {
        await this.#injector.type(char);
        continue;
      }
      const shift = stroke.shift && !shiftHeld;
      if (shift) await this.#injector.key("LeftShift", true);
      await this.#injector.key(stroke.key, true);
      await this.#injector.key(stroke.key, false);
      if (shift) await this.#injector.key("LeftShift", false);
    }
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
