/**
 * The Windows desktop through user32 and kernel32, the one module that talks to koffi (an FFI
 * whose npm package carries a prebuilt Windows addon; the win-x64 build ships only that one).
 * Runs in the input worker: GetClipboardData may wait for the program that owns the clipboard to
 * render its text, which must not hold up the agent's event loop.
 *
 * What it gives: the clipboard's text (read when Windows' clipboard sequence number moved, written
 * as CF_UNICODETEXT in a GlobalAlloc'd block) and the name of the desktop that receives input
 * ("Default"; "Winlogon" while a UAC prompt or the lock screen is up, which a process that is not
 * elevated cannot open at all).
 */
import type { KoffiFunc } from "koffi";
import { MAX_CLIPBOARD_CHARS } from "../../shared/limits.ts";

/** The clipboard as read: its sequence number, and its text when it changed (empty: no text on it). */
export type ClipboardReading = { readonly sequence: number | undefined; readonly text?: string };

export type Win32Desktop = {
  /** The clipboard's text if its sequence number is not `known` (else only the number). */
  readClipboard(known: number | undefined): Promise<ClipboardReading>;
  /** Puts `text` on the clipboard (Unicode); rejects when another program keeps it open. */
  writeClipboard(text: string): Promise<void>;
  /** The input desktop's name; null when it cannot be opened (the secure desktop, for a normal process). */
  inputDesktop(): Promise<string | null>;
};

const CF_UNICODETEXT = 13;
const GMEM_MOVEABLE = 0x0002;
const UOI_NAME = 2;
const DESKTOP_READOBJECTS = 0x0001;
/** Another program may hold the clipboard open for a moment: tries this often, this far apart. */
const OPEN_TRIES = 10;
const OPEN_RETRY_MS = 20;
/**
 * Wine (not Windows) mirrors the X selections into its clipboard only when a program opens the
 * clipboard; there the reading opens it this often so that X11 copies show up. Windows itself
 * moves the sequence number on every change and is never opened just to look.
 */
const WINE_REFRESH_MS = 1_000;

type Handle = object | null;

