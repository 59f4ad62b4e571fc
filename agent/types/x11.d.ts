/**
 * The part of the `x11` package (pure JavaScript X11 client, no types of its own) that
 * the agent uses: a connection, the screen's pixel layout and MIT-SHM (agent/media/x11-capture.ts),
 * DAMAGE (agent/media/x11-damage.ts), XFixes' cursor image (agent/input/x11-cursor-shape.ts), and
 * the keyboard mapping, XKB state and XTEST (agent/input/x11-keyboard.ts).
 */
declare module "x11" {
  type Callback<T> = (error: Error | null | undefined, value: T) => void;

  export type Visual = { red_mask: number; green_mask: number; blue_mask: number };

  export type Screen = {
    root: number;
    root_depth: number;
    root_visual: number;
    depths: Record<number, Record<number, Visual>>;
  };

  export type ShmSegment = {
    /** The client's copy of the segment: what getImage read back. */
    readonly buffer: Buffer;
    getImage(
      drawable: number,
      x: number,
      y: number,
      width: number,
      height: number,
      planeMask: number,
      format: number | undefined,
      offset: number,
      callback: Callback<{ depth: number; visual: number; size: number }>,
    ): void;
    detach(callback?: () => void): void;
  };

  export type Shm = {
    usable(callback: Callback<boolean>): void;
    createSegment(size: number, callback: Callback<ShmSegment>): void;
  };

  export type CursorImage = {
    width: number;
    height: number;
    xhot: number;
    yhot: number;
    cursorSerial: number;
    /** width * height pixels, ARGB32 with premultiplied alpha, in the client's byte order. */
    cursorImage: Buffer;
  };

  export type Fixes = {
    CursorNotifyMask: { DisplayCursor: number };
    SelectCursorInput(window: number, eventMask: number): void;
    GetCursorImage(callback: Callback<CursorImage>): void;
  };

  export type Damage = {
    ReportLevel: { RawRectangles: number; DeltaRectangles: number; BoundingBox: number; NonEmpty: number };
    Create(damage: number, drawable: number, reportLevel: number): void;
    /** repair and parts 0 (None): clears the whole damage region. */
    Subtract(damage: number, repair: number, parts: number): void;
  };

  export type XEvent = {
    name?: string;
    cursorSerial?: number;
    damage?: number;
    area?: { x: number; y: number; w: number; h: number };
  };

  export type XTest = {
    KeyPress: number;
    KeyRelease: number;
    /** A fake input event; `time` 0 is now. Sends no reply. */
    FakeInput(type: number, detail: number, time: number, window: number, x: number, y: number): void;
  };

  export type XkbState = { group: number; lockedMods: number; mods: number };

  export type Xkb = {
    /** The core keyboard's device spec. */
    UseCoreKbd: number;
    GetState(deviceSpec: number, callback: Callback<XkbState>): void;
    LatchLockState(
      deviceSpec: number,
      affectModLocks: number,
      modLocks: number,
      lockGroup: boolean,
      groupLock: number,
      affectModLatches: number,
      modLatches: number,
      latchGroup: boolean,
      groupLatch: number,
    ): void;
  };

  /** The extensions the agent asks for, by the name `require` takes. */
  export type Extensions = { shm: Shm; damage: Damage; fixes: Fixes; xtest: XTest; xkb: Xkb };

  export type XClient = {
    require<K extends keyof Extensions>(extension: K, callback: Callback<Extensions[K]>): void;
    AllocID(): number;
    /** One row of keysyms (keysyms-per-keycode long) per keycode from `first`. */
    GetKeyboardMapping(first: number, count: number, callback: Callback<number[][]>): void;
    /** `keysyms`: count * keysymsPerKeycode keysyms, one row per keycode from `first`. */
    ChangeKeyboardMapping(first: number, keysymsPerKeycode: number, keysyms: readonly number[]): void;
    /** Eight rows (Shift, Lock, Control, Mod1..Mod5) of keycodes, 0 for none. */
    GetModifierMapping(callback: Callback<number[][]>): void;
    /** 32 bytes: bit k is set while keycode k is down. */
    QueryKeymap(callback: Callback<Buffer>): void;
    on(event: "error", listener: (error: Error) => void): void;
    on(event: "event", listener: (event: XEvent) => void): void;
    /** The server closed the connection (it exited, or the display was reset). */
    on(event: "end", listener: () => void): void;
    close(callback?: () => void): void;
    terminate(): void;
  };

  export type Display = {
    client: XClient;
    screen: Screen[];
    /** 0: least significant byte first. */
    image_byte_order: number;
    format: Record<number, { bits_per_pixel: number; scanline_pad: number }>;
    isLocalSocket: boolean;
    min_keycode: number;
    max_keycode: number;
  };

  export function createClient(options: { display?: string }, callback: Callback<Display>): XClient;

  const x11: { createClient: typeof createClient };
  export default x11;
}

/** X.Org's keysymdef.h as data: `XK_name` to the keysym and, for characters, "(c) UNICODE NAME". */
declare module "x11/lib/keysyms.js" {
  const keysyms: Readonly<Record<string, { code: number; description: string | null }>>;
  export default keysyms;
}
