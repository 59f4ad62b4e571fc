/**
 * The agent's input side when a part of it fails (Windows: user32 and gdi32 through koffi in the
 * input worker): one part failing, at start or on each read, leaves the others working and the
 * agent running, and says so once, not on every poll. The Windows calls themselves run under
 * Wine in tests/build/windows-exe.test.ts; here what stands in for them is the operating system's
 * side only (an opener or a read that fails as koffi or user32 would), with the agent's own
 * composition, worker answers and watches.
 */
import { MessageChannel, type MessagePort } from "node:worker_threads";
import t, { type Test } from "tap";
import { CursorWatch } from "../../agent/input/cursor-watch.ts";
import type { Injector } from "../../agent/input/injector.ts";
import { answer } from "../../agent/input/input-worker-answer.ts";
import type { FromInputWorker, ToInputWorker } from "../../agent/input/input-worker-protocol.ts";
import type { CursorReading } from "../../agent/input/win32-cursor.ts";
import { win32CursorShape } from "../../agent/input/win32-cursor-shape.ts";
import { win32Extras } from "../../agent/input/win32-extras.ts";
import type { Win32Desktop } from "../../agent/input/win32-user32.ts";
import type { MonitorGeometry } from "../../agent/media/capture.ts";

/** user32's clipboard and desktop as Windows answers them when all is well. */
function workingDesktop(): Win32Desktop {
  let clipboard = "before";
  return {
    readClipboard: async () => ({ sequence: 1, text: clipboard }),
    writeClipboard: async (text) => {
      clipboard = text;
    },
    inputDesktop: async () => "Default",
  };
}

t.test(
  "the cursor failing to open (gdi32 through koffi) leaves the clipboard and the input desktop working",
  async (t) => {
    const extras = await win32Extras(
      async () => workingDesktop(),
      () => Promise.reject(new Error("gdi32.dll: GetDIBits not found")),
    );
    t.same(await extras.readClipboard(undefined), { sequence: 1, text: "before" }, "the clipboard is read");
    await extras.writeClipboard("after");
    t.same(await extras.readClipboard(undefined), { sequence: 1, text: "after" }, "and written");
    t.equal(await extras.inputDesktop(), "Default", "the input desktop is read");
    await t.rejects(extras.readCursor(undefined), /GetDIBits not found/, "the cursor says why not");
  },
);

t.test("the clipboard and desktop failing to open leave the cursor readable", async (t) => {
  const extras = await win32Extras(
    () => Promise.reject(new Error("user32.dll: OpenInputDesktop not found")),
    async () => ({ readCursor: () => ({ handle: "65539" }) }),
  );
  t.same(await extras.readCursor(undefined), { handle: "65539" });
  await t.rejects(extras.readClipboard(undefined), /OpenInputDesktop not found/);
  await t.rejects(extras.inputDesktop(), /OpenInputDesktop not found/);
});

t.test("a cursor read that throws is that read's failure, not the caller's exception", async (t) => {
  const extras = await win32Extras(
    async () => workingDesktop(),
    async () => ({
      readCursor: () => {
        throw new Error("GetCursorInfo: access denied");
      },
    }),
  );
  await t.rejects(extras.readCursor(undefined), /access denied/);
  t.equal(await extras.inputDesktop(), "Default");
});

/** A worker's side of a real message channel: the answers it posts, by call id. */
function workerPort(t: Test): { port: MessagePort; answered: (id: number) => Promise<FromInputWorker> } {
  const { port1, port2 } = new MessageChannel();
  t.teardown(() => {
    port1.close();
    port2.close();
  });
  const answers = new Map<number, FromInputWorker>();
  const waiting = new Map<number, (message: FromInputWorker) => void>();
  port2.on("message", (message: FromInputWorker) => {
    if (!("id" in message)) return;
    answers.set(message.id, message);
    waiting.get(message.id)?.(message);
  });
  return {
    port: port1,
    answered: (id) =>
      new Promise((resolve) => {
        const known = answers.get(id);
        if (known !== undefined) resolve(known);
        else waiting.set(id, resolve);
      }),
  };
}

