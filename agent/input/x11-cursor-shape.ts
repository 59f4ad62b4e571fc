/**
 * The pointer's look on X11, so that the technician sees the end user's cursor as it is (an
 * I-beam over text, a hand over a link, resize arrows): the one module that asks XFixes for it.
 * The X server reports each change of the displayed cursor (CursorNotify); the image is fetched
 * then, not polled. Where XFixes is missing (or not on X11) there is no watch and the console
 * draws its own arrow at the reported position.
 *
 * A program hides the pointer on X11 by showing a blank cursor (GTK while typing, video players):
 * that look is a hidden pointer (cursor-look.ts). XFixesHideCursor (some window managers) cannot
 * be seen: XFixes reports the cursor as if shown, and no request asks whether it is hidden.
 */
import type { CursorImage, Display } from "x11";
import { connectDisplay, extensionOf } from "../x11-client.ts";
import {
  CURSOR_READ_INTERVAL_MS,
  type CursorLook,
  type CursorShapeSource,
  cutAroundHotspot,
} from "./cursor-look.ts";

/**
 * XFixes' image as a look to send: premultiplied ARGB32 (B, G, R, A bytes on a little-endian
 * client) made straight RGBA, cut to MAX_CURSOR_SIDE around its hotspot (cursor-look.ts).
 */
export function cursorLook(image: CursorImage): CursorLook {
  const rgba = Buffer.alloc(image.width * image.height * 4);
  const source = image.cursorImage;
  for (let at = 0; at < rgba.byteLength; at += 4) {
    const alpha = source[at + 3] ?? 0;
    if (alpha === 0) continue;
    const straight = (value: number) => Math.min(255, Math.round((value * 255) / alpha));
    rgba[at] = straight(source[at + 2] ?? 0);
    rgba[at + 1] = straight(source[at + 1] ?? 0);
    rgba[at + 2] = straight(source[at] ?? 0);
    rgba[at + 3] = alpha;
  }
  return cutAroundHotspot({
    width: image.width,
    height: image.height,
    hotX: image.xhot,
    hotY: image.yhot,
    rgba,
  });
}

/**
 * Watches the displayed cursor and calls `onChange` with each new look (at most every
 * CURSOR_READ_INTERVAL_MS, the latest one); undefined where XFixes cannot be used. The first look
 * is reported as soon as it is read. `onError` hears what went wrong inside (a failing `onChange`
 * included): it runs in the X connection's event dispatch, where a throw would end the process.
 */
export const watchCursorShape: CursorShapeSource = async (onChange, onError) => {
  let display: Display;
  try {
    display = await connectDisplay();
  } catch {
    return undefined;
  }
  const fixes = await extensionOf(display, "fixes");
  const root = display.screen[0]?.root;
  if (fixes === undefined || root === undefined) {
    display.client.terminate();
    return undefined;
  }
  let serial: number | undefined;
  let closed = false;
  let lastRead = Number.NEGATIVE_INFINITY;
  let pending: NodeJS.Timeout | undefined;
  const read = () => {
    pending = undefined;
    lastRead = performance.now();
    fixes.GetCursorImage((error, image) => {
      try {
        if (closed || error || image.cursorSerial === serial) return;
        serial = image.cursorSerial;
        // An empty image or a blank one (cursor-look.ts) is a hidden pointer.
        if (image.width === 0 || image.height === 0) onChange({ shown: false });
        else onChange({ shown: true, look: cursorLook(image) });
      } catch (failure) {
        onError(failure);
      }
    });
  };
  const readSoon = () => {
    if (closed || pending !== undefined) return;
    pending = setTimeout(read, Math.max(0, lastRead + CURSOR_READ_INTERVAL_MS - performance.now()));
  };
  display.client.on("event", (event) => {
    if (event.name === "CursorNotify" && event.cursorSerial !== serial) readSoon();
  });
  const stop = () => {
    closed = true;
    clearTimeout(pending);
  };
  // A server that goes away ends the watch: the capture notices the display on its own.
  display.client.on("end", stop);
  display.client.on("error", (error) => {
    stop();
    onError(error);
  });
  fixes.SelectCursorInput(root, fixes.CursorNotifyMask.DisplayCursor);
  read();
  return {
    close() {
      if (closed) return;
      stop();
      display.client.terminate();
    },
  };
};
