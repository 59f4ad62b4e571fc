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
import { connectDisplay, extensionOf, SETUP_TIMEOUT_MS, within } from "../x11-client.ts";
import {
  type ChangeLog,
  type MonitorCapture,
  type MonitorGeometry,
  noDisplay,
  type ScreenFrame,
} from "./capture.ts";
import { BAND_ROWS, type RowRange } from "./i420.ts";
import { type DamageWatch, watchDamage } from "./x11-damage.ts";

const Z_PIXMAP = 2;
const ALL_PLANES = 0xffffffff;

/** A capture that takes longer than this means the X server is gone (or hung). */
const CAPTURE_TIMEOUT_MS = 5_000;

/**
 * DAMAGE is a hint: some drawing may go unreported (GL or Present page flips, video overlays), so
 * the whole monitor is read again at least this often, and that picture is never older than this.
 */
const WHOLE_READ_EVERY_MS = 2_000;
/**
 * A capture for something drawn reads only the rows drawn on unless the last whole read is this
 * old: the capture loop's idle wake-ups (nothing drawn) do the whole reads, so that the first
 * capture after a pause (a key's echo) is not held up by reading and comparing the whole screen,
 * while a screen drawn on without pause is still read whole this often.
 */
const WHOLE_READ_WHEN_DRAWN_MS = 4 * WHOLE_READ_EVERY_MS;

/** How long closing waits for the X server to let go of the segment. */
const DETACH_TIMEOUT_MS = 1_000;

type Shared = {
  display: Display;
  shm: Shm;
  damage: DamageWatch | undefined;
  /** Set once the server closed the connection: every capture then fails at once. */
  gone: boolean;
  /** Fails the read under way, if any (the server went away). */
  abort: ((error: Error) => void) | undefined;
};

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
      const shm = display.isLocalSocket && isBgrx(display) ? await extensionOf(display, "shm") : undefined;
      if (shm === undefined) {
        display.client.terminate();
        return undefined;
      }
      const connection: Shared = {
        display,
        shm,
        damage: await watchDamage(display),
        gone: false,
        abort: undefined,
      };
      const lost = (cause: Error) => {
        connection.gone = true;
        connection.abort?.(cause);
      };
      display.client.on("end", () => lost(new Error("the X server closed the connection")));
      // Socket errors (ECONNRESET ...) carry a string code; X protocol errors go to their callbacks.
      display.client.on("error", (error) => {
        if (typeof (error as NodeJS.ErrnoException).code === "string") lost(error);
      });
      return connection;
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
 * once per connection.
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
 * share one segment). The monitor's image is kept in one buffer, updated in place band by band
 * (BAND_ROWS) where the rows read differ from it: every frame's `data` is that buffer, and its
 * `changes` say which bands changed since an earlier frame. A capture that finds nothing changed
 * (DAMAGE reported nothing, or the rows read are the same) returns the very frame before it.
 * Before, each capture copied and allocated the whole screen (8 MB at 1080p) and the worker
 * compared it whole with the last one: at 1080p a third of the capture worker's time.
 */
