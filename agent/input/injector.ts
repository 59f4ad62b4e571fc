/**
 * Input injection as the agent uses it: pointer, buttons, wheel, keys, text and the clipboard.
 * The work happens in the input worker (input-worker.ts: nut-js, on X11 the keyboard of
 * x11-keyboard.ts, on Windows the clipboard and desktop of win32-user32.ts and the cursor of
 * win32-cursor.ts); this side forwards each call and resolves it with the worker's answer. Calls
 * run one at a time, in the order made, so a key's down always lands before its up.
 */
import { Worker } from "node:worker_threads";
import type { FromInputWorker, InjectorCall, ToInputWorker } from "./input-worker-protocol.ts";
import type { CursorReading } from "./win32-cursor.ts";
import type { ClipboardReading } from "./win32-user32.ts";

export type { ClipboardReading, CursorReading };

export type MouseButton = "left" | "middle" | "right";

/** The keyboard, by physical key and by character. */
export type Keyboard = {
  /**
   * Presses or releases the physical key `code` (a `KeyboardEvent.code`). With `char`, presses the
   * key that types `char` on the end user's layout instead, when it has one (a shortcut's letter).
   * A release always lets go of the key its press pressed.
   */
  key(code: string, down: boolean, char?: string): Promise<void>;
  /** Types characters exactly as given, whatever the layout and the modifiers held. */
  type(text: string): Promise<void>;
};

export type Injector = Keyboard & {
  /** Moves the pointer to a desktop pixel. */
  move(x: number, y: number): Promise<void>;
  button(button: MouseButton, down: boolean): Promise<void>;
  /** Wheel steps (notches): positive dy scrolls down, positive dx scrolls right. */
  scroll(dx: number, dy: number): Promise<void>;
  /** The pointer's desktop position. */
  position(): Promise<{ x: number; y: number }>;
  /** Puts text on the clipboard (Windows: user32; elsewhere nut-js runs a helper program). */
  writeClipboard(text: string): Promise<void>;
  /**
   * Windows only (X11's clipboard is watched by x11-clipboard-source.ts): the clipboard's text if
   * it changed since the sequence number `known`.
   */
  readClipboard(known: number | undefined): Promise<ClipboardReading>;
  /** Windows only: the name of the desktop that receives input; null when it cannot be opened. */
  inputDesktop(): Promise<string | null>;
  /**
   * Windows only (X11's cursor is watched by x11-cursor-shape.ts): the shown cursor's handle, and
   * its look if the handle is not `known`. The look's pixels arrive as a Uint8Array (a structured
   * clone of the worker's Buffer).
   */
  readCursor(known: string | null | undefined): Promise<CursorReading>;
};

type Pending = { resolve(value: unknown): void; reject(error: Error): void };

/**
 * Starts the input worker; resolves once it has opened the display, rejects when it cannot. The
 * worker keeps the process alive only while it starts or a call is under way.
 */
export function loadInjector(): Promise<Injector> {
  const worker = new Worker(new URL("./input-worker.ts", import.meta.url));
  const pending = new Map<number, Pending>();
  let nextId = 0;
  let failure: Error | undefined;
  const settle = (id: number): Pending | undefined => {
    const call = pending.get(id);
    pending.delete(id);
    if (pending.size === 0) worker.unref();
    return call;
  };
  const failAll = (error: Error) => {
    failure = error;
    for (const { reject } of pending.values()) reject(error);
    pending.clear();
  };
  const send = <T>(request: InjectorCall): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (failure !== undefined) {
        reject(failure);
        return;
      }
      const id = nextId++;
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      if (pending.size === 1) worker.ref();
      worker.postMessage({ id, ...request } satisfies ToInputWorker);
    });
  const injector: Injector = {
    move: (...args) => send({ method: "move", args }),
    button: (...args) => send({ method: "button", args }),
    scroll: (...args) => send({ method: "scroll", args }),
    key: (...args) => send({ method: "key", args }),
    type: (...args) => send({ method: "type", args }),
    position: () => send({ method: "position", args: [] }),
    writeClipboard: (...args) => send({ method: "writeClipboard", args }),
    readClipboard: (...args) => send({ method: "readClipboard", args }),
    inputDesktop: () => send({ method: "inputDesktop", args: [] }),
    readCursor: (...args) => send({ method: "readCursor", args }),
  };
  return new Promise((resolve, reject) => {
    worker.on("message", (message: FromInputWorker) => {
      switch (message.type) {
        case "ready":
          if (pending.size === 0) worker.unref();
          resolve(injector);
          return;
        case "failed":
          reject(new Error(message.message));
          return;
        case "done":
          settle(message.id)?.resolve(message.value);
          return;
        case "error":
          settle(message.id)?.reject(new Error(message.message));
          return;
      }
    });
    worker.on("error", (error) => {
      failAll(error);
      reject(error);
    });
    worker.on("exit", () => {
      const stopped = new Error("the input worker stopped");
      failAll(stopped);
      reject(stopped);
    });
  });
}
