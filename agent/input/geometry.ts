/** From the technician's normalized coordinates to desktop pixels of the shown monitor. */
import type { MonitorGeometry } from "../media/capture.ts";

function unit(value: number): number {
  return Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0;
}

/** 0..1 across the monitor to a desktop pixel on it; out-of-range and non-finite values are clamped. */
export function toDesktop(monitor: MonitorGeometry, x: number, y: number): { x: number; y: number } {
  return {
    x: monitor.x + Math.round(unit(x) * (monitor.width - 1)),
    y: monitor.y + Math.round(unit(y) * (monitor.height - 1)),
  };
}

/** A desktop pixel to 0..1 across the monitor, and whether it lies on that monitor. */
export function toNormalized(
  monitor: MonitorGeometry,
  x: number,
  y: number,
): { x: number; y: number; inside: boolean } {
  const nx = (x - monitor.x) / Math.max(1, monitor.width - 1);
  const ny = (y - monitor.y) / Math.max(1, monitor.height - 1);
  const inside = nx >= 0 && nx <= 1 && ny >= 0 && ny <= 1;
  return { x: unit(nx), y: unit(ny), inside };
}