export async function openShmMonitor(geometry: MonitorGeometry): Promise<MonitorCapture | undefined> {
  const connection = await sharedConnection();
  if (connection === undefined) return undefined;
  const root = connection.display.screen[0]?.root;
  if (root === undefined) return undefined;
  const size = geometry.width * geometry.height * 4;
  let memory: ShmSegment;
  try {
    memory = await within(segmentOf(connection.shm, size), SETUP_TIMEOUT_MS, "the shared memory segment");
  } catch {
    return undefined;
  }
  const { x, y, width, height } = geometry;
  const stride = width * 4;
  /**
   * Reads `rows` of the monitor into the segment, at their place in a whole-monitor image. A
   * timeout or a closed connection means the display is gone; an X error (BadMatch after the
   * screen shrank, say) is passed on as it is.
   */
  const read = (rows: RowRange): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      if (connection.gone) {
        reject(noDisplay(new Error("the X server closed the connection")));
        return;
      }
      const settle = (error: Error | undefined) => {
        clearTimeout(timer);
        connection.abort = undefined;
        if (error === undefined) resolve();
        else reject(error);
      };
      const timer = setTimeout(
        () => settle(noDisplay(new Error("the X server did not answer a capture"))),
        CAPTURE_TIMEOUT_MS,
      );
      connection.abort = (error) => settle(noDisplay(error));
      memory.getImage(
        root,
        x,
        y + rows.start,
        width,
        rows.end - rows.start,
        ALL_PLANES,
        Z_PIXMAP,
        rows.start * stride,
        (error) => settle(error ?? undefined),
      );
    });
  /** The monitor as of the last capture (the segment is shared with other monitors' captures). */
  const screen = Buffer.alloc(size);
  /** Per band of rows: the version of `screen` in which it last changed. */
  const bandVersions = new Uint32Array(Math.ceil(height / BAND_ROWS));
  let version = 0;
  const log: ChangeLog = {
    since(earlier) {
      const ranges: Array<{ start: number; end: number }> = [];
      let open: { start: number; end: number } | undefined;
      for (let band = 0; band < bandVersions.length; band += 1) {
        if ((bandVersions[band] ?? 0) <= earlier) {
          open = undefined;
          continue;
        }
        const end = Math.min(height, (band + 1) * BAND_ROWS);
        if (open === undefined) {
          open = { start: band * BAND_ROWS, end };
          ranges.push(open);
        } else {
          open.end = end;
        }
      }
      return ranges;
    },
  };
  let latest: ScreenFrame | undefined;
  let wholeReadAt = Number.NEGATIVE_INFINITY;
  /** Reads `range` into the segment and brings the bands of `screen` that differ up to date. */
  const refresh = async (range: RowRange): Promise<ScreenFrame> => {
    await read(range);
    const next = version + 1;
    let changed = false;
    for (let band = Math.floor(range.start / BAND_ROWS); band * BAND_ROWS < range.end; band += 1) {
      const from = Math.max(range.start, band * BAND_ROWS) * stride;
      const to = Math.min(range.end, (band + 1) * BAND_ROWS) * stride;
      if (memory.buffer.compare(screen, from, to, from, to) === 0) continue;
      memory.buffer.copy(screen, from, from, to);
      bandVersions[band] = next;
      changed = true;
    }
    if (!changed && latest !== undefined) return latest;
    version = next;
    latest = { width, height, data: screen, order: "bgra", changes: { log, version } };
    return latest;
  };
  const grab = async (): Promise<ScreenFrame> => {
    if (connection.gone) throw noDisplay(new Error("the X server closed the connection"));
    // Taken (and the damage region cleared) before any read, so nothing drawn from now on is missed.
    const drawn = connection.damage?.take(geometry);
    // With DAMAGE only the rows drawn on are read, and none while still; everything without it,
    // for the first frame, and every WHOLE_READ_EVERY_MS.
    const age = performance.now() - wholeReadAt;
    const stale = age >= (drawn === undefined ? WHOLE_READ_EVERY_MS : WHOLE_READ_WHEN_DRAWN_MS);
    if (latest !== undefined && connection.damage !== undefined && !stale) {
      return drawn === undefined ? latest : refresh(drawn);
    }
    wholeReadAt = performance.now();
    return refresh({ start: 0, end: height });
  };
  let queue: Promise<unknown> = Promise.resolve();
  const damage = connection.damage;
  return {
    geometry,
    backend: "x11-shm",
    ...(damage === undefined ? {} : { drawing: damage }),
    capture() {
      const next = queue.then(grab, grab);
      queue = next.catch(() => undefined);
      return next;
    },
  };
}

/** Closes this thread's X connection (captures opened from it stop working). */
export async function closeShmConnection(): Promise<void> {
  const connection = await shared;
  const open = await segment?.segment.catch(() => undefined);
  shared = undefined;
  segment = undefined;
  if (open !== undefined && connection?.gone === false) {
    // The segment's descriptor is closed once the server answers; a server that does not answer
    // still loses it with the connection.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, DETACH_TIMEOUT_MS);
      open.detach(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
  connection?.display.client.terminate();
}
