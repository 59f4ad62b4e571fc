/**
 * The part of the `x11` package (pure JavaScript X11 client, no types of its own) that
 * the agent uses: a connection, the screen's pixel layout and MIT-SHM (agent/media/x11-capture.ts),
 * DAMAGE (agent/media/x11-damage.ts) and XFixes' cursor image (agent/input/x11-cursor-shape.ts).
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

  /** The extensions the agent asks for, by the name `require` takes. */
  export type Extensions = { shm: Shm; damage: Damage; fixes: Fixes };

  export type XClient = {
    require<K extends keyof Extensions>(extension: K, callback: Callback<Extensions[K]>): void;
    AllocID(): number;
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
  };

  export function createClient(options: { display?: string }, callback: Callback<Display>): XClient;

  const x11: { createClient: typeof createClient };
  export default x11;
}