export async function openWin32Desktop(): Promise<Win32Desktop> {
  const koffi = (await import("koffi")).default;
  const user32 = koffi.load("user32.dll");
  const kernel32 = koffi.load("kernel32.dll");
  const ntdll = koffi.load("ntdll.dll");
  // Signatures typed once here; koffi converts arguments and results as declared.
  const api = {
    OpenClipboard: user32.func("__stdcall", "OpenClipboard", "bool", ["void *"]) as KoffiFunc<
      (owner: null) => boolean
    >,
    CloseClipboard: user32.func("__stdcall", "CloseClipboard", "bool", []) as KoffiFunc<() => boolean>,
    EmptyClipboard: user32.func("__stdcall", "EmptyClipboard", "bool", []) as KoffiFunc<() => boolean>,
    GetClipboardData: user32.func("__stdcall", "GetClipboardData", "void *", ["uint32"]) as KoffiFunc<
      (format: number) => Handle
    >,
    SetClipboardData: user32.func("__stdcall", "SetClipboardData", "void *", [
      "uint32",
      "void *",
    ]) as KoffiFunc<(format: number, memory: Handle) => Handle>,
    GetClipboardSequenceNumber: user32.func(
      "__stdcall",
      "GetClipboardSequenceNumber",
      "uint32",
      [],
    ) as KoffiFunc<() => number>,
    OpenInputDesktop: user32.func("__stdcall", "OpenInputDesktop", "void *", [
      "uint32",
      "bool",
      "uint32",
    ]) as KoffiFunc<(flags: number, inherit: boolean, access: number) => Handle>,
    GetUserObjectInformationW: user32.func("__stdcall", "GetUserObjectInformationW", "bool", [
      "void *",
      "int",
      "void *",
      "uint32",
      koffi.out(koffi.pointer("uint32")),
    ]) as KoffiFunc<
      (object: Handle, index: number, buffer: Buffer, size: number, needed: number[]) => boolean
    >,
    CloseDesktop: user32.func("__stdcall", "CloseDesktop", "bool", ["void *"]) as KoffiFunc<
      (desktop: Handle) => boolean
    >,
    GlobalAlloc: kernel32.func("__stdcall", "GlobalAlloc", "void *", ["uint32", "size_t"]) as KoffiFunc<
      (flags: number, bytes: number) => Handle
    >,
    GlobalFree: kernel32.func("__stdcall", "GlobalFree", "void *", ["void *"]) as KoffiFunc<
      (memory: Handle) => Handle
    >,
    GlobalLock: kernel32.func("__stdcall", "GlobalLock", "void *", ["void *"]) as KoffiFunc<
      (memory: Handle) => Handle
    >,
    GlobalUnlock: kernel32.func("__stdcall", "GlobalUnlock", "bool", ["void *"]) as KoffiFunc<
      (memory: Handle) => boolean
    >,
    GlobalSize: kernel32.func("__stdcall", "GlobalSize", "size_t", ["void *"]) as KoffiFunc<
      (memory: Handle) => number
    >,
  };
  let underWine = false;
  try {
    ntdll.func("__stdcall", "wine_get_version", "str", []);
    underWine = true;
  } catch {
    // Windows: ntdll has no such export
  }
  let refreshedAt = Number.NEGATIVE_INFINITY;

  const open = async (): Promise<boolean> => {
    for (let attempt = 0; attempt < OPEN_TRIES; attempt++) {
      if (api.OpenClipboard(null)) return true;
      await new Promise((resolve) => setTimeout(resolve, OPEN_RETRY_MS));
    }
    return false;
  };

  /** The open clipboard's text, at most MAX_CLIPBOARD_CHARS + 1 characters (longer is not sent). */
  const text = (): string => {
    const memory = api.GetClipboardData(CF_UNICODETEXT);
    if (memory === null) return "";
    const units = Math.min(Math.floor(api.GlobalSize(memory) / 2), MAX_CLIPBOARD_CHARS + 2);
    const pointer = api.GlobalLock(memory);
    if (pointer === null || units === 0) return "";
    try {
      const read: unknown = koffi.decode(pointer, "char16_t", units);
      const all = typeof read === "string" ? read : "";
      const end = all.indexOf("\0");
      return (end === -1 ? all : all.slice(0, end)).slice(0, MAX_CLIPBOARD_CHARS + 1);
    } finally {
      api.GlobalUnlock(memory);
    }
  };

  return {
    async readClipboard(known) {
      if (underWine && performance.now() - refreshedAt >= WINE_REFRESH_MS) {
        refreshedAt = performance.now();
        if (api.OpenClipboard(null)) api.CloseClipboard();
      }
      const sequence = api.GetClipboardSequenceNumber();
      if (sequence === known) return { sequence };
      // Busy (another program holds it open): the same number is read again at the next look.
      if (!(await open())) return { sequence: known };
      try {
        return { sequence, text: text() };
      } finally {
        api.CloseClipboard();
      }
    },
    async writeClipboard(value) {
      const bytes = Buffer.from(`${value}\0`, "utf16le");
      const memory = api.GlobalAlloc(GMEM_MOVEABLE, bytes.byteLength);
      if (memory === null) throw new Error("GlobalAlloc failed");
      const pointer = api.GlobalLock(memory);
      if (pointer === null) {
        api.GlobalFree(memory);
        throw new Error("GlobalLock failed");
      }
      koffi.encode(pointer, "uint8_t", Array.from(bytes), bytes.byteLength);
      api.GlobalUnlock(memory);
      if (!(await open())) {
        api.GlobalFree(memory);
        throw new Error("another program keeps the clipboard open");
      }
      try {
        api.EmptyClipboard();
        // On success the clipboard owns the memory; on failure it is still ours to free.
        if (api.SetClipboardData(CF_UNICODETEXT, memory) === null) {
          api.GlobalFree(memory);
          throw new Error("SetClipboardData failed");
        }
      } finally {
        api.CloseClipboard();
      }
    },
    async inputDesktop() {
      const desktop = api.OpenInputDesktop(0, false, DESKTOP_READOBJECTS);
      if (desktop === null) return null;
      try {
        const name = Buffer.alloc(512);
        const needed = [0];
        if (!api.GetUserObjectInformationW(desktop, UOI_NAME, name, name.byteLength, needed)) return null;
        const all = name.toString("utf16le");
        const end = all.indexOf("\0");
        return end === -1 ? all : all.slice(0, end);
      } finally {
        api.CloseDesktop(desktop);
      }
    },
  };
}
