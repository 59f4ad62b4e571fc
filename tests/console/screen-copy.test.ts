import { execFile } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Page } from "playwright-core";
import t from "tap";
import { openMonitor } from "../../agent/media/capture.ts";
import { SCREEN_TILE, tileGrid } from "../../shared/screen.ts";
import { runAgent } from "../agent/e2e-support.ts";
import { launchBrowser, openConsole, signIn } from "../helpers/browser.ts";
import { field, PASSWORD, startTestGateway } from "../helpers/gateway.ts";
import { startXvfb, waitUntil } from "../helpers/xvfb.ts";
import { selectSession } from "./desk-page.ts";
import { compareWithScreen, countScreenApplied, pageTiles, screenSeen } from "./screen-copy-helpers.ts";

/**
 * The screen copy path end to end (docs/screen-copy-path.md): the real gateway, the real `sos`
 * agent (default settings) under Xvfb with an xterm scrolling known text, the real console in
 * headless Chromium. The console's overlay canvas holds exactly the X server's pixels in its
 * lossless tiles, `screenapplied` events come and the channel carries the scroll as copies, a
 * second technician who opens the view mid-scroll sees the same pixels, and the recording shows
 * what the technician saw (the text the overlay drew, not the video's frozen tiles).
 */

const run = promisify(execFile);
const SCREEN = { width: 1280, height: 720 };
const TILES = tileGrid(SCREEN.width, SCREEN.height).count;

const xvfb = await startXvfb(SCREEN);
t.teardown(() => xvfb.stop());
process.env.DISPLAY = xvfb.display;
const gateway = await startTestGateway();
t.teardown(() => gateway.close());
const browser = await launchBrowser();
t.teardown(() => browser.close());
const dir = await mkdtemp(join(tmpdir(), "sos-screen-copy-"));
t.teardown(() => rm(dir, { recursive: true, force: true }));

// The terminal: a full-screen xterm printing what the test writes into a FIFO.
const fifo = join(dir, "text");
await run("mkfifo", [fifo]);
xvfb.client("xterm", ["-geometry", "210x54+0+0", "-T", "sos-scrolling", "-e", "cat", fifo]);
const terminal = createWriteStream(fifo);
t.teardown(() => terminal.destroy());
let lineNumber = 0;
const WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"];
/** Known text: numbered lines of words, of varying length. */
function writeLines(count: number): void {
  let text = "";
  for (let i = 0; i < count; i += 1) {
    lineNumber += 1;
    const words = Array.from({ length: 3 + (lineNumber % 17) }, (_, k) => WORDS[(lineNumber * 7 + k) % 10]);
    text += `${String(lineNumber).padStart(6, "0")} ${words.join(" ")}\n`;
  }
  terminal.write(text);
}
writeLines(80);
let scrolling: ReturnType<typeof setInterval> | undefined;
const startScrolling = () => {
  scrolling ??= setInterval(() => writeLines(2), 60);
};
const stopScrolling = () => {
  clearInterval(scrolling);
  scrolling = undefined;
};
t.teardown(stopScrolling);

const tom = await gateway.technician("Tom", { viewRecordings: true });
const kim = await gateway.technician("Kim");
const created = await gateway.admin.post("/api/channels", {
  name: "Copy desk",
  access: [tom.id, kim.id],
  recording: { mode: "request", retentionDays: 7 },
});
const channelId = field(created.body, "channel", "id");
const session = await gateway.newSession(tom.client, channelId);
await gateway.admin.post(`/api/sessions/${session.id}/invite`, { technicianIds: [kim.id] });
const agent = runAgent(t, xvfb, [session.pin, "--gateway", gateway.url]);
await agent.line(/Waiting for your technician/);

/** Signs in, asks the end user, who answers `answer`, and opens the view. */
async function openView(page: Page, name: string, answer: "y" | "v"): Promise<void> {
  await page.getByRole("navigation").getByRole("link", { name: "Copy desk" }).click();
  const panel = await selectSession(page, "Customer");
  await panel.getByRole("button", { name: "Start remote session" }).click();
  await agent.line(new RegExp(`${name} .* asks to SEE`));
  agent.type(answer);
  await panel.getByText(/[Pp]ermission granted: click to connect/).waitFor();
  await countScreenApplied(page);
  await panel.getByRole("button", { name: "Start remote session" }).click();
}

