/**
 * Screen capture through the X server's MIT-SHM extension, the one module that talks to the `x11`
 * package (a pure JavaScript X11 client). The server copies the screen into a shared memory
 * segment instead of sending 8 MB (at 1080p) through its socket: on Xvfb here a capture takes
 * ~9 ms instead of ~40, and, what matters most, the X server is busy for far less of each one, so
 * injected input no longer waits behind captures (an X round trip's p99 while capturing 25 times
 * a second: ~10 ms instead of ~40).
 *
 * Used on Linux when the display is local, the extension works (probed, not assumed) and the
 * screen is 24-bit with 32-bit pixels (B, G, R, X in memory); otherwise the agent keeps
 * node-screenshots (capture.ts). Why not node-screenshots alone: it reads the whole screen through
 * the X socket (XGetImage) and no maintained package with prebuilt binaries does MIT-SHM.
 */
import type { Display, Shm, ShmSegment } from "x11";
import { connectDisplay } from "../x11-client.ts";
import type { MonitorCapture, MonitorGeometry, ScreenFrame } from "./capture.ts";
import type { RowRange } from "./i420.ts";
import { type DamageWatch, watchDamage } from "./x11-damage.ts";

const Z_PIXMAP = 2;
const ALL_PLANES = 0xffffffff;

/** A capture that takes longer than this means the X server is gone (or hung). */
const CAPTURE_TIMEOUT_MS = 5_000;

type Shared = { display: Display; shm: Shm; damage: DamageWatch | undefined };

/**
 * The MIT-SHM extension, or undefined. Whether a segment really attaches is learnt from the first
 * segment itself: the package's own probe (`usable`) passes a scratch segment first, and Node
 * then warns that a descriptor number was "opened in unmanaged mode twice" when the real
 * segment's file gets the same number.
 */
function extension(display: Display): Promise<Shm | undefined> {
  return new Promise((resolve) => {
    display.client.require("shm", (error, shm) => resolve(error ? undefined : shm));
  });
}

/** Whether the root window's pixels are 32-bit little-endian B, G, R, X. */
function isBgrx(display: Display): boolean {
  const screen = display.screen[0];
  if (screen === undefined || screen.root_depth !== 24) return false;
  if (display.format[24]?.bits_per_pixel !== 32 || display.image_byte_order !== 0) return false;
  const visual = screen.depths[24]?.[screen.root_visual];
  return visual?.red_mask === 0xff0000 && visual.green_mask === 0x00ff00 && visual.blue_mask === 0x0000ff;
}

let shared: Promise<Shared | undefined> | undefined;

/** One connection per thread, opened on first use; undefined where MIT-SHM cannot be used. */
function sharedConnection(): Promise<Shared | undefined> {
  shared ??= (async () => {
    try {
      const display = await connectDisplay();
      const shm = display.isLocalSocket && isBgrx(display) ? await extension(display) : undefined;
      if (shm === undefined) {
        display.client.terminate();
        return undefined;
      }
      return { display, shm, damage: await watchDamage(display) };
    } catch {
      return undefined;
    }
  })();
  return shared;
}

function createSegment(shm: Shm, size: number): Promise<ShmSegment> {
  return new Promise((resolve, reject) =>
    shm.createSegment(size, (error, segment) => (error ? reject(error) : resolve(segment))),
  );
}

/**
 * The connection's one segment, at least `size` bytes: made once (for the largest monitor asked
 * so far) and shared by every monitor's capture, so that a descriptor is passed to the X server
 * once per process (see extension()).
 */
let segment: { size: number; segment: Promise<ShmSegment> } | undefined;
function segmentOf(shm: Shm, size: number): Promise<ShmSegment> {
  if (segment === undefined || segment.size < size) {
    const previous = segment?.segment;
    segment = { size, segment: createSegment(shm, size) };
    void previous?.then((old) => old.detach()).catch(() => undefined);
  }
  return segment.segment;
}

/**
 * A capture of `geometry` (a monitor's rectangle on the root window) through MIT-SHM, or
 * undefined when this display cannot be captured that way. Captures run one at a time (they
 * share one segment); each returns its own copy of the pixels, or the very frame returned before
 * when DAMAGE reported nothing drawn on this monitor since.
 */
export async function openShmMonitor(geometry: MonitorGeometry): Promise<MonitorCapture | undefined> {
  const connection = await sharedConnection();
  if (connection === undefined) return undefined;
  const root = connection.display.screen[0]?.root;
  if (root === undefined) return undefined;
  const size = geometry.width * geometry.height * 4;
  let memory: ShmSegment;
  try {
    memory = await segmentOf(connection.shm, size);
  } catch {
    return undefined;
  }
  const { x, y, width, height } = geometry;
  const stride = width * 4;
  /** Reads `rows` of the monitor into the segment, at their place in a whole-monitor image. */
  const read = (rows: RowRange): Promise<void> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error("the X server did not answer a capture")),
        CAPTURE_TIMEOUT_MS,
      );
      const offset = rows.start * stride;
      memory.getImage(
        root,
        x,
        y + rows.start,
        width,
        rows.end - rows.start,
        ALL_PLANES,
        Z_PIXMAP,
        offset,
        (error) => {
          clearTimeout(timer);
          if (error) reject(error);
          else resolve();
        },
      );
    });
  /** The monitor as of the last capture (the segment is shared with other monitors' captures). */
  const screen = Buffer.alloc(size);
  let latest: ScreenFrame | undefined;
  const grab = async (): Promise<ScreenFrame> => {
    const drawn = connection.damage?.take(geometry);
    // Without DAMAGE every row is read; with it only the rows drawn on, and none while still.
    const rows = latest === undefined || connection.damage === undefined ? { start: 0, end: height } : drawn;
    if (rows === undefined && latest !== undefined) return latest;
    const range = rows ?? { start: 0, end: height };
    await read(range);
    memory.buffer.copy(screen, range.start * stride, range.start * stride, range.end * stride);
    latest = { width, height, data: Buffer.from(screen), order: "bgra" };
    return latest;
  };
  let queue: Promise<unknown> = Promise.resolve();
  return {
    geometry,
    backend: "x11-shm",
    capture() {
      const next = queue.then(grab, grab);
      queue = next.catch(() => undefined);
      return next;
    },
    close() {
      // The segment stays for the next monitor; it goes with the connection.
    },
  };
}

/** Closes this thread's X connection (captures opened from it stop working). */
export async function closeShmConnection(): Promise<void> {
  const connection = await shared;
  const open = await segment?.segment.catch(() => undefined);
  shared = undefined;
  segment = undefined;
  if (open !== undefined) await new Promise<void>((resolve) => open.detach(resolve));
  connection?.display.client.terminate();
}
