/**
 * Messages between the injector (main thread) and the input worker. Both ends are ours and
 * messages are structured clones: typed here, not decoded.
 */
import type { Injector } from "./injector.ts";

/** An injector method and its arguments. */
export type InjectorCall = {
  [Method in keyof Injector]: { readonly method: Method; readonly args: Parameters<Injector[Method]> };
}[keyof Injector];

export type ToInputWorker = { readonly id: number } & InjectorCall;

export type FromInputWorker =
  /** nut-js is loaded and the display open (or it failed: the worker then ends). */
  | { readonly type: "ready" }
  | { readonly type: "failed"; readonly message: string }
  | { readonly type: "done"; readonly id: number; readonly value: unknown }
  | { readonly type: "error"; readonly id: number; readonly message: string };
