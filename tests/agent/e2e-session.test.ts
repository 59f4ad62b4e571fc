import t from "tap";
import { pixelAt } from "../helpers/technician-peer.ts";
import {
  colouredWindow,
  inOrder,
  inputRecorder,
  pointerLocation,
  startXvfb,
  waitUntil,
} from "../helpers/xvfb.ts";
import {
  agentJoined,
  connectTechnician,
  openDesk,
  permission,
  requestPermission,
  runAgent,
} from "./e2e-support.ts";

const xvfb = await startXvfb({ width: 1280, height: 720 });
t.teardown(() => xvfb.stop());
await colouredWindow(xvfb, { x: 100, y: 100, width: 300, height: 200, colour: "red", name: "sos-red" });
const recorder = await inputRecorder(xvfb);

t.test(
  "joined by PIN and granted control: the technician sees the screen and their pointer and keys land on it",
  async (t) => {
    const desk = await openDesk(t);
    const agent = runAgent(t, xvfb, [desk.session.pin, "--gateway", desk.gw.url]);
    await agent.line(/Waiting for your technician/);
    await agentJoined(desk);

    await requestPermission(desk.alice.client, desk.session.id);
    await agent.line(/Alice \(Acme IT\) asks to SEE and CONTROL your screen/);
    // The warning is the next line: wait for it (it may not have been read yet).
    t.match(await agent.line(/Never allow this/), /Never allow this if someone contacted you unexpectedly/);
    agent.type("y");
    t.equal(await permission(desk.console, desk.session.id, desk.alice.id, "granted"), "control");
    await agent.line(/Allowed: Alice may see and control your screen/);

    const { technician, access } = await connectTechnician(t, desk.console, desk.session.id, {
      keepPixels: true,
    });
    t.equal(access, "control");
    const frame = await technician.nextFrame(undefined, 20_000, 0);
    t.equal(frame.width, 1280, "the frame has the screen's width");
    t.equal(frame.height, 720, "and its height");
    const red = pixelAt(frame, 250, 200);
    t.ok(red.r > 200 && red.g < 50 && red.b < 50, `the red window is red: ${JSON.stringify(red)}`);
    await agent.line(/Alice is now viewing and controlling your screen/);
    // A console that does not ask for a files connection (remote.connect without filesConnection,
    // as consoles before it) gets none: `files` comes on the view's own connection.
    // And `screen`, the screen copy path's (docs/screen-copy-path.md), beside them.
    await waitUntil(async () => technician.channelLabels.length >= 3, 10_000, "three data channels");
    t.same(
      [...technician.channelLabels].sort(),
      ["control", "files", "screen"],
      "control, files and screen on the view",
    );
    t.equal(technician.filesSignals, 0, 'no "peer: files" signal for a console that did not ask');

    const state = await technician.nextControl((message) => message.type === "state");
    t.match(state, {
      type: "state",
      access: "control",
      monitor: 0,
      monitors: [{ index: 0, width: 1280, height: 720 }],
    });

    technician.send({ type: "pointer", x: 0.25, y: 0.5 });
    await waitUntil(
      async () => {
        const at = await pointerLocation(xvfb);
        return at.x === 320 && at.y === 360;
      },
      5_000,
      "the pointer at 320,360",
    );
    await technician.nextControl((message) => message.type === "cursor" && Math.abs(message.x - 0.25) < 0.01);

    const { x, y, width, height } = recorder.place;
    technician.send({ type: "pointer", x: (x + width / 2) / 1279, y: (y + height / 2) / 719 });
    const from = recorder.events.length;
    technician.send({ type: "key", code: "KeyS", down: true });
    technician.send({ type: "key", code: "KeyS", down: false });
    technician.send({ type: "button", button: "left", down: true });
    technician.send({ type: "button", button: "left", down: false });
    await recorder.until((events) => inOrder(events.slice(from), ["down:s", "up:s", "press:1", "release:1"]));

    // Clipboard text both ways (xsel as clipboardy ships it, the helper nut-js uses).
    const xsel = "node_modules/clipboardy/fallbacks/linux/xsel";
    await xvfb.x(xsel, ["--clipboard", "--input"], "copied by the end user");
    const copied = await technician.nextControl((message) => message.type === "clipboard");
    t.same(copied, { type: "clipboard", text: "copied by the end user" });
    technician.send({ type: "clipboard", text: "pasted by the technician" });
    await waitUntil(
      async () => (await xvfb.x(xsel, ["--clipboard", "--output"])) === "pasted by the technician",
      5_000,
      "the technician's text on the clipboard",
    );

    agent.type("q");
    await desk.console.next("remote.closed", (m) => m.reason === "ended_by_user", 10_000);
    await agent.line(/Session ended/);
    const { code } = await agent.exited;
    t.equal(code, 0, "q ends with exit code 0");
  },
);
