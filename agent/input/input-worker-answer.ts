/**
 * How the input worker answers one call (input-worker.ts): runs the injector's method and posts
 * its value, or its failure, under the call's id.
 */
import type { Injector } from "./injector.ts";
import type { FromInputWorker, InjectorCall, ToInputWorker } from "./input-worker-protocol.ts";

function call(injector: Injector, request: InjectorCall): Promise<unknown> {
  switch (request.method) {
    case "move":
      return injector.move(...request.args);
    case "button":
      return injector.button(...request.args);
    case "scroll":
      return injector.scroll(...request.args);
    case "key":
      return injector.key(...request.args);
    case "type":
      return injector.type(...request.args);
    case "position":
      return injector.position();
    case "writeClipboard":
      return injector.writeClipboard(...request.args);
    case "readClipboard":
      return injector.readClipboard(...request.args);
    case "inputDesktop":
      return injector.inputDesktop();
    case "readCursor":
      return injector.readCursor(...request.args);
  }
}

/**
 * Answers `request` with `post` once its call settles. Whatever the call does (throws at once,
 * rejects, or gives a value a structured clone cannot carry), the answer is that call's error:
 * nothing escapes into the worker, where an exception would end it and with it input, the
 * clipboard, the input desktop and the cursor for the rest of the session.
 */
export async function answer(
  injector: Injector,
  request: ToInputWorker,
  post: (message: FromInputWorker) => void,
): Promise<void> {
  try {
    const value = await call(injector, request);
    post({ type: "done", id: request.id, value });
  } catch (error) {
    try {
      post({
        type: "error",
        id: request.id,
        message: error instanceof Error ? error.message : String(error),
      });
    } catch {
      // The port is closed: the agent is stopping and asks nothing more.
    }
  }
}
