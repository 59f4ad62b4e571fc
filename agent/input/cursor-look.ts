/**
 * The pointer's look as every platform's reader gives it (X11: x11-cursor-shape.ts, XFixes;
 * Windows: win32-cursor-shape.ts, user32 and GDI), and the seam the composition root (main.ts)
 * picks one of. The console draws it at the reported position (the `cursorShape` message).
 */
import { type CursorShape, MAX_CURSOR_SIDE } from "../../shared/control.ts";

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
 * What a reader saw change: the pointer shows (with its new look, when it changed and could be
 * read) or a program hid it (Windows: ShowCursor(FALSE), SetCursor(NULL); a video player, a text
 * field while typing). A look with no opaque pixel (a blank cursor, X11's usual way to hide it) is
 * hidden too: see `hidesPointer`.
 */
export type CursorSight = { readonly shown: true; readonly look?: CursorLook } | { readonly shown: false };

/** Whether the pointer is hidden: not shown, or shown as a look without any visible pixel. */
export function hidesPointer(sight: CursorSight): boolean {
  if (!sight.shown) return true;
  const rgba = sight.look?.rgba;
  if (rgba === undefined) return false;
  for (let alpha = 3; alpha < rgba.length; alpha += 4) if (rgba[alpha] !== 0) return false;
  return true;
}

/**
 * Starts watching the displayed cursor: `onChange` hears each change (a new look, hidden, shown
 * again), `onError` what went wrong inside. Resolves undefined where the platform's reader cannot be used (the console then draws
 * its own arrow at the reported position).
 */
export type CursorShapeSource = (
  onChange: (sight: CursorSight) => void,
  onError: (error: unknown) => void,
) => Promise<CursorShapeWatch | undefined>;

/** Cursor images read at most this often: an animated cursor (a spinner) changes many times a second. */
export const CURSOR_READ_INTERVAL_MS = 100;

/**
 * A look no larger than MAX_CURSOR_SIDE per side: a larger image (a large accessibility cursor) is
 * cut to that size around its hotspot. The hotspot is kept on the image (the wire requires it; a
 * malformed cursor may have it off).
 */
export function cutAroundHotspot(look: CursorLook): CursorLook {
  const onImage = (hot: number, size: number) => Math.min(Math.max(0, hot), size - 1);
  if (look.width <= MAX_CURSOR_SIDE && look.height <= MAX_CURSOR_SIDE) {
    return { ...look, hotX: onImage(look.hotX, look.width), hotY: onImage(look.hotY, look.height) };
  }
  const cut = (size: number, hot: number) => {
    const kept = Math.min(size, MAX_CURSOR_SIDE);
    const start = Math.max(0, Math.min(size - kept, hot - (kept >> 1)));
    return { start, kept };
  };
  const columns = cut(look.width, look.hotX);
  const rows = cut(look.height, look.hotY);
  const out = Buffer.alloc(columns.kept * rows.kept * 4);
  for (let y = 0; y < rows.kept; y++) {
    const from = ((rows.start + y) * look.width + columns.start) * 4;
    look.rgba.copy(out, y * columns.kept * 4, from, from + columns.kept * 4);
  }
  return {
    width: columns.kept,
    height: rows.kept,
    hotX: onImage(look.hotX - columns.start, columns.kept),
    hotY: onImage(look.hotY - rows.start, rows.kept),
    rgba: out,
  };
}

/** The look as the console receives it (shared/control.ts). */
export function cursorShapeMessage(look: CursorLook): CursorShape {
  const { width, height, hotX, hotY, rgba } = look;
  return { type: "cursorShape", width, height, hotX, hotY, rgba: rgba.toString("base64") };
}