/** Waits until the page's lossless tiles (at least half the screen) equal the X server's. */
async function exactly(page: Page, what: string): Promise<{ lossless: number }> {
  let last = { differ: [-1], lossless: 0 };
  try {
    await waitUntil(
      async () => {
        const tiles = await pageTiles(page);
        if (tiles.width !== SCREEN.width || tiles.height !== SCREEN.height) return false;
        last = await compareWithScreen(tiles);
        return last.differ.length === 0 && last.lossless >= TILES / 2;
      },
      30_000,
      what,
    );
  } catch (error) {
    throw new Error(`${what}: ${last.lossless} lossless tiles, these differ: ${last.differ.join(", ")}`, {
      cause: error,
    });
  }
  return last;
}

t.test(
  "the overlay is exact, carries copies, a second technician sees the same, the recording too",
  async (t) => {
    const tomConsole = await openConsole(browser, gateway.url);
    const page = tomConsole.page;
    page.setDefaultTimeout(20_000);
    await signIn(page, tom.email, PASSWORD);
    await openView(page, "Tom", "y");
    await page.waitForFunction(
      () => (window as unknown as { screenSeen: { applied: number } }).screenSeen.applied > 0,
    );
    t.pass("screenapplied events come");

    await page.getByRole("button", { name: "Record" }).click();
    await agent.line(/^● RECORDING: Tom is recording/);
    await page.getByRole("status").getByText("Recording: the end user has been told.").waitFor();

    startScrolling();
    await page.waitForFunction(
      () => (window as unknown as { screenSeen: { withCopies: number } }).screenSeen.withCopies > 3,
      undefined,
      { timeout: 30_000 },
    );
    t.pass("records with copies arrive while the terminal scrolls");
    await page
      .getByRole("status", { name: "Connection quality" })
      .getByText(/\+ \d+ kbit\/s lossless/)
      .waitFor();
    t.pass("the quality line shows the screen channel's rate");

    // Kim opens the view while the text scrolls.
    const kimConsole = await openConsole(browser, gateway.url);
    const kimPage = kimConsole.page;
    kimPage.setDefaultTimeout(20_000);
    await signIn(kimPage, kim.email, PASSWORD);
    await openView(kimPage, "Kim", "v");
    await kimPage.waitForFunction(
      () => (window as unknown as { screenSeen: { applied: number } }).screenSeen.applied > 3,
    );
    t.pass("the second technician's canvas draws records mid-scroll");

    stopScrolling();
    const tomTiles = await exactly(page, "Tom's canvas equals the X server");
    t.pass(`Tom: ${tomTiles.lossless} of ${TILES} tiles lossless, each exactly the X server's pixels`);
    const kimTiles = await exactly(kimPage, "Kim's canvas equals the X server");
    t.pass(`Kim: ${kimTiles.lossless} of ${TILES} tiles lossless, each exactly the X server's pixels`);
    const seen = await screenSeen(page);
    t.ok(
      seen.withCopies > 3 && seen.bytes > 0,
      `Tom: ${seen.applied} records, ${seen.withCopies} with copies`,
    );

    // What the video alone shows in the lossless tiles now (frozen there), for the recording's check.
    const video = await videoPicture(page);
    // A chunk of the still screen stored by the gateway (bytes counted), then stop.
    type Listed = { recordings: Array<{ id: string; bytes: number }> };
    const listed = async () =>
      ((await tom.client.get(`/api/sessions/${session.id}/recordings`)).body as Listed).recordings;
    const storedBefore = (await listed())[0]?.bytes ?? 0;
    await waitUntil(
      async () => ((await listed())[0]?.bytes ?? 0) > storedBefore,
      20_000,
      "a chunk of the still screen stored by the gateway",
    );
    await page.getByRole("button", { name: "Stop recording" }).click();
    await agent.line(/^Recording by Tom stopped\.$/);

    const recordings = await listed();
    t.equal(recordings.length, 1, "one recording");
    const recording = recordings[0];
    if (recording === undefined) throw new Error("no recording");
    const response = await fetch(`${gateway.url}/api/recordings/${recording.id}/video`, {
      headers: { cookie: tom.client.cookie ?? "" },
    });
    t.equal(response.status, 200);
    const webm = join(dir, "recording.webm");
    const recorded = Buffer.from(await response.arrayBuffer());
    await writeFile(webm, recorded);
    // WebM begins with the EBML header's ID (1A 45 DF A3).
    t.equal(
      recorded.subarray(0, 4).toString("hex"),
      "1a45dfa3",
      `the recording is WebM from its first byte (${recorded.length} bytes, ${recording.bytes} counted by the gateway)`,
    );
    const last = join(dir, "last.rgb");
    // Every frame decoded; the file keeps the last (the still screen after the scroll).
    await run("ffmpeg", [
      "-v",
      "error",
      "-i",
      webm,
      "-f",
      "image2",
      "-update",
      "1",
      "-c:v",
      "rawvideo",
      "-pix_fmt",
      "rgb24",
      "-y",
      last,
    ]);
    const lastFrame = await readFile(last);
    t.equal(lastFrame.length, SCREEN.width * SCREEN.height * 3, "the recording has the screen's size");
    const screen = await openMonitor(0).capture();
    const lossless = (await pageTiles(page)).tiles.map(([tile]) => tile);
    const recordedError = meanError(lastFrame, 3, screen.data, lossless);
    const videoError = meanError(video, 4, screen.data, lossless);
    t.comment(
      `mean |difference| in the lossless tiles: recording ${recordedError.toFixed(2)}, video ${videoError.toFixed(2)}`,
    );
    t.ok(
      recordedError < 12,
      `the recording's last frame shows the screen's text (${recordedError.toFixed(2)})`,
    );
    t.ok(
      recordedError < videoError / 2,
      "and not the video's frozen tiles: the recording has what the overlay drew",
    );
    t.same(tomConsole.errors, [], "no errors in Tom's page");
    t.same(kimConsole.errors, [], "no errors in Kim's page");
  },
);

