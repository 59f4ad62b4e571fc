/**
 * The pointer's look on X11, so that the technician sees the end user's cursor as it is (an
 * I-beam over text, a hand over a link, resize arrows): the one module that asks XFixes for it.
 * The X server reports each change of the displayed cursor (CursorNotify); the image is fetched
 * then, not polled. Where XFixes is missing (or not on X11) there is no watch and the console
 * draws its own arrow at the reported position.
 */
import type { CursorImage, Display } from "x11";
import { MAX_CURSOR_SIDE } from "../../shared/control.ts";
import { connectDisplay, extensionOf } from "../x11-client.ts";

/** A cursor image: straight (not premultiplied) RGBA rows and the hotspot. */
export type CursorLook = {
  readonly width: number;
  readonly height: number;
  readonly hotX: number;
  readonly hotY: number;
  readonly rgba: Buffer;
};

export type CursorShapeWatch = { close(): void };

/**
 * XFixes' image as a look to send: premultiplied ARGB32 (B, G, R, A bytes on a little-endian
 * client) made straight RGBA, and an image larger than MAX_CURSOR_SIDE (a large accessibility
 * cursor) cut to that size around its hotspot.
 */
export function cursorLook(image: CursorImage): CursorLook {
  const cut = (size: number, hot: number) => {
    const kept = Math.min(size, MAX_CURSOR_SIDE);
    const start = Math.max(0, Math.min(size - kept, hot - (kept >> 1)));
    return { start, kept };
  };
  const columns = cut(image.width, image.xhot);
  const rows = cut(image.height, image.yhot);
  const out = Buffer.alloc(columns.kept * rows.kept * 4);
  const source = image.cursorImage;
  for (let y = 0; y < rows.kept; y++) {
    for (let x = 0; x < columns.kept; x++) {
      const from = ((rows.start + y) * image.width + columns.start + x) * 4;
      const to = (y * columns.kept + x) * 4;
      const alpha = source[from + 3] ?? 0;
      if (alpha === 0) continue;
      const straight = (value: number) => Math.min(255, Math.round((value * 255) / alpha));
      out[to] = straight(source[from + 2] ?? 0);
      out[to + 1] = straight(source[from + 1] ?? 0);
      out[to + 2] = straight(source[from] ?? 0);
      out[to + 3] = alpha;
    }
  }
  return {
    width: columns.kept,
    height: rows.kept,
    hotX: Math.min(Math.max(0, image.xhot - columns.start), columns.kept - 1),
    hotY: Math.min(Math.max(0, image.yhot - rows.start), rows.kept - 1),
    rgba: out,
  };
}

/** Cursor images read at most this often: an animated cursor (a spinner) changes many times a second. */
export const CURSOR_READ_INTERVAL_MS = 100;

/**
 * Watches the displayed cursor and calls `onChange` with each new look (at most every
 * CURSOR_READ_INTERVAL_MS, the latest one); undefined where XFixes cannot be used. The first look
 * is reported as soon as it is read. `onError` hears what went wrong inside (a failing `onChange`
 * included): it runs in the X connection's event dispatch, where a throw would end the process.
 */
export async function watchCursorShape(
  onChange: (look: CursorLook) => void,
  onError: (error: unknown) => void,
): Promise<CursorShapeWatch | undefined> {
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
        if (image.width === 0 || image.height === 0) return;
        onChange(cursorLook(image));
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
}
