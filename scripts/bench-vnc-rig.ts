/**
 * The rig of `npm run bench:latency` and `npm run bench:vs-vnc`: one Xvfb at 1920x1080 with a
 * terminal to type into (xterm running `cat`, at the top) and room below it for a second terminal
 * that scrolls; the real gateway, the real `sos` agent and the real console in headless Chromium
 * showing the agent's screen; and, on the same display, x11vnc (Debian) shown by noVNC (npm
 * `@novnc/novnc`, bundled with esbuild) in a second page of the same Chromium. Both pictures are
 * watched the same way in their pages (scripts/bench-watcher.ts: the console's picture is the video
 * composed with the lossless path's overlay canvas), so both paths are measured from a key
 * in the browser to a picture in the browser.
 *
 * The two paths take turns: while one is measured the other's process is stopped (SIGSTOP), so
 * neither competes with the other for the two cores, and both see the same display and load.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { build } from "esbuild";
import type { Browser, Page } from "playwright-core";
import { runAgent, type Teardown } from "../tests/agent/e2e-support.ts";
import { createSessionInDialog, rowStatus, selectSession } from "../tests/console/desk-page.ts";
import { launchBrowser, openConsole, signIn } from "../tests/helpers/browser.ts";
import { PASSWORD, startTestGateway } from "../tests/helpers/gateway.ts";
import { startXvfb, waitUntil, windowByName, type Xvfb } from "../tests/helpers/xvfb.ts";
import { type Comparison, compareInPage, type ScreenCheck } from "./bench-compare.ts";
import { type Counters, installWatcher, type Region, type Seen, VIDEO_COUNTERS } from "./bench-watcher.ts";

export type { Comparison, ScreenCheck } from "./bench-compare.ts";
export { comparisonText } from "./bench-compare.ts";
export type { Counters, Region, ScreenCounters, Seen, Snapshot, VideoCounters } from "./bench-watcher.ts";
export { VIDEO_COUNTERS } from "./bench-watcher.ts";

/**
 * Ends x11vnc so that it removes its MIT-SHM segments (System V shared memory: one per tile-row
 * size and one of the whole screen); killed with SIGKILL it leaves them behind until the machine
 * restarts, and enough bench runs use up the system's segment ids (SHMMNI), after which nothing on
 * the machine gets shared memory (PostgreSQL's initdb fails). It may be stopped (the rig's turns).
 */
async function endX11vnc(x11vnc: ChildProcess): Promise<void> {
  if (x11vnc.exitCode !== null || x11vnc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => x11vnc.once("exit", () => resolve()));
  x11vnc.kill("SIGCONT");
  x11vnc.kill("SIGTERM");
  const gone = await Promise.race([exited.then(() => true), sleep(3_000).then(() => false)]);
  if (!gone) x11vnc.kill("SIGKILL");
}

export const WIDTH = 1920;
export const HEIGHT = 1080;
/** Where the scrolling terminal is (below the typing one, the full width). */
export const SCROLL_REGION: Region = { x: 0, y: 400, width: WIDTH, height: HEIGHT - 400 };

export type Path = "sos" | "vnc";

/**
 * What the scrolling terminal shows, at the same pace (a directory listing of ~30 lines with the
 * time, every 10 ms): `listing` lists the same directory again and again, so its text repeats;
 * `text` lists each directory under /usr in turn, so what scrolls in is new text, as in a log or
 * build output. RFB's ZRLE keeps one zlib stream, which finds the repeated listing in its window
 * and sends it for almost nothing: `listing` measures that, `text` the common case. `text` reads
 * find's output as it comes: waiting for the whole list (`for d in $(find ...)`) took 47 s with
 * a cold cache here, and the rounds of those seconds measured a still screen.
 */
export const SCROLL_WORKLOADS = {
  listing: "while :; do date +%T.%N; ls -la /usr/lib | head -n 30; sleep 0.01; done",
  text: 'while :; do find /usr -mindepth 2 -type d 2>/dev/null | while read -r d; do date +%T.%N; ls -la "$d" | head -n 30; sleep 0.01; done; done',
} as const;
export type ScrollWorkload = keyof typeof SCROLL_WORKLOADS;

