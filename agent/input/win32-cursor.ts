/**
 * The pointer's look on Windows, read through user32 and gdi32 with koffi (as win32-user32.ts,
 * in the input worker): `GetCursorInfo` names the cursor shown (a handle, global on Windows,
 * whichever program set it); when the handle changes, `GetIconInfo` gives its hotspot and
 * bitmaps, `GetObjectW` their size and `GetDIBits` their pixels at 32 bits, which
 * win32-cursor-image.ts makes a look. Looks are cached by handle: pointing back and forth between
 * text and a link reads no bitmap twice. A destroyed cursor's handle value could come back for
 * another image, but USER handles carry a reuse counter in their high word (the value recurs only
 * after that slot was reused 65536 times), and the cache forgets everything at MAX_CACHED entries,
 * so the handle alone is kept as the key (RustDesk keys its Windows cursor cache the same way).
 *
 * Under Wine (not Windows) cursors are objects of the process that made them: `GetCursorInfo`
 * names another program's cursor but `GetIconInfo` fails on it, so no look comes (measured with
 * Wine 8; docs/windows-agent.md).
 */
import type { KoffiFunc } from "koffi";
import type { CursorLook } from "./cursor-look.ts";
import { win32CursorLook } from "./win32-cursor-image.ts";

/** What the input worker answers: the shown cursor, and its look when it is new to the asker. */
export type CursorReading = {
  /**
   * The shown cursor's handle (its address, in decimal); null while no cursor is shown (a program
   * hid it: ShowCursor(FALSE), SetCursor(NULL), or touch input suppresses it).
   */
  readonly handle: string | null;
  /** The look, when the handle is not the `known` one and its bitmaps could be read. */
  readonly look?: CursorLook;
};

export type Win32Cursor = {
  /** The shown cursor, with its look if its handle is not `known`. */
  readCursor(known: string | null | undefined): CursorReading;
};

const CURSOR_SHOWING = 0x0000_0001;
const DIB_RGB_COLORS = 0;
const BITMAPINFOHEADER_BYTES = 40;
/** Handles remembered; an application that makes cursors on the fly (a brush's size) would grow it. */
const MAX_CACHED = 64;

type Handle = object | null;
type IconInfo = { fIcon: number; xHotspot: number; yHotspot: number; hbmMask: Handle; hbmColor: Handle };
type CursorInfo = { cbSize: number; flags: number; hCursor: Handle; ptScreenPos: { x: number; y: number } };
type BitmapInfo = { bmType: number; bmWidth: number; bmHeight: number; bmBitsPixel: number };