/** An injector whose cursor read fails as `readCursor` does; everything else answers. */
function injectorWith(readCursor: Injector["readCursor"]): Injector {
  const done = async () => undefined;
  return {
    move: done,
    button: done,
    scroll: done,
    key: done,
    type: done,
    position: async () => ({ x: 3, y: 4 }),
    writeClipboard: done,
    readClipboard: async () => ({ sequence: 7, text: "copied" }),
    inputDesktop: async () => "Default",
    readCursor,
  };
}

t.test(
  "a worker call that throws, or whose answer cannot be posted, is answered as that call's error and the next calls are answered",
  async (t) => {
    const { port, answered } = workerPort(t);
    const post = (message: FromInputWorker) => port.postMessage(message);
    const calls: ToInputWorker[] = [
      { id: 1, method: "readCursor", args: [undefined] },
      { id: 2, method: "readClipboard", args: [undefined] },
      { id: 3, method: "inputDesktop", args: [] },
    ];
    const throwing = injectorWith(() => {
      throw new Error("koffi: bad pointer");
    });
    for (const request of calls) await answer(throwing, request, post);
    t.match(await answered(1), { type: "error", message: "koffi: bad pointer" });
    t.match(await answered(2), { type: "done", value: { sequence: 7, text: "copied" } });
    t.match(await answered(3), { type: "done", value: "Default" });

    // A value a structured clone cannot carry (a native handle would be one).
    const uncloneable = injectorWith(
      async () => ({ handle: "1", look: (() => 1) as unknown }) as CursorReading,
    );
    await answer(uncloneable, { id: 4, method: "readCursor", args: [undefined] }, post);
    await answer(uncloneable, { id: 5, method: "inputDesktop", args: [] }, post);
    t.match(await answered(4), { type: "error", message: /could not be cloned/ });
    t.match(await answered(5), { type: "done", value: "Default" });
  },
);

t.test(
  "a cursor read that keeps failing is reported once, read less often meanwhile, and the watch goes on",
  async (t) => {
    const readsAt: number[] = [];
    let failing = false;
    let handle = "1";
    const shape = win32CursorShape(
      {
        readCursor: async (known) => {
          readsAt.push(performance.now());
          if (failing) throw new Error("the input worker stopped");
          return handle === known ? { handle } : { handle };
        },
      },
      { intervalMs: 5, failingIntervalMs: 60 },
    );
    const errors: unknown[] = [];
    const sights: unknown[] = [];
    let sighted: () => void = () => undefined;
    const watch = await shape(
      (sight) => {
        sights.push(sight);
        sighted();
      },
      (error) => errors.push(error),
    );
    if (watch === undefined) throw new Error("no watch");
    t.teardown(() => watch.close());
    t.same(sights, [{ shown: true }], "the first reading");
    failing = true;
    const failingFrom = readsAt.length;
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (readsAt.length - failingFrom >= 4) {
          clearInterval(check);
          resolve();
        }
      }, 5);
    });
    t.equal(errors.length, 1, "reported once while the same failure repeats");
    const gaps = readsAt.slice(failingFrom).map((at, i, all) => at - (all[i - 1] ?? at));
    t.ok(
      gaps.slice(1).every((gap) => gap >= 55),
      `read at most every failingIntervalMs meanwhile (${gaps.map(Math.round).join(", ")} ms)`,
    );
    const again = new Promise<void>((resolve) => {
      sighted = resolve;
    });
    failing = false;
    handle = "2";
    await again;
    t.same(sights.at(-1), { shown: true }, "the new cursor once it reads again");
  },
);

const MONITOR: MonitorGeometry = { index: 0, name: "m", x: 0, y: 0, width: 101, height: 101, primary: true };

t.test(
  "a pointer position that cannot be read is reported once, not an unhandled rejection, and the watch goes on",
  async (t) => {
    let failures = 3;
    const errors: unknown[] = [];
    const moved = await new Promise<unknown>((resolve) => {
      const watch = new CursorWatch(
        {
          position: async () => {
            if (failures > 0) {
              failures -= 1;
              throw new Error("the input worker stopped");
            }
            return { x: 50, y: 100 };
          },
        },
        () => MONITOR,
        (position) => {
          watch.running = false;
          resolve(position);
        },
        (error) => errors.push(error),
        5,
      );
      watch.running = true;
    });
    t.same(moved, { x: 0.5, y: 1, visible: true });
    t.equal(errors.length, 1, "three failures in a row, one report");
  },
);
