/**
 * The Windows clipboard for clipboard-watch.ts: the input worker reads Windows' clipboard sequence
 * number (a counter that moves on every change, cheap to read) this often, and the text only when
 * it moved (win32-user32.ts).
 */
import type { ClipboardSource } from "./clipboard-source.ts";
import type { Injector } from "./injector.ts";

const POLL_MS = 250;

export function win32ClipboardSource(
  injector: Pick<Injector, "readClipboard">,
  onError: (error: unknown) => void,
): ClipboardSource {
  return {
    watch(onText) {
      let known: number | undefined;
      let stopped = false;
      let timer: NodeJS.Timeout | undefined;
      const look = async () => {
        try {
          const reading = await injector.readClipboard(known);
          if (stopped) return;
          if (reading.sequence !== known && reading.text !== undefined) onText(reading.text);
          known = reading.sequence;
        } catch (error) {
          onError(error);
        }
        if (!stopped) timer = setTimeout(() => void look(), POLL_MS);
      };
      void look();
      return () => {
        stopped = true;
        clearTimeout(timer);
      };
    },
  };
}