export type Rig = {
  readonly xvfb: Xvfb;
  readonly browser: Browser;
  readonly pages: Record<Path, Page>;
  readonly pids: Record<Path, number>;
  readonly typing: Region;
  /** What the agent wrote on stderr (its log) so far. */
  agentLog(): string;
  /** The agent's latency trace (SOS_LATENCY_TRACE), JSON lines. */
  readonly tracePath: string;
  /** Lets `path` run and stops the other one. */
  turn(path: Path): void;
  /** Lets the stopped `path` run for `ms`, then stops it again. */
  breathe(path: Path, ms: number): Promise<void>;
  /** Starts (or stops) the scrolling terminal below the typing one (another workload: restarts it). */
  scrolling(on: boolean, workload?: ScrollWorkload): Promise<void>;
  /** Presses a key in `path`'s page and resolves with the first picture there that shows it. */
  press(path: Path, key: string, timeoutMs: number): Promise<Seen>;
  /** The page's counters: pictures shown, video frames or updates, and the bytes that brought them. */
  counters(path: Path): Promise<Counters>;
  /**
   * Saves the picture `path`'s page shows of the whole screen, as the technician sees it (the
   * console: the video with the overlay on top; and the overlay alone when there is one) to
   * `bench-results/<name>-<path>.png` (and `-overlay.png`); resolves with the files written.
   */
  saveSnapshot(path: Path, name: string): Promise<string[]>;
  /** Stops (or resumes) the scrolling terminal's drawing (SIGSTOP to its xterm): a still screen. */
  freezeScrolling(frozen: boolean): void;
  /**
   * The console's picture against the X server's screen, grabbed now (bench-results/<name>-x11.png,
   * the console's beside it): call it on a still screen the agent has caught up with.
   */
  /** Never rejects: a failed grab or page is the check's outcome, not the bench's end. */
  compareWithScreen(name: string): Promise<ScreenCheck>;
  /** The `--screen-copy` mode the agent was started with. */
  readonly screenCopy: ScreenCopyMode;
  close(): Promise<void>;
};

declare global {
  interface Window {
    connectVnc?: (url: string) => void;
    vncReady?: boolean;
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

async function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
    socket.connect(port, "127.0.0.1");
  });
}

/** noVNC in a bundle for the page, asking x11vnc for ZRLE (as VNC viewers commonly do). */
async function noVncBundle(): Promise<string> {
  const result = await build({
    stdin: {
      contents: `
        import RFB from "@novnc/novnc";
        window.vncStats = { frames: 0, bytes: 0 };
        class ZrleRfb extends RFB {
          _sendEncodings() {
            // CopyRect, ZRLE, Raw; then noVNC's own pseudo-encodings as it sends them.
            const original = RFB.messages.clientEncodings;
            RFB.messages.clientEncodings = (sock, encs) => {
              RFB.messages.clientEncodings = original;
              const real = encs.filter((e) => e >= 0 && e <= 50);
              const pseudo = encs.filter((e) => !(e >= 0 && e <= 50));
              original(sock, [1, 16, 0, ...pseudo]);
              void real;
            };
            super._sendEncodings();
          }
        }
        window.connectVnc = (url) => {
          const rfb = new ZrleRfb(document.getElementById("screen"), url, { shared: true });
          rfb._sock._websocket.addEventListener("message", (event) => {
            window.vncStats.bytes += event.data.byteLength ?? event.data.size ?? 0;
          });
          rfb.scaleViewport = false;
          rfb.addEventListener("connect", () => {
            const display = rfb._display;
            const flip = display.flip.bind(display);
            display.flip = (...args) => { window.vncStats.frames += 1; return flip(...args); };
            window.vncReady = true;
          });
          window.rfb = rfb;
        };
      `,
      resolveDir: process.cwd(),
      loader: "js",
    },
    bundle: true,
    write: false,
    format: "esm",
    logLevel: "silent",
  });
  const file = result.outputFiles[0];
  if (file === undefined) throw new Error("no bundle");
  return file.text;
}

function stopped(pid: number, stop: boolean): void {
  try {
    process.kill(pid, stop ? "SIGSTOP" : "SIGCONT");
  } catch {
    // gone: the benchmark fails on its own further on
  }
}

/** The rig's X side: Xvfb at 1920x1080 with the typing terminal (top left), which has the focus. */
export type Screen = {
  readonly xvfb: Xvfb;
  readonly typing: Region;
  focusTyping(): Promise<unknown>;
};

