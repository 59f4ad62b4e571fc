/**
 * Windows refuses screen capture while its secure desktop shows (a UAC prompt, the lock screen,
 * the Ctrl+Alt+Del screen) and while the session is disconnected: GDI and DXGI answer with an
 * error until the end user is back on the normal desktop. That is a pause, not the end of the
 * screen, so there a failed capture gives the last picture again after a short wait (nothing
 * changed: nothing is encoded) and capture is tried again; the console is told why by
 * desktop-watch.ts. A failure before any picture was taken still fails.
 */
import type { ScreenFrame } from "./capture.ts";

/** How long a refused capture waits before the next try. */
export const HELD_RETRY_MS = 500;

export function holdingLastFrame(
  capture: () => Promise<ScreenFrame>,
  retryMs = HELD_RETRY_MS,
): () => Promise<ScreenFrame> {
  let last: ScreenFrame | undefined;
  return async () => {
    try {
      last = await capture();
      return last;
    } catch (error) {
      if (last === undefined) throw error;
      const held = last;
      await new Promise((resolve) => setTimeout(resolve, retryMs));
      return held;
    }
  };
}
