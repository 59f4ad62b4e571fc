/**
 * Where the screen was drawn on, from the X server's DAMAGE extension: so that an MIT-SHM capture
 * reads only the rows that changed, and nothing at all while the screen is still (typing a few
 * characters at 1080p reads a band of rows instead of 8 MB, and the frame is not compared at all
 * when nothing was drawn).
 *
 * The damage object is made at DeltaRectangles level: the server reports each newly damaged
 * rectangle once, until the region is cleared. take() clears it (DamageSubtract) before the
 * capture's GetImage goes out on the same connection, so every drawing after it is reported
 * again, and drawing between the last report and the clear lies inside the rows being read.
 */
import type { Display } from "x11";
import { extensionOf } from "../x11-client.ts";
import type { MonitorGeometry } from "./capture.ts";
import type { RowRange } from "./i420.ts";
import { touchesTracedArea, trace, tracing } from "./latency-trace.ts";

export type DamageWatch = {
  /**
   * The rows of `monitor` (0 at its top) drawn on since the last take, or undefined when none
   * were; clears what was reported so far.
   */
  take(monitor: MonitorGeometry): RowRange | undefined;
  /** Whether anything was drawn since the last take. */
  readonly drawn: boolean;
  /** Calls `listener` at the first drawing after each take (the capture loop waits for it). */
  onDrawn(listener: () => void): void;
};

/** Watches the root window of `display`; undefined where the server has no DAMAGE extension. */
export async function watchDamage(display: Display): Promise<DamageWatch | undefined> {
  const damage = await extensionOf(display, "damage");
  const root = display.screen[0]?.root;
  if (damage === undefined || root === undefined) return undefined;
  const id = display.client.AllocID();
  // The bounding box of everything reported since the last take, in root coordinates.
  let box: { left: number; top: number; right: number; bottom: number } | undefined;
  const listeners: Array<() => void> = [];
  display.client.on("event", (event) => {
    if (event.name !== "DamageNotify" || event.damage !== id || event.area === undefined) return;
    const { x, y, w, h } = event.area;
    const first = box === undefined;
    if (tracing && touchesTracedArea([x, y, w, h])) trace({ event: "drawn", area: [x, y, w, h] });
    box =
      box === undefined
        ? { left: x, top: y, right: x + w, bottom: y + h }
        : {
            left: Math.min(box.left, x),
            top: Math.min(box.top, y),
            right: Math.max(box.right, x + w),
            bottom: Math.max(box.bottom, y + h),
          };
    if (first) for (const listener of listeners) listener();
  });
  damage.Create(id, root, damage.ReportLevel.DeltaRectangles);
  return {
    get drawn() {
      return box !== undefined;
    },
    onDrawn(listener) {
      listeners.push(listener);
    },
    take(monitor) {
      const drawn = box;
      box = undefined;
      damage.Subtract(id, 0, 0);
      if (drawn === undefined) return undefined;
      if (drawn.right <= monitor.x || drawn.left >= monitor.x + monitor.width) return undefined;
      const start = Math.max(0, drawn.top - monitor.y);
      const end = Math.min(monitor.height, drawn.bottom - monitor.y);
      return start < end ? { start, end } : undefined;
    },
  };
}