/** The page's <video> as RGBA, drawn into a canvas. */
async function videoPicture(page: Page): Promise<Buffer> {
  const base64 = await page.evaluate(() => {
    const video = document.querySelector("video");
    if (video === null) throw new Error("no video");
    const canvas = document.createElement("canvas");
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    const context = canvas.getContext("2d");
    if (context === null) throw new Error("no context");
    context.drawImage(video, 0, 0);
    const bytes = context.getImageData(0, 0, canvas.width, canvas.height).data;
    let text = "";
    for (let at = 0; at < bytes.length; at += 0x8000)
      text += String.fromCharCode(...bytes.subarray(at, at + 0x8000));
    return btoa(text);
  });
  return Buffer.from(base64, "base64");
}

/** Mean absolute difference of r, g, b over `tiles`, of a picture of `channels` bytes a pixel against RGBA. */
function meanError(
  picture: Uint8Array,
  channels: number,
  rgba: Uint8Array,
  tiles: readonly number[],
): number {
  const cols = Math.ceil(SCREEN.width / SCREEN_TILE);
  let sum = 0;
  let count = 0;
  for (const tile of tiles) {
    const x0 = (tile % cols) * SCREEN_TILE;
    const y0 = Math.floor(tile / cols) * SCREEN_TILE;
    for (let y = y0; y < Math.min(y0 + SCREEN_TILE, SCREEN.height); y += 1)
      for (let x = x0; x < Math.min(x0 + SCREEN_TILE, SCREEN.width); x += 1)
        for (let c = 0; c < 3; c += 1) {
          const i = y * SCREEN.width + x;
          sum += Math.abs((picture[i * channels + c] ?? 0) - (rgba[i * 4 + c] ?? 0));
          count += 1;
        }
  }
  return count === 0 ? Number.POSITIVE_INFINITY : sum / count;
}
