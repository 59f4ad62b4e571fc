import { MAX_MONITOR_SIDE, MAX_MONITORS, type MonitorInfo } from "../../shared/control.ts";
import { MAX_DEVICE_FIELD_LENGTH } from "../../shared/limits.ts";
import { inertText } from "../../shared/plain-text.ts";
import type { MonitorGeometry } from "../media/capture.ts";

/**
 * The monitors as the `state` control message describes them to the technician's console: the
 * first MAX_MONITORS the system lists, each name made inert (a system's display name is text from
 * outside the agent) and cut to MAX_DEVICE_FIELD_LENGTH, sides within MAX_MONITOR_SIDE, so the
 * console (which refuses anything longer) always takes it.
 */
export function monitorsForState(monitors: readonly MonitorGeometry[]): MonitorInfo[] {
  const side = (pixels: number) => Math.min(Math.max(1, pixels), MAX_MONITOR_SIDE);
  return monitors.slice(0, MAX_MONITORS).map(({ index, name, width, height, primary }) => ({
    index,
    name: inertText(name, MAX_DEVICE_FIELD_LENGTH).slice(0, MAX_DEVICE_FIELD_LENGTH),
    width: side(width),
    height: side(height),
    primary,
  }));
}
