/**
 * Where the end user's clipboard text comes from, one per platform, chosen by the composition
 * root (agent/main.ts): X11 runs a small xsel loop (x11-clipboard-source.ts), Windows asks user32
 * in the input worker (win32-clipboard-source.ts). Writing goes through the injector everywhere.
 */
export type ClipboardSource = {
  /**
   * Calls `onText` with the clipboard's text as it is now (empty when it holds no text), then
   * after each change, until the returned stop is called.
   */
  watch(onText: (text: string) => void): () => void;
};
