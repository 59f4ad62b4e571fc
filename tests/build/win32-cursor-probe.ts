/**
 * Run by a Windows Node (22, type stripping) under Wine, not by tap: drives the agent's own
 * Windows cursor path from source (loadInjector's input worker with win32-cursor.ts, the watch of
 * win32-cursor-shape.ts, the message of cursor-look.ts) on cursors this process sets.
 *
 * Why in-process: under Wine a cursor is an object of the process that made it, so the agent can
 * name but not read another program's cursor (docs/windows-agent.md). Here the probe's main thread
 * owns the foreground window and sets each cursor with SetCursor; the input worker, in the same
 * process, reads it through GetCursorInfo as the agent would any program's on Windows.
 *
 * Usage: node.exe win32-cursor-probe.ts <result.json>. Writes the looks received by name (a file,
 * not the console: Wine's console wraps long lines).
 */
import { writeFileSync } from "node:fs";
import koffi, { type KoffiFunc } from "koffi";
import { type CursorLook, type CursorSight, cursorShapeMessage } from "../../agent/input/cursor-look.ts";
import { loadInjector } from "../../agent/input/injector.ts";
import { win32CursorShape } from "../../agent/input/win32-cursor-shape.ts";
import { type CursorShape, cursorShapeSchema } from "../../shared/control.ts";

type Handle = object | null;
const user32 = koffi.load("user32.dll");
const gdi32 = koffi.load("gdi32.dll");
const kernel32 = koffi.load("kernel32.dll");
const ICONINFO = koffi.struct({
  fIcon: "int32",
  xHotspot: "uint32",
  yHotspot: "uint32",
  hbmMask: "void *",
  hbmColor: "void *",
});
const api = {
  CreateWindowExW: user32.func("__stdcall", "CreateWindowExW", "void *", [
    "uint32",
    "str16",
    "str16",
    "uint32",
    "int",
    "int",
    "int",
    "int",
    "void *",
    "void *",
    "void *",
    "void *",
  ]) as KoffiFunc<
    (
      exStyle: number,
      className: string,
      title: string,
      style: number,
      x: number,
      y: number,
      width: number,
      height: number,
      parent: null,
      menu: null,
      instance: null,
      param: null,
    ) => Handle
  >,
  SetForegroundWindow: user32.func("__stdcall", "SetForegroundWindow", "bool", ["void *"]) as KoffiFunc<
    (window: Handle) => boolean
  >,
  GetForegroundWindow: user32.func("__stdcall", "GetForegroundWindow", "void *", []) as KoffiFunc<
    () => Handle
  >,
  SetCursor: user32.func("__stdcall", "SetCursor", "void *", ["void *"]) as KoffiFunc<
    (cursor: Handle) => Handle
  >,
  LoadCursorW: user32.func("__stdcall", "LoadCursorW", "void *", ["void *", "uintptr_t"]) as KoffiFunc<
    (instance: null, id: number) => Handle
  >,
  CreateCursor: user32.func("__stdcall", "CreateCursor", "void *", [
    "void *",
    "int",
    "int",
    "int",
    "int",
    "void *",
    "void *",
  ]) as KoffiFunc<
    (
      instance: Handle,
      hotX: number,
      hotY: number,
      width: number,
      height: number,
      and: Buffer,
      xor: Buffer,
    ) => Handle
  >,
  CreateIconIndirect: user32.func("__stdcall", "CreateIconIndirect", "void *", [
    koffi.pointer(ICONINFO),
  ]) as KoffiFunc<
    (info: { fIcon: number; xHotspot: number; yHotspot: number; hbmMask: Handle; hbmColor: Handle }) => Handle
  >,
  // BOOL is a 32-bit int (koffi's "bool" is one byte: the rest of the register would be left over).
  ShowCursor: user32.func("__stdcall", "ShowCursor", "int", ["int"]) as KoffiFunc<(show: number) => number>,
  GetSystemMetrics: user32.func("__stdcall", "GetSystemMetrics", "int", ["int"]) as KoffiFunc<
    (index: number) => number
  >,
  CreateBitmap: gdi32.func("__stdcall", "CreateBitmap", "void *", [
    "int",
    "int",
    "uint32",
    "uint32",
    "void *",
  ]) as KoffiFunc<(width: number, height: number, planes: number, bits: number, data: Buffer) => Handle>,
  GetModuleHandleW: kernel32.func("__stdcall", "GetModuleHandleW", "void *", ["void *"]) as KoffiFunc<
    (name: null) => Handle
  >,
};

const WS_POPUP = 0x8000_0000;
const WS_VISIBLE = 0x1000_0000;
const SM_CXCURSOR = 13;
const SM_CYCURSOR = 14;
const IDC_ARROW = 32512;
const IDC_IBEAM = 32513;
const IDC_HAND = 32649;
const SIDE = 32;
/** 1-bit rows of SIDE pixels: 4 bytes each (a multiple of 16 bits, as CreateCursor wants). */
const ROW_BYTES = SIDE / 8;