export async function startScreen(teardown: Teardown): Promise<Screen> {
  const xvfb = await startXvfb({ width: WIDTH, height: HEIGHT, outliveProcess: true });
  teardown.teardown(() => xvfb.stop());
  xvfb.client("xterm", ["-geometry", "100x20+0+0", "-T", "sos-typing", "-e", "cat"]);
  const typingId = await windowByName(xvfb, "sos-typing");
  const geometry = await xvfb.x("xdotool", ["getwindowgeometry", "--shell", typingId]);
  const number = (name: string) => Number(new RegExp(`${name}=(\\d+)`).exec(geometry)?.[1] ?? 0);
  const typing: Region = { x: number("X"), y: number("Y"), width: number("WIDTH"), height: number("HEIGHT") };
  const focusTyping = () => xvfb.x("xdotool", ["windowfocus", "--sync", typingId]);
  await focusTyping();
  return { xvfb, typing, focusTyping };
}

/**
 * The scrolling terminal (window name "sos-scrolling"): a full-width xterm in SCROLL_REGION
 * running `workload`; `xtermArgs` go to xterm before the command (e.g. `-l -lf FILE`: xterm's log
 * of what it is given). Resolves once its window is mapped.
 */
export async function scrollingTerminal(
  xvfb: Xvfb,
  workload: ScrollWorkload,
  xtermArgs: readonly string[] = [],
): Promise<ChildProcess> {
  const { y, height } = SCROLL_REGION;
  const child = xvfb.client("xterm", [
    "-geometry",
    `318x${Math.floor(height / 13)}+0+${y}`,
    "-T",
    "sos-scrolling",
    ...xtermArgs,
    "-e",
    "sh",
    "-c",
    SCROLL_WORKLOADS[workload],
  ]);
  await windowByName(xvfb, "sos-scrolling");
  return child;
}

/**
 * x11vnc on `screen`'s display, shown by noVNC (ZRLE) in a new page of `browser`, with the same
 * watcher as the rig's on the typing terminal: its `counters()` are the pictures and bytes.
 */
export async function startVncViewer(
  teardown: Teardown,
  screen: Screen,
  browser: Browser,
  x11vncArgs: readonly string[] = [],
): Promise<{ page: Page; pid: number }> {
  const { xvfb, typing } = screen;
  const port = await freePort();
  const x11vnc: ChildProcess = spawn(
    "x11vnc",
    [
      "-display",
      xvfb.display,
      "-rfbport",
      String(port),
      "-localhost",
      "-shared",
      "-forever",
      "-nopw",
      "-quiet",
      ...x11vncArgs,
    ],
    { stdio: "ignore", env: xvfb.env },
  );
  teardown.teardown(() => endX11vnc(x11vnc));
  await waitUntil(() => portOpen(port), 15_000, "x11vnc's port");
  const vncContext = await browser.newContext({ viewport: { width: WIDTH, height: HEIGHT } });
  const vnc = await vncContext.newPage();
  await vnc.setContent('<!doctype html><body style="margin:0"><div id="screen"></div></body>');
  await vnc.addScriptTag({ content: await noVncBundle(), type: "module" });
  await vnc.waitForFunction(() => window.connectVnc !== undefined);
  await vnc.evaluate((url) => window.connectVnc?.(url), `ws://127.0.0.1:${port}/websockify`);
  await vnc.waitForFunction(() => window.vncReady === true, undefined, { timeout: 30_000 });
  await vnc.waitForFunction(() => document.querySelector("#screen canvas") !== null);
  await vnc.focus("#screen canvas").catch(() => undefined);
  await vnc.evaluate(() => (window as unknown as { rfb: { focus(): void } }).rfb.focus());
  await vnc.evaluate(installWatcher, { kind: "canvas" as const, region: typing, counters: VIDEO_COUNTERS });
  const vncPid = x11vnc.pid;
  if (vncPid === undefined) throw new Error("x11vnc did not start");
  return { page: vnc, pid: vncPid };
}

/**
 * The agent's lossless screen path (docs/screen-copy-path.md), as the benches' `--screen-copy`
 * option: `default` passes nothing (the agent's default), `off` the agent's `--no-screen-copy` (the
 * video alone, as before the path), `on` nothing either (the path is on by default; the agent has
 * no positive flag), but refuses to start while SOS_NO_SCREEN_COPY would turn it off.
 */
