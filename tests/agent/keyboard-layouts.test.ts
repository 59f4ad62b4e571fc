import t from "tap";
import { loadInjector } from "../../agent/input/injector.ts";
import { RemoteInput } from "../../agent/input/remote-input.ts";
import { listMonitors } from "../../agent/media/capture.ts";
import type { TechnicianControl } from "../../shared/control.ts";
import { keyboardProbe } from "../helpers/x11-keys.ts";
import { inOrder, inputRecorder, startXvfb, waitUntil } from "../helpers/xvfb.ts";

/**
 * The technician's keys on end users' keyboard layouts, on a real X server whose layout is switched
 * with setxkbmap, typed into an X window (xev) that decodes them with the server's mapping.
 */
const xvfb = await startXvfb({ width: 1280, height: 720, outliveProcess: true });
process.env.DISPLAY = xvfb.display;
t.teardown(() => xvfb.stop());

const [monitor] = listMonitors();
if (monitor === undefined) throw new Error("no monitor");
const screen = monitor;
const injector = await loadInjector();
const recorder = await inputRecorder(xvfb);
const probe = await keyboardProbe();
t.teardown(() => probe.close());

const layout = (name: string) => xvfb.x("setxkbmap", [name]);

type Key = { code: string; key?: string };
type Press = Key & { with?: readonly string[] };

/** A key as a console in `mode` sends it: the modifiers held down, the key down and up, let go. */
function stroke(press: Press, mode: "position" | "character"): TechnicianControl[] {
  const modifiers = press.with ?? [];
  const key = (code: string, down: boolean, char?: string): TechnicianControl =>
    char === undefined ? { type: "key", code, down, mode } : { type: "key", code, down, key: char, mode };
  return [
    ...modifiers.map((code) => key(code, true)),
    key(press.code, true, press.key),
    key(press.code, false, press.key),
    ...[...modifiers].reverse().map((code) => key(code, false)),
  ];
}

async function send(input: RemoteInput, messages: readonly TechnicianControl[]) {
  for (const message of messages) {
    if (message.type === "key" || message.type === "text") await input.apply(message, screen);
  }
}

/** What a German technician presses for @ € ü ß é ñ, and a Russian one for Ж. */
const TECHNICIAN_CHARACTERS: readonly Press[] = [
  { code: "KeyQ", key: "@", with: ["AltRight"] },
  { code: "KeyE", key: "€", with: ["AltRight"] },
  { code: "BracketLeft", key: "ü" },
  { code: "Minus", key: "ß" },
  { code: "KeyE", key: "é" }, // after the dead key ´, which the console does not send in this mode
  { code: "KeyN", key: "ñ" },
  { code: "Semicolon", key: "Ж", with: ["ShiftLeft"] },
];

async function typed(input: RemoteInput, presses: readonly Press[], mode: "position" | "character") {
  const from = recorder.text.length;
  for (const press of presses) await send(input, stroke(press, mode));
  return from;
}

for (const name of ["us", "de", "fr", "ru"]) {
  t.test(`translate by character: @ € ü ß é ñ Ж arrive exactly on a "${name}" layout`, async (t) => {
    await layout(name);
    const input = new RemoteInput(injector);
    const from = await typed(input, TECHNICIAN_CHARACTERS, "character");
    await recorder.until(() => recorder.text.length >= from + 7);
    t.equal(recorder.text.slice(from), "@€üßéñЖ");
    t.equal(input.held, 0, "no key left held");
    t.same(await probe.keysDown(), [], "no key down on the server");
  });
}

t.test("an input method's composition and text beyond the BMP arrive exactly", async (t) => {
  await layout("de");
  const input = new RemoteInput(injector);
  const from = recorder.text.length;
  await input.apply({ type: "text", text: "日本語 ő 😀" }, monitor);
  await recorder.until(() => recorder.text.length >= from + 8);
  t.equal(recorder.text.slice(from), "日本語 ő 😀");
});

t.test("spare keycodes given to missing characters are put back once typing pauses", async (t) => {
  await layout("us");
  const empty = await probe.emptyKeycodes();
  const input = new RemoteInput(injector);
  const from = recorder.text.length;
  await input.apply({ type: "text", text: "Ж" }, monitor);
  await recorder.until(() => recorder.text.length > from);
  t.ok((await probe.emptyKeycodes()).length < empty.length, "a spare keycode was mapped");
  await waitUntil(
    async () => (await probe.emptyKeycodes()).length === empty.length,
    5_000,
    "spares restored",
  );
  t.same(await probe.emptyKeycodes(), empty);
});

t.test("map by position: a US technician's Y key types z for a German end user", async (t) => {
  await layout("de");
  const input = new RemoteInput(injector);
  const from = await typed(
    input,
    [
      { code: "KeyY", key: "y" },
      { code: "KeyZ", key: "z" },
      { code: "KeyQ", key: "q", with: ["AltRight"] },
    ],
    "position",
  );
  await recorder.until(() => recorder.text.length >= from + 3);
  t.equal(recorder.text.slice(from), "zy@", "the end user's layout decides, AltGr included");
});