export async function openWin32Cursor(): Promise<Win32Cursor> {
  const koffi = (await import("koffi")).default;
  const user32 = koffi.load("user32.dll");
  const gdi32 = koffi.load("gdi32.dll");
  // Unnamed structs: koffi's type names are global to the process.
  const POINT = koffi.struct({ x: "int32", y: "int32" });
  const CURSORINFO = koffi.struct({
    cbSize: "uint32",
    flags: "uint32",
    hCursor: "void *",
    ptScreenPos: POINT,
  });
  const ICONINFO = koffi.struct({
    fIcon: "int32",
    xHotspot: "uint32",
    yHotspot: "uint32",
    hbmMask: "void *",
    hbmColor: "void *",
  });
  const BITMAP = koffi.struct({
    bmType: "int32",
    bmWidth: "int32",
    bmHeight: "int32",
    bmWidthBytes: "int32",
    bmPlanes: "uint16",
    bmBitsPixel: "uint16",
    bmBits: "void *",
  });
  const api = {
    GetCursorInfo: user32.func("__stdcall", "GetCursorInfo", "bool", [
      koffi.inout(koffi.pointer(CURSORINFO)),
    ]) as KoffiFunc<(info: Partial<CursorInfo>) => boolean>,
    GetIconInfo: user32.func("__stdcall", "GetIconInfo", "bool", [
      "void *",
      koffi.out(koffi.pointer(ICONINFO)),
    ]) as KoffiFunc<(icon: Handle, info: Partial<IconInfo>) => boolean>,
    GetDC: user32.func("__stdcall", "GetDC", "void *", ["void *"]) as KoffiFunc<(window: null) => Handle>,
    ReleaseDC: user32.func("__stdcall", "ReleaseDC", "int", ["void *", "void *"]) as KoffiFunc<
      (window: null, dc: Handle) => number
    >,
    GetObjectW: gdi32.func("__stdcall", "GetObjectW", "int", [
      "void *",
      "int",
      koffi.out(koffi.pointer(BITMAP)),
    ]) as KoffiFunc<(object: Handle, size: number, bitmap: Partial<BitmapInfo>) => number>,
    GetDIBits: gdi32.func("__stdcall", "GetDIBits", "int", [
      "void *",
      "void *",
      "uint32",
      "uint32",
      "void *",
      "void *",
      "uint32",
    ]) as KoffiFunc<
      (
        dc: Handle,
        bitmap: Handle,
        start: number,
        lines: number,
        bits: Buffer,
        info: Buffer,
        usage: number,
      ) => number
    >,
    DeleteObject: gdi32.func("__stdcall", "DeleteObject", "bool", ["void *"]) as KoffiFunc<
      (object: Handle) => boolean
    >,
  };
  const bitmapSize = koffi.sizeof(BITMAP);
  const cursorInfoSize = koffi.sizeof(CURSORINFO);

  /** A bitmap's pixels at 32 bits, rows top-down; undefined when GDI cannot give them. */
  const pixels = (
    dc: Handle,
    bitmap: Handle,
  ): { width: number; height: number; bits: Buffer } | undefined => {
    const info: Partial<BitmapInfo> = {};
    if (api.GetObjectW(bitmap, bitmapSize, info) === 0) return undefined;
    const width = info.bmWidth ?? 0;
    const height = Math.abs(info.bmHeight ?? 0);
    if (width <= 0 || height <= 0) return undefined;
    // BITMAPINFO: the header asks for 32-bit top-down rows (negative height); room after it for
    // the colour table GDI may write.
    const header = Buffer.alloc(BITMAPINFOHEADER_BYTES + 256 * 4);
    header.writeUInt32LE(BITMAPINFOHEADER_BYTES, 0);
    header.writeInt32LE(width, 4);
    header.writeInt32LE(-height, 8);
    header.writeUInt16LE(1, 12);
    header.writeUInt16LE(32, 14);
    const bits = Buffer.alloc(width * height * 4);
    if (api.GetDIBits(dc, bitmap, 0, height, bits, header, DIB_RGB_COLORS) !== height) return undefined;
    return { width, height, bits };
  };

  /** The cursor's look; undefined when its bitmaps cannot be read (Wine: another process's cursor). */
  const look = (cursor: Handle): CursorLook | undefined => {
    const icon: Partial<IconInfo> = {};
    if (!api.GetIconInfo(cursor, icon)) return undefined;
    const dc = api.GetDC(null);
    try {
      const mask = icon.hbmMask ? pixels(dc, icon.hbmMask) : undefined;
      const color = icon.hbmColor ? pixels(dc, icon.hbmColor) : undefined;
      if (mask === undefined || (icon.hbmColor && color === undefined)) return undefined;
      const width = color?.width ?? mask.width;
      const height = color?.height ?? Math.floor(mask.height / 2);
      if (width === 0 || height === 0) return undefined;
      return win32CursorLook({
        hotX: icon.xHotspot ?? 0,
        hotY: icon.yHotspot ?? 0,
        width,
        height,
        color: color?.bits,
        mask: mask.bits,
      });
    } finally {
      api.ReleaseDC(null, dc);
      // GetIconInfo made copies of the bitmaps for the caller to delete.
      if (icon.hbmMask) api.DeleteObject(icon.hbmMask);
      if (icon.hbmColor) api.DeleteObject(icon.hbmColor);
    }
  };

  const cache = new Map<string, CursorLook | undefined>();
  return {
    readCursor(known) {
      const info: Partial<CursorInfo> = { cbSize: cursorInfoSize };
      // Unreadable (another desktop): nothing changed, as far as the asker can tell.
      if (!api.GetCursorInfo(info)) return { handle: known ?? null };
      const cursor = info.hCursor ?? null;
      if (((info.flags ?? 0) & CURSOR_SHOWING) === 0 || cursor === null) return { handle: null };
      const handle = koffi.address(cursor).toString();
      if (handle === known) return { handle };
      if (!cache.has(handle)) {
        if (cache.size >= MAX_CACHED) cache.clear();
        cache.set(handle, look(cursor));
      }
      const cached = cache.get(handle);
      return cached === undefined ? { handle } : { handle, look: cached };
    },
  };
}