/** A 1-bit plane with the bits of `set(x, y)`, most significant bit leftmost. */
function plane(set: (x: number, y: number) => boolean): Buffer {
  const bits = Buffer.alloc(ROW_BYTES * SIDE);
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      if (set(x, y))
        bits[y * ROW_BYTES + (x >> 3)] = (bits[y * ROW_BYTES + (x >> 3)] ?? 0) | (0x80 >> (x & 7));
    }
  }
  return bits;
}

/**
 * Monochrome, hotspot (2, 3): top-left 8x16 black (AND 0 XOR 0), next 8x16 white (AND 0 XOR 1),
 * below the black one 8x16 inverting (AND 1 XOR 1), the rest transparent (AND 1 XOR 0).
 */
function monochromeCursor(): Handle {
  const black = (x: number, y: number) => x < 8 && y < 16;
  const white = (x: number, y: number) => x >= 8 && x < 16 && y < 16;
  const inverting = (x: number, y: number) => x < 8 && y >= 16;
  const and = plane((x, y) => !black(x, y) && !white(x, y));
  const xor = plane((x, y) => white(x, y) || inverting(x, y));
  return api.CreateCursor(api.GetModuleHandleW(null), 2, 3, SIDE, SIDE, and, xor);
}

/** Colour without alpha, hotspot (4, 5): the left half red (AND 0), the right half black under AND 1. */
function colourCursorWithoutAlpha(): Handle {
  const pixels = Buffer.alloc(SIDE * SIDE * 4);
  for (let y = 0; y < SIDE; y++)
    for (let x = 0; x < SIDE / 2; x++) pixels.set([0, 0, 200, 0], (y * SIDE + x) * 4);
  const color = api.CreateBitmap(SIDE, SIDE, 1, 32, pixels);
  const mask = api.CreateBitmap(
    SIDE,
    SIDE,
    1,
    1,
    plane((x) => x >= SIDE / 2),
  );
  return api.CreateIconIndirect({ fIcon: 0, xHotspot: 4, yHotspot: 5, hbmMask: mask, hbmColor: color });
}

const output = process.argv[2];
if (output === undefined) throw new Error("usage: win32-cursor-probe.ts <result.json>");
const window = api.CreateWindowExW(
  0,
  "STATIC",
  "sos cursor probe",
  WS_POPUP | WS_VISIBLE,
  0,
  0,
  64,
  64,
  null,
  null,
  null,
  null,
);
api.SetForegroundWindow(window);
const foreground = api.GetForegroundWindow();

const injector = await loadInjector();
const looks: CursorLook[] = [];
/** Each change the watch reported: "look", "shown" (without a look) or "hidden". */
const sights: string[] = [];
const errors: string[] = [];
let wake: (() => void) | undefined;
const watch = await win32CursorShape(injector)(
  (sight: CursorSight) => {
    if (sight.shown && sight.look !== undefined) looks.push(sight.look);
    sights.push(!sight.shown ? "hidden" : sight.look === undefined ? "shown" : "look");
    wake?.();
  },
  (error) => errors.push(String(error)),
);
if (watch === undefined) throw new Error("no Windows cursor watch");

/** Runs `change` and waits for the watch's next report. */
async function reported(change: () => void): Promise<void> {
  const before = sights.length;
  change();
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(new Error(`no report in 10 s; so far: ${sights.join(", ")}; errors: ${errors.join("; ")}`)),
      10_000,
    );
    wake = () => {
      if (sights.length === before) return;
      clearTimeout(timer);
      resolve();
    };
  });
}

/** Sets `cursor` and waits for the watch's next look. */
async function shown(cursor: Handle): Promise<CursorShape> {
  await reported(() => api.SetCursor(cursor));
  const look = looks.at(-1);
  if (look === undefined) throw new Error("no look");
  return cursorShapeSchema.parse(cursorShapeMessage(look));
}

const standard = (id: number) => api.LoadCursorW(null, id);
const shapes = {
  monochrome: await shown(monochromeCursor()),
  colourWithoutAlpha: await shown(colourCursorWithoutAlpha()),
  arrow: await shown(standard(IDC_ARROW)),
  ibeam: await shown(standard(IDC_IBEAM)),
  hand: await shown(standard(IDC_HAND)),
  ibeamAgain: await shown(standard(IDC_IBEAM)),
};
// The program hides its pointer (as a video player does) and shows it again.
await reported(() => api.ShowCursor(0));
const looksWhileShown = looks.length;
await reported(() => api.ShowCursor(1));
const lookAgain = looks.length > looksWhileShown ? looks.at(-1) : undefined;
const shownAgain = lookAgain === undefined ? null : cursorShapeMessage(lookAgain);
watch.close();
writeFileSync(
  output,
  JSON.stringify({
    foreground: foreground !== null && koffi.address(foreground) === koffi.address(window),
    cursorSize: [api.GetSystemMetrics(SM_CXCURSOR), api.GetSystemMetrics(SM_CYCURSOR)],
    looks: looksWhileShown,
    sights,
    shownAgain,
    errors,
    shapes,
  }),
);
process.exit(0);