t.test("old messages without a mode go by position", async (t) => {
  await layout("de");
  const input = new RemoteInput(injector);
  const from = recorder.text.length;
  await input.apply({ type: "key", code: "KeyY", down: true }, monitor);
  await input.apply({ type: "key", code: "KeyY", down: false }, monitor);
  await recorder.until(() => recorder.text.length > from);
  t.equal(recorder.text.slice(from), "z");
});

t.test("shortcuts arrive as shortcuts in translate mode (French end user)", async (t) => {
  await layout("fr");
  const input = new RemoteInput(injector);
  const from = recorder.events.length;
  const text = recorder.text.length;
  await send(input, stroke({ code: "KeyC", key: "c", with: ["ControlLeft"] }, "character"));
  await send(input, stroke({ code: "KeyT", key: "t", with: ["ControlLeft", "AltLeft"] }, "character"));
  await send(input, stroke({ code: "ArrowRight", with: ["ShiftLeft"] }, "character"));
  await send(input, stroke({ code: "KeyA", key: "a", with: ["ControlLeft"] }, "character"));
  const expected = [
    ...["down:Control_L", "down:c", "up:c", "up:Control_L"],
    ...["down:Control_L", "down:Alt_L", "down:t", "up:t", "up:Alt_L", "up:Control_L"],
    ...["down:Shift_L", "down:Right", "up:Right", "up:Shift_L"],
    ...["down:Control_L", "down:a", "up:a", "up:Control_L"],
  ];
  await recorder.until((events) => inOrder(events.slice(from), expected));
  t.same(
    recorder.events.slice(from).filter((event) => event.startsWith("down:")),
    expected.filter((event) => event.startsWith("down:")),
    "nothing else pressed: Ctrl+A is the key that types a on AZERTY",
  );
  t.equal(recorder.text.length, text, "no character typed");
});

t.test("a layout switched mid-session is followed at once", async (t) => {
  const input = new RemoteInput(injector);
  await layout("us");
  const from = await typed(input, [{ code: "KeyY", key: "y" }], "character");
  await layout("de");
  await typed(input, [{ code: "KeyY", key: "y" }], "character");
  await typed(input, [{ code: "KeyY", key: "y" }], "position");
  await recorder.until(() => recorder.text.length >= from + 3);
  t.equal(recorder.text.slice(from), "yyz");
});

t.test("keys held across a layout change are released", async (t) => {
  const input = new RemoteInput(injector);
  await layout("us");
  await send(input, [
    { type: "key", code: "ShiftLeft", down: true, mode: "position" },
    { type: "key", code: "KeyY", key: "Y", down: true, mode: "position" },
  ]);
  await layout("de");
  await send(input, [
    { type: "key", code: "ControlLeft", down: true, mode: "character" },
    { type: "key", code: "KeyZ", key: "y", down: true, mode: "character" },
  ]);
  // Ctrl+y on German: y is the key a US keyboard has z on (52), while KeyY (29) is still held.
  t.same(await probe.keysDown(), [29, 37, 50, 52], "Y, Ctrl, Shift and the German y key are down");
  await layout("us");
  await send(input, [
    { type: "key", code: "KeyZ", key: "y", down: false, mode: "character" },
    { type: "key", code: "ControlLeft", down: false, mode: "character" },
    { type: "key", code: "KeyY", key: "Y", down: false, mode: "position" },
    { type: "key", code: "ShiftLeft", down: false, mode: "position" },
  ]);
  t.same(await probe.keysDown(), [], "every key is up");
  t.equal(input.held, 0);
});

t.test("the second layout of a two-layout keyboard (us,ru on Russian) types exactly", async (t) => {
  await layout("us,ru");
  await probe.lockGroup(1);
  t.teardown(() => probe.lockGroup(0));
  const input = new RemoteInput(injector);
  const from = await typed(
    input,
    [
      { code: "Semicolon", key: "Ж", with: ["ShiftLeft"] },
      { code: "KeyQ", key: "@", with: ["AltRight"] },
      { code: "KeyQ", key: "q" },
    ],
    "character",
  );
  await recorder.until(() => recorder.text.length >= from + 3);
  t.equal(recorder.text.slice(from), "Ж@q");
});

t.test("a technician leaving while keys are held releases them after a layout change", async (t) => {
  const input = new RemoteInput(injector);
  await layout("de");
  await send(input, [
    { type: "key", code: "ControlLeft", down: true, mode: "character" },
    { type: "key", code: "KeyZ", key: "y", down: true, mode: "character" },
    { type: "key", code: "AltRight", down: true, mode: "position" },
  ]);
  t.same(await probe.keysDown(), [37, 52, 108], "Ctrl, the German y key and AltGr are down");
  await layout("fr");
  await input.releaseAll();
  t.same(await probe.keysDown(), [], "every key is up");
  await layout("us");
});
