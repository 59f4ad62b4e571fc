import t from "tap";
import { AgentError } from "../../agent/exit.ts";
import { listMonitors, openMonitor } from "../../agent/media/capture.ts";
import { closeShmConnection, openShmMonitor } from "../../agent/media/x11-capture.ts";
import { colouredWindow, startXvfb, waitUntil } from "../helpers/xvfb.ts";

const xvfb = await startXvfb({ width: 1280, height: 720 });
process.env.DISPLAY = xvfb.display;
t.teardown(() => xvfb.stop());

t.test("listMonitors reports the X screen with its size", async (t) => {
  const monitors = listMonitors();
  t.equal(monitors.length, 1);
  t.match(monitors[0], { index: 0, x: 0, y: 0, width: 1280, height: 720 });
});

t.test("a capture returns the real pixels: a red window is red in the frame", async (t) => {
  await colouredWindow(xvfb, { x: 200, y: 150, width: 300, height: 200, colour: "red", name: "sos-red" });
  const frame = await openMonitor(0).capture();
  t.equal(frame.width, 1280);
  t.equal(frame.height, 720);
  t.equal(frame.data.length, 1280 * 720 * 4);
  const at = (x: number, y: number) => {
    const i = (y * frame.width + x) * 4;
    return [frame.data[i], frame.data[i + 1], frame.data[i + 2]];
  };
  t.same(at(350, 300), [255, 0, 0], "inside the window: red");
  t.same(at(50, 50), [0, 0, 0], "the root window (Xvfb -br): black");
});

t.test("MIT-SHM capture: the same pixels, as B, G, R, X, read again only where drawn on", async (t) => {
  t.teardown(closeShmConnection);
  await colouredWindow(xvfb, { x: 600, y: 150, width: 300, height: 200, colour: "red", name: "sos-red-shm" });
  const [geometry] = listMonitors();
  if (geometry === undefined) throw new Error("no monitor");
  const capture = await openShmMonitor(geometry);
  t.equal(capture?.backend, "x11-shm", "Xvfb offers MIT-SHM on its local socket");
  if (capture === undefined) return;
  // Once nothing more is drawn (the window has painted itself), a capture returns the very frame
  // before it: DAMAGE reported nothing, and the screen is not read.
  let frame = await capture.capture();
  await waitUntil(
    async () => {
      const next = await capture.capture();
      const same = next === frame;
      frame = next;
      return same;
    },
    5_000,
    "a capture that returns the frame before it",
  );
  t.match(frame, { width: 1280, height: 720, order: "bgra" });
  t.equal(frame.data.length, 1280 * 720 * 4);
  const at = (data: Buffer, x: number, y: number) => [
    ...data.subarray((y * 1280 + x) * 4, (y * 1280 + x) * 4 + 3),
  ];
  t.same(at(frame.data, 750, 250), [0, 0, 255], "inside the window: red (blue byte first)");
  t.same(at(frame.data, 50, 650), [0, 0, 0], "the root window: black");
  t.equal(
    await capture.capture(),
    frame,
    "nothing drawn since (DAMAGE): the same frame, the screen not read",
  );

  // Something is drawn: a later capture shows it, in a new frame that names the bands of rows
  // changed since the earlier one. The monitor's image is updated in place, not copied.
  const before = frame.changes;
  if (before === undefined) throw new Error("a MIT-SHM frame carries its changes");
  await colouredWindow(xvfb, {
    x: 100,
    y: 500,
    width: 200,
    height: 100,
    colour: "green",
    name: "sos-green-shm",
  });
  let after = frame;
  await waitUntil(
    async () => {
      after = await capture.capture();
      return at(after.data, 200, 550)[1] === 255;
    },
    5_000,
    "the green window in a capture",
  );
  t.not(after, frame, "a new frame");
  t.equal(after.data, frame.data, "the same image, updated in place (no copy of the screen)");
  t.same(
    after.changes?.log.since(before.version),
    [{ start: 496, end: 608 }],
    "changed since the earlier frame: the bands of rows 500-599 (16 rows each), nothing else",
  );
  t.same(after.changes?.log.since(after.changes.version), [], "nothing changed since itself");
  t.same(at(after.data, 750, 250), [0, 0, 255], "rows not drawn on keep their pixels");
});

t.test("without DISPLAY the monitor list fails with the no_display reason", async (t) => {
  const display = process.env.DISPLAY;
  delete process.env.DISPLAY;
  try {
    const error = (() => {
      try {
        listMonitors();
      } catch (caught) {
        return caught;
      }
    })();
    t.type(error, AgentError);
    t.match(error, { reason: "no_display", message: /DISPLAY is not set/ });
  } finally {
    process.env.DISPLAY = display;
  }
});
