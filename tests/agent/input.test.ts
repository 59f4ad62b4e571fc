import t from "tap";
import { loadInjector } from "../../agent/input/injector.ts";
import { RemoteInput } from "../../agent/input/remote-input.ts";
import { listMonitors } from "../../agent/media/capture.ts";
import { inOrder, inputRecorder, pointerLocation, startXvfb, waitUntil } from "../helpers/xvfb.ts";

const xvfb = await startXvfb({ width: 1280, height: 720, outliveProcess: true });
process.env.DISPLAY = xvfb.display;
t.teardown(() => xvfb.stop());

const monitor = listMonitors()[0];
if (monitor === undefined) throw new Error("no monitor");
const injector = await loadInjector();
const recorder = await inputRecorder(xvfb);

async function pointerAt(x: number, y: number) {
  await waitUntil(
    async () => {
      const at = await pointerLocation(xvfb);
      return at.x === x && at.y === y;
    },
    5_000,
    `pointer at ${x},${y}`,
  );
}

t.test("a normalized pointer move lands on the monitor's pixel", async (t) => {
  const input = new RemoteInput(injector);
  await input.apply({ type: "pointer", x: 0.5, y: 0.5 }, monitor);
  await pointerAt(640, 360);
  await input.apply({ type: "pointer", x: 1, y: 1 }, monitor);
  await pointerAt(1279, 719);
  await input.apply({ type: "pointer", x: 0, y: 0 }, monitor);
  await pointerAt(0, 0);
  t.pass("pointer followed");
});

t.test("out-of-range and non-finite coordinates are clamped, never a crash", async (t) => {
  const input = new RemoteInput(injector);
  await input.apply({ type: "pointer", x: 7, y: -3 }, monitor);
  await pointerAt(1279, 0);
  await input.apply({ type: "pointer", x: Number.NaN, y: Number.POSITIVE_INFINITY }, monitor);
  await pointerAt(0, 0);
  t.pass("clamped");
});

t.test("keys by KeyboardEvent.code arrive in a focused X window", async (t) => {
  const input = new RemoteInput(injector);
  const from = recorder.events.length;
  for (const code of ["KeyA", "Digit1", "Enter", "ArrowLeft"]) {
    await input.apply({ type: "key", code, down: true }, monitor);
    await input.apply({ type: "key", code, down: false }, monitor);
  }
  await recorder.until((events) =>
    inOrder(events.slice(from), [
      "down:a",
      "up:a",
      "down:1",
      "up:1",
      "down:Return",
      "up:Return",
      "down:Left",
      "up:Left",
    ]),
  );
  t.equal(input.held, 0);
});

t.test("text types letters, shifted capitals and symbols", async (t) => {
  const input = new RemoteInput(injector);
  const from = recorder.events.length;
  await input.apply({ type: "text", text: "Hi! 42?" }, monitor);
  await recorder.until(
    (events) =>
      inOrder(
        events.slice(from).filter((event) => event.startsWith("down:")),
        ["down:Shift_L", "down:H", "down:i", "down:Shift_L", "down:exclam", "down:space", "down:4", "down:2"],
      ) && events.slice(from).includes("down:question"),
  );
  t.equal(input.held, 0, "text leaves no key held");
});

t.test("an unknown key code is ignored", async (t) => {
  const input = new RemoteInput(injector);
  await input.apply({ type: "key", code: "Hyper42", down: true }, monitor);
  t.equal(input.held, 0);
});

t.test("releaseAll releases the keys and buttons a technician holds, once", async (t) => {
  const input = new RemoteInput(injector);
  const { x, y, width, height } = recorder.place;
  await input.apply(
    { type: "pointer", x: (x + width / 2) / monitor.width, y: (y + height / 2) / monitor.height },
    monitor,
  );
  const from = recorder.events.length;
  await input.apply({ type: "key", code: "ShiftLeft", down: true }, monitor);
  await input.apply({ type: "key", code: "KeyB", down: true }, monitor);
  await input.apply({ type: "button", button: "left", down: true }, monitor);
  t.equal(input.held, 3);
  await input.releaseAll();
  t.equal(input.held, 0);
  await input.releaseAll();
  await recorder.until((events) =>
    inOrder(events.slice(from), ["down:Shift_L", "down:B", "press:1", "up:B", "up:Shift_L", "release:1"]),
  );
  const seen = recorder.events.slice(from);
  const afterPress = seen.slice(seen.indexOf("down:B"));
  t.equal(afterPress.filter((event) => event === "up:Shift_L").length, 1, "released once");
});

t.test("wheel deltas in pixels become wheel steps (100 px each)", async (t) => {
  const input = new RemoteInput(injector);
  const from = recorder.events.length;
  await input.apply({ type: "wheel", dx: 0, dy: 60 }, monitor);
  await input.apply({ type: "wheel", dx: 0, dy: 60 }, monitor);
  await input.apply({ type: "wheel", dx: 0, dy: -140 }, monitor);
  await recorder.until((events) =>
    inOrder(events.slice(from), ["press:5", "release:5", "press:4", "release:4"]),
  );
  const presses = recorder.events.slice(from).filter((event) => event.startsWith("press:"));
  t.same(presses, ["press:5", "press:4"], "one step down (120 px), then one up (20 - 140 px)");
});

t.test(
  "calls made back to back, without waiting, land in the order made (through the input worker)",
  async (t) => {
    const moves = Array.from({ length: 40 }, (_, i) => injector.move(10 + i * 7, 20 + i * 3));
    const position = injector.position();
    await Promise.all(moves);
    t.same(
      await position,
      { x: 10 + 39 * 7, y: 20 + 39 * 3 },
      "the position asked after the moves sees the last one",
    );
    await pointerAt(10 + 39 * 7, 20 + 39 * 3);
  },
);