export const SCREEN_COPY_MODES = ["default", "on", "off"] as const;
export type ScreenCopyMode = (typeof SCREEN_COPY_MODES)[number];
export const SCREEN_COPY_AGENT_ARGS: Record<ScreenCopyMode, readonly string[]> = {
  default: [],
  on: [],
  off: ["--no-screen-copy"],
};

/** Reads a `--screen-copy` option's value; throws a clear error on anything else. */
export function screenCopyMode(value: string | undefined): ScreenCopyMode {
  const mode = SCREEN_COPY_MODES.find((m) => m === (value ?? "default"));
  if (mode === undefined) throw new Error(`--screen-copy ${value}: one of ${SCREEN_COPY_MODES.join(", ")}`);
  if (mode === "on" && process.env.SOS_NO_SCREEN_COPY !== undefined)
    throw new Error("--screen-copy on: SOS_NO_SCREEN_COPY is set, which turns the agent's path off");
  return mode;
}

/**
 * Builds the whole rig; `agentArgs` go to `sos` after the PIN and gateway (after the flag of
 * `screenCopy`), `x11vncArgs` to x11vnc.
 */
export async function startRig(
  teardown: Teardown,
  agentArgs: readonly string[] = [],
  x11vncArgs: readonly string[] = [],
  screenCopy: ScreenCopyMode = "default",
): Promise<Rig> {
  const screen = await startScreen(teardown);
  const { xvfb, typing, focusTyping } = screen;

  const gateway = await startTestGateway();
  teardown.teardown(() => gateway.close());
  const browser = await launchBrowser();
  teardown.teardown(() => browser.close());
  const tom = await gateway.technician("Tom");
  const { page } = await openConsole(browser, gateway.url, { viewport: { width: WIDTH, height: HEIGHT } });
  page.setDefaultTimeout(30_000);
  // Keeps the console's peer connections at hand, for the bytes they receive.
  await page.context().addInitScript(() => {
    const Native = window.RTCPeerConnection;
    const peers: RTCPeerConnection[] = [];
    (window as unknown as { sosPeers: RTCPeerConnection[] }).sosPeers = peers;
    // When each message of the lossless path's channel arrived: [epoch ms, bytes].
    const arrivals: Array<[number, number]> = [];
    (window as unknown as { screenMessages: Array<[number, number]> }).screenMessages = arrivals;
    window.RTCPeerConnection = class extends Native {
      constructor(configuration?: RTCConfiguration) {
        super(configuration);
        peers.push(this);
        this.addEventListener("datachannel", ({ channel }) => {
          if (channel.label !== "screen") return;
          channel.addEventListener("message", ({ data }) => {
            const bytes = data instanceof ArrayBuffer ? data.byteLength : 0;
            arrivals.push([performance.timeOrigin + performance.now(), bytes]);
          });
        });
      }
    };
  });
  await page.reload();
  await signIn(page, tom.email, PASSWORD);
  const { pin } = await createSessionInDialog(page, "Latency");
  const tracePath = join(mkdtempSync(join(tmpdir(), "sos-bench-")), "trace.jsonl");
  const agent = runAgent(
    teardown,
    xvfb,
    [pin.replaceAll(" ", ""), "--gateway", gateway.url, ...SCREEN_COPY_AGENT_ARGS[screenCopy], ...agentArgs],
    {
      SOS_LATENCY_TRACE: tracePath,
      // The typing terminal: the trace says when the X server drew there ("drawn").
      SOS_LATENCY_TRACE_AREA: [typing.x, typing.y, typing.width, typing.height].join(","),
    },
  );
  await rowStatus(page, "Latency", "Active");
  const panel = await selectSession(page, "Latency");
  await panel.getByRole("button", { name: "Start remote session" }).click();
  await agent.line(/asks to SEE and CONTROL your screen/);
  agent.type("y");
  await panel.getByText("Permission granted: click to connect").waitFor();
  await panel.getByRole("button", { name: "Start remote session" }).click();
  await page.waitForFunction(
    () => (document.querySelector("video")?.getVideoPlaybackQuality().totalVideoFrames ?? 0) > 0,
  );
  await page.getByRole("application").focus();
  await page.evaluate(installWatcher, { kind: "video" as const, region: typing, counters: VIDEO_COUNTERS });
  const agentPid = agent.child.pid;
  if (agentPid === undefined) throw new Error("the agent did not start");

  const viewer = await startVncViewer(teardown, screen, browser, x11vncArgs);
  const vnc = viewer.page;
  const vncPid = viewer.pid;
  await focusTyping();

  const pids: Record<Path, number> = { sos: agentPid, vnc: vncPid };
  let scroller: ChildProcess | undefined;
  let scrolls: ScrollWorkload = "listing";
  /** The console's picture against a grab of the X screen (bench-compare.ts). */
  async function compareScreen(name: string): Promise<Comparison> {
    mkdirSync("bench-results", { recursive: true });
    const file = `bench-results/${name}-x11.png`;
    await execFileAsync(
      "ffmpeg",
      [
        "-loglevel",
        "error",
        "-f",
        "x11grab",
        // The console draws the remote pointer apart from the picture: none in the grab either.
        "-draw_mouse",
        "0",
        "-video_size",
        `${WIDTH}x${HEIGHT}`,
        "-i",
        xvfb.display,
        "-frames:v",
        "1",
        "-y",
        file,
      ],
      { env: xvfb.env },
    );
    const url = `data:image/png;base64,${readFileSync(file).toString("base64")}`;
    await rig.saveSnapshot("sos", name);
    return page.evaluate(compareInPage, url);
  }

  const rig: Rig = {
    xvfb,
    browser,
    pages: { sos: page, vnc },
    pids,
    typing,
    tracePath,
    agentLog: () => agent.stderr(),
    turn(path) {
      stopped(pids[path === "sos" ? "vnc" : "sos"], true);
      stopped(pids[path], false);
    },
    async breathe(path, ms) {
      stopped(pids[path], false);
      await new Promise((resolve) => setTimeout(resolve, ms));
      stopped(pids[path], true);
    },
    async scrolling(on, workload = "listing") {
      if (!on || (scroller !== undefined && scrolls !== workload)) {
        const old = scroller;
        scroller = undefined;
        if (old !== undefined && old.exitCode === null && old.signalCode === null) {
          const exited = new Promise((resolve) => old.once("exit", resolve));
          old.kill("SIGKILL");
          await exited;
        }
        if (!on) return;
      }
      if (scroller !== undefined) return;
      scrolls = workload;
      scroller = await scrollingTerminal(xvfb, workload);
      await focusTyping();
    },
    async press(path, key, timeoutMs) {
      const target = pages(path);
      await target.evaluate(() => window.sosBench?.arm());
      const seen = target.evaluate((ms) => {
        const bench = window.sosBench;
        if (bench === undefined) throw new Error("no watcher");
        return bench.change(ms);
      }, timeoutMs);
      await target.keyboard.press(key);
      return seen;
    },
    screenCopy,
    async saveSnapshot(path, name) {
      const shot = await pages(path).evaluate(() => {
        const bench = window.sosBench;
        if (bench === undefined) throw new Error("no watcher");
        return bench.snapshot();
      });
      mkdirSync("bench-results", { recursive: true });
      const written: string[] = [];
      for (const [suffix, url] of [
        ["", shot.composed],
        ["-overlay", shot.overlay],
      ] as const) {
        if (url === undefined) continue;
        const file = `bench-results/${name}-${path}${suffix}.png`;
        writeFileSync(file, Buffer.from(url.slice(url.indexOf(",") + 1), "base64"));
        written.push(file);
      }
      return written;
    },
    freezeScrolling(frozen) {
      if (scroller?.pid !== undefined) stopped(scroller.pid, frozen);
    },
    async compareWithScreen(name) {
      try {
        return await compareScreen(name);
      } catch (error) {
        return { failed: error instanceof Error ? (error.message.split("\n")[0] ?? "") : String(error) };
      }
    },
    counters(path) {
      return pages(path).evaluate(() => {
        const bench = window.sosBench;
        if (bench === undefined) throw new Error("no watcher");
        return bench.counters();
      });
    },
    async close() {
      stopped(agentPid, false);
      stopped(vncPid, false);
      scroller?.kill("SIGKILL");
    },
  };
  const pages = (path: Path) => rig.pages[path];
  teardown.teardown(() => rig.close());
  return rig;
}

const execFileAsync = promisify(execFile);

/** Reads the agent's trace (JSON lines). */
export function readTrace(path: string): Array<Record<string, number | string>> {
  let text = "";
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return [];
  }
  return text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as Record<string, number | string>);
}

/** CPU seconds (user + system) a process has used so far, from /proc. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}
