/**
 * The screen copy path in Firefox (Debian's firefox-esr through puppeteer-core, as
 * tests/agent/e2e-firefox.test.ts drives it): the real agent under Xvfb with an xterm scrolling
 * text, the real console. Firefox decompresses the channel (DecompressionStream "deflate-raw"),
 * draws the overlay exactly (its lossless tiles equal the X server's pixels), with copies, over
 * the VP8 picture; its requestVideoFrameCallback tells no RTP timestamp, so tiles handed back
 * to the video go at the next presented frame (screen-hides.ts).
 */
import { execFile } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import puppeteer from "puppeteer-core";
import t from "tap";
import { SCREEN_TILE, tileGrid } from "../../shared/screen.ts";
import { runAgent } from "../agent/e2e-support.ts";
import { PASSWORD, startTestGateway } from "../helpers/gateway.ts";
import { startXvfb, waitUntil } from "../helpers/xvfb.ts";
import { compareWithScreen, overlayTiles } from "./screen-copy-helpers.ts";

const FIREFOX_PATH = process.env.SOS_FIREFOX ?? "/usr/bin/firefox-esr";
const SCREEN = { width: 1280, height: 720 };
const run = promisify(execFile);

const xvfb = await startXvfb(SCREEN);
t.teardown(() => xvfb.stop());
process.env.DISPLAY = xvfb.display;
const gateway = await startTestGateway();
t.teardown(() => gateway.close());
const dir = await mkdtemp(join(tmpdir(), "sos-screen-copy-ff-"));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const fifo = join(dir, "text");
await run("mkfifo", [fifo]);
xvfb.client("xterm", ["-geometry", "210x54+0+0", "-T", "sos-scrolling", "-e", "cat", fifo]);
const terminal = createWriteStream(fifo);
t.teardown(() => terminal.destroy());
let lineNumber = 0;
const writeLines = (count: number) => {
  let text = "";
  for (let i = 0; i < count; i += 1) {
    lineNumber += 1;
    text += `${String(lineNumber).padStart(6, "0")} ${"firefox draws the text ".repeat(1 + (lineNumber % 7))}\n`;
  }
  terminal.write(text);
};
writeLines(80);

const browser = await puppeteer.launch({
  browser: "firefox",
  executablePath: FIREFOX_PATH,
  headless: true,
  extraPrefsFirefox: {
    "media.peerconnection.ice.obfuscate_host_addresses": false,
    "media.peerconnection.ice.loopback": true,
    "media.autoplay.default": 0,
  },
});
t.teardown(() => browser.close());

t.test("Firefox draws the lossless overlay exactly over the video, with copies", async (t) => {
  const fiona = await gateway.technician("Fiona");
  const session = await gateway.newSession(fiona.client);
  const page = await browser.newPage();
  page.setDefaultTimeout(20_000);
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(`pageerror: ${String(error)}`));
  await page.goto(gateway.url);
  await page.locator('input[name="email"]').fill(fiona.email);
  await page.locator('input[name="password"]').fill(PASSWORD);
  await page.locator('button[type="submit"]').click();
  await page.locator("::-p-text(Sign out)").wait();
  const agent = runAgent(t, xvfb, [session.pin, "--gateway", gateway.url]);
  await agent.line(/Waiting for your technician/);
  await page.locator("table button.link").click();
  const start = 'section.details button[aria-label="Start remote session"]';
  await page.locator(start).click();
  await agent.line(/Fiona .* asks to SEE and CONTROL your screen/);
  agent.type("y");
  await page.locator("::-p-text(Permission granted: click to connect)").wait();
  await page.evaluate(() => {
    const seen = { applied: 0, withCopies: 0, rtpInFrames: 0, frames: 0 };
    Object.assign(window, { screenSeen: seen });
    window.addEventListener(
      "screenapplied",
      (event) => {
        if (!(event instanceof CustomEvent)) return;
        seen.applied += 1;
        if (event.detail.copies > 0) seen.withCopies += 1;
      },
      true,
    );
  });
  await page.locator(start).click();

  const scrolling = setInterval(() => writeLines(2), 60);
  t.teardown(() => clearInterval(scrolling));
  await page.waitForFunction(
    () => (window as unknown as { screenSeen: { withCopies: number } }).screenSeen.withCopies > 3,
    { timeout: 30_000 },
  );
  t.pass("records with copies are drawn in Firefox");
  clearInterval(scrolling);

  const tiles = tileGrid(SCREEN.width, SCREEN.height).count;
  let last = { differ: [-1], lossless: 0 };
  await waitUntil(
    async () => {
      const page_ = await page.evaluate(overlayTiles, SCREEN_TILE);
      if (page_.width !== SCREEN.width) return false;
      last = await compareWithScreen(page_);
      return last.differ.length === 0 && last.lossless >= tiles / 2;
    },
    30_000,
    "Firefox's overlay equals the X server",
  ).catch((error: unknown) => {
    throw new Error(`${last.lossless} lossless tiles, these differ: ${last.differ.join(", ")}`, {
      cause: error,
    });
  });
  t.pass(`${last.lossless} of ${tiles} tiles lossless, each exactly the X server's pixels`);
  const video = await page.evaluate(() => {
    const element = document.querySelector("video");
    return { width: element?.videoWidth ?? 0, height: element?.videoHeight ?? 0 };
  });
  t.same(video, SCREEN, "under it, the video of the screen's size");
  const rtp = await page.evaluate(
    () =>
      new Promise<string>((resolve) => {
        document
          .querySelector("video")
          ?.requestVideoFrameCallback((_now, frame) =>
            resolve(frame.rtpTimestamp === undefined ? "has no rtpTimestamp" : "has an rtpTimestamp"),
          );
        setTimeout(() => resolve("(no frame presented in 5 s)"), 5_000);
      }),
  );
  t.comment(`Firefox's video frame metadata: ${rtp}`);
  t.same(errors, [], "no errors in the technician's page");
  await page.close();
});
