/**
 * Screen capture, the one module that talks to node-screenshots: the monitor list with each
 * monitor's place on the desktop, and a full-monitor RGBA capture (used where the faster MIT-SHM
 * capture of x11-capture.ts is not available).
 */
import { Monitor } from "node-screenshots";
import { AgentError } from "../exit.ts";
import { holdingLastFrame } from "./held-capture.ts";
import type { RowRange } from "./i420.ts";

/** A monitor as the agent uses it: index into the list, and its rectangle on the desktop. */
export type MonitorGeometry = {
  readonly index: number;
  readonly name: string;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly primary: boolean;
};

/** Where a pixel's channels are: node-screenshots gives R, G, B, A; a 24-bit X screen B, G, R, X. */
export type PixelOrder = "rgba" | "bgra";

/**
 * Which rows of a monitor's image changed since an earlier version of it: kept by a capture that
 * updates one image in place (MIT-SHM), so that nothing compares or copies the whole screen.
 */
export type ChangeLog = {
  /** The rows (in bands, see i420.ts) changed after `version`; empty when none. */
  since(version: number): RowRange[];
};

/** One captured frame: tightly packed rows of 4-byte pixels, `width * height * 4` bytes. */
export type ScreenFrame = {
  readonly width: number;
  readonly height: number;
  readonly data: Buffer;
  readonly order: PixelOrder;
  /**
   * Set by a capture that keeps one image of the monitor and updates it in place (x11-capture.ts):
   * then `data` IS that image, valid only until the next capture resolves (use it at once), and
   * `log.since(version)` of a later frame names the rows changed since this one. Without it, each
   * frame owns its pixels.
   */
  readonly changes?: { readonly log: ChangeLog; readonly version: number };
};

/** The screen cannot be captured (no DISPLAY, the X server gone, macOS permission missing). */
export function noDisplay(cause: unknown): AgentError {
  const hint =
    process.platform === "linux" && !process.env.DISPLAY
      ? "DISPLAY is not set: start the agent inside your desktop session."
      : process.platform === "darwin"
        ? "Allow screen recording for this program in System Settings > Privacy & Security."
        : "The screen cannot be captured.";
  return new AgentError("no_display", `No screen to share. ${hint}`, { cause });
}

function allMonitors(): Monitor[] {
  if (process.platform === "linux" && !process.env.DISPLAY) throw noDisplay(undefined);
  try {
    return Monitor.all();
  } catch (error) {
    throw noDisplay(error);
  }
}

/** The monitors, primary first, then left to right. Throws AgentError(no_display) without a screen. */
export function listMonitors(): MonitorGeometry[] {
  const monitors = allMonitors()
    .map((monitor) => ({
      name: monitor.name(),
      x: monitor.x(),
      y: monitor.y(),
      width: monitor.width(),
      height: monitor.height(),
      primary: monitor.isPrimary(),
    }))
    .sort((a, b) => Number(b.primary) - Number(a.primary) || a.x - b.x || a.y - b.y);
  if (monitors.length === 0) throw noDisplay(undefined);
  return monitors.map((monitor, index) => ({ index, ...monitor }));
}

export type MonitorCapture = {
  readonly geometry: MonitorGeometry;
  /** How it captures: MIT-SHM (x11-capture.ts) where it works, node-screenshots everywhere. */
  readonly backend: "x11-shm" | "node-screenshots";
  /** Captures the whole monitor; the frame's pixels are its own. */
  capture(): Promise<ScreenFrame>;
  /**
   * Where the capture is told when the screen is drawn on (X DAMAGE): the capture loop then waits
   * for drawing and captures at once, instead of polling. Absent where it cannot know.
   */
  readonly drawing?: DrawingWatch;
};

/** Whether anything was drawn since the last capture, and a call at the first drawing after it. */
export type DrawingWatch = {
  readonly drawn: boolean;
  onDrawn(listener: () => void): void;
};

/** Opens monitor `index` of listMonitors() (clamped to the list) for repeated capture. */
export function openMonitor(index: number): MonitorCapture {
  const geometries = listMonitors();
  const geometry = geometries[Math.min(Math.max(0, index), geometries.length - 1)];
  if (geometry === undefined) throw noDisplay(undefined);
  const monitor = allMonitors().find(
    (candidate) =>
      candidate.x() === geometry.x &&
      candidate.y() === geometry.y &&
      candidate.width() === geometry.width &&
      candidate.height() === geometry.height,
  );
  if (monitor === undefined) throw noDisplay(undefined);
  const capture = async (): Promise<ScreenFrame> => {
    let image: Awaited<ReturnType<Monitor["captureImage"]>>;
    try {
      image = await monitor.captureImage();
    } catch (error) {
      throw noDisplay(error);
    }
    // toRawSync: ~2 ms at 1080p, where the async toRaw() measured ~15 ms.
    return { width: image.width, height: image.height, data: image.toRawSync(), order: "rgba" };
  };
  return {
    geometry,
    backend: "node-screenshots",
    // On Windows a refused capture is the secure desktop (held-capture.ts), not a lost screen.
    capture: process.platform === "win32" ? holdingLastFrame(capture) : capture,
  };
}
