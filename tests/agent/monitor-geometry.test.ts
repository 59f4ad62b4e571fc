/**
 * Where a technician's click lands on Windows monitors with negative origins and mixed scaling.
 *
 * The choice (README, "Monitors, DPI scaling and clicks"): the Windows executable is per-monitor
 * DPI aware (its manifest, build/pe.ts), so capture, monitor rectangles and injected input all
 * use physical pixels, and no conversion is needed: a 150 % monitor of 2880x1620 physical pixels is
 * 2880x1620 to the agent everywhere. What remains is arithmetic: the console's page point to 0..1
 * across the picture (signaling/console/remote/geometry.ts), 0..1 to a desktop pixel on the
 * monitor (agent/input/geometry.ts), and back for the remote cursor. Tested here on a layout as
 * Windows reports it to a per-monitor aware process.
 */
import t from "tap";
import { toDesktop, toNormalized } from "../../agent/input/geometry.ts";
import type { MonitorGeometry } from "../../agent/media/capture.ts";
import { pictureBox, toUnit } from "../../signaling/console/remote/geometry.ts";

/** Physical rectangles: the primary at 100 %, one at 125 % left of and above it, one at 150 % above right. */
const MONITORS: readonly MonitorGeometry[] = [
  { index: 0, name: "primary 100 %", x: 0, y: 0, width: 1920, height: 1080, primary: true },
  { index: 1, name: "left 125 %", x: -2560, y: -360, width: 2560, height: 1440, primary: false },
  { index: 2, name: "top right 150 %", x: 1920, y: -1620, width: 2880, height: 1620, primary: false },
];

/** Pixels of the picture to click: corners, edges, the middle, and a spread in between. */
function samples(size: number): number[] {
  const spread = Array.from({ length: 37 }, (_, i) => Math.floor(((i + 0.5) * size) / 37));
  return [...new Set([0, 1, size >> 1, size - 2, size - 1, ...spread])];
}

for (const monitor of MONITORS) {
  t.test(
    `${monitor.name}: a click on any pixel of the picture lands on that pixel of the monitor`,
    async (t) => {
      // The picture is the capture, at the monitor's physical size; the console shows it scaled to
      // fit its element (here smaller and larger than the picture, letterboxed).
      for (const element of [
        { left: 10, top: 80, width: 1280, height: 900 },
        { left: 0, top: 0, width: 3840, height: 2160 },
      ]) {
        const box = pictureBox(element, monitor.width, monitor.height);
        const scale = box.width / monitor.width;
        let misses = 0;
        for (const px of samples(monitor.width)) {
          for (const py of samples(monitor.height)) {
            // The page point at the centre of picture pixel (px, py).
            const unit = toUnit(box, box.left + (px + 0.5) * scale, box.top + (py + 0.5) * scale);
            if (unit === null) throw new Error(`(${px}, ${py}) outside the picture`);
            const at = toDesktop(monitor, unit.x, unit.y);
            if (at.x !== monitor.x + px || at.y !== monitor.y + py) misses += 1;
          }
        }
        t.equal(misses, 0, `every sampled pixel, picture shown at ${scale.toFixed(2)}x`);
      }
    },
  );
}

t.test("negative origins: the corners of each monitor are its own, never a neighbour's", async (t) => {
  for (const monitor of MONITORS) {
    const topLeft = toDesktop(monitor, 0, 0);
    const bottomRight = toDesktop(monitor, 1, 1);
    t.same(topLeft, { x: monitor.x, y: monitor.y }, `${monitor.name} top left`);
    t.same(
      bottomRight,
      { x: monitor.x + monitor.width - 1, y: monitor.y + monitor.height - 1 },
      `${monitor.name} bottom right`,
    );
    const owners = MONITORS.filter(
      (m) =>
        bottomRight.x >= m.x &&
        bottomRight.x < m.x + m.width &&
        bottomRight.y >= m.y &&
        bottomRight.y < m.y + m.height,
    );
    t.same(
      owners.map((m) => m.name),
      [monitor.name],
      "the bottom right pixel belongs to this monitor only",
    );
  }
});

t.test(
  "the pointer's desktop position maps back to the same place in the picture (the remote cursor)",
  async (t) => {
    for (const monitor of MONITORS) {
      for (const [x, y] of [
        [monitor.x, monitor.y],
        [monitor.x + 1234, monitor.y + 567],
        [monitor.x + monitor.width - 1, monitor.y + monitor.height - 1],
      ] as const) {
        const unit = toNormalized(monitor, x, y);
        t.ok(unit.inside, `${monitor.name} (${x}, ${y}) is on it`);
        t.same(toDesktop(monitor, unit.x, unit.y), { x, y }, `${monitor.name} (${x}, ${y}) round trip`);
      }
      // A pointer on the neighbouring monitor is not on this one (the cursor is hidden, not clamped in).
      t.notOk(
        toNormalized(monitor, monitor.x - 1, monitor.y).inside,
        `${monitor.name}: left of it is outside`,
      );
    }
  },
);
