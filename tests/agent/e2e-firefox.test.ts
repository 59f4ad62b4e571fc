/**
 * Firefox decodes the default stream (issue 14): the real console in headless Firefox (Debian's
 * firefox-esr, driven by puppeteer-core over WebDriver BiDi), a technician signs in, asks, the real
 * `sos` agent under Xvfb (default settings: no --codec) allows on stdin, and the remote view shows
 * frames of the screen's size. Debian's Firefox has no H.264 (no OpenH264), so its answer accepts
 * only VP8 and the agent sends it VP8: the console's own getStats() line says so.
 */
import puppeteer from "puppeteer-core";
import t from "tap";
import { PASSWORD, startTestGateway } from "../helpers/gateway.ts";
import { colouredWindow, startXvfb } from "../helpers/xvfb.ts";
import { runAgent } from "./e2e-support.ts";

const FIREFOX_PATH = process.env.SOS_FIREFOX ?? "/usr/bin/firefox-esr";
const SCREEN = { width: 1280, height: 720 };

const xvfb = await startXvfb(SCREEN);
t.teardown(() => xvfb.stop());
const gateway = await startTestGateway({ config: { organizationName: "Acme IT" } });
t.teardown(() => gateway.close());
const browser = await puppeteer.launch({
  browser: "firefox",
  executablePath: FIREFOX_PATH,
  headless: true,
  extraPrefsFirefox: {
    // Plain host candidates (not mDNS names) and loopback ones: the agent runs on this machine.
    "media.peerconnection.ice.obfuscate_host_addresses": false,
    "media.peerconnection.ice.loopback": true,
    // Autoplay of the muted remote picture, as in a technician's everyday Firefox.
    "media.autoplay.default": 0,
  },
});
t.teardown(() => browser.close());

/** `step` or an error that says which step timed out (the agent's output helps with that). */
async function within<T>(what: string, step: Promise<T>, agent?: { lines: string[] }): Promise<T> {
  try {
    return await step;
  } catch (error) {
    const said = agent === undefined ? "" : `; the agent said: ${agent.lines.join(" | ")}`;
    throw new Error(`${what}: ${error instanceof Error ? error.message : String(error)}${said}`);
  }
}

t.test("Firefox (no H.264) decodes the agent's default stream as VP8 at the screen's size", async (t) => {
  const fiona = await gateway.technician("Fiona");
  const session = await gateway.newSession(fiona.client);
  const page = await browser.newPage();
  page.setDefaultTimeout(20_000);
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(`pageerror: ${String(error)}`));
  await page.goto(gateway.url);
  t.match(await browser.version(), /firefox/i, "the browser is Firefox");

  await page.locator('input[name="email"]').fill(fiona.email);
  await page.locator('input[name="password"]').fill(PASSWORD);
  await page.locator('button[type="submit"]').click();
  await within("signed in", page.locator("::-p-text(Sign out)").wait());

  const agent = runAgent(t, xvfb, [session.pin, "--gateway", gateway.url]);
  await agent.line(/Waiting for your technician/);
  await within("the session selected", page.locator("table button.link").click(), agent);
  const start = 'section.details button[aria-label="Start remote session"]';
  await within("asked", page.locator(start).click(), agent);
  await agent.line(/Fiona .* asks to SEE and CONTROL your screen/);
  agent.type("y");
  await within("granted", page.locator("::-p-text(Permission granted: click to connect)").wait(), agent);
  await within("connect", page.locator(start).click(), agent);

  // A decoded frame of the screen's size: the picture's size comes from the decoded stream.
  await within(
    "a picture of the screen's size",
    page.waitForFunction(
      (width, height) => {
        const video = document.querySelector("video");
        return video !== null && video.videoWidth === width && video.videoHeight === height;
      },
      {},
      SCREEN.width,
      SCREEN.height,
    ),
    agent,
  );
  t.pass("the picture has the screen's size");
  // And frames keep coming: a window appears on the end user's screen, and the page presents a
  // new frame of that size (requestVideoFrameCallback waits for the next one).
  // Registered before the screen changes, so the frame it waits for is one decoded after the change.
  const next = await page.evaluateHandle(
    () =>
      new Promise<{ width: number; height: number }>((resolve) => {
        document
          .querySelector("video")
          ?.requestVideoFrameCallback((_now, frame) => resolve({ width: frame.width, height: frame.height }));
      }),
  );
  const shown = await colouredWindow(xvfb, {
    x: 100,
    y: 100,
    width: 400,
    height: 300,
    colour: "#ff8800",
    name: "firefox-change",
  });
  t.teardown(() => shown.kill());
  t.same(
    await next.jsonValue(),
    SCREEN,
    "a new frame of the screen's size is presented after the screen changed",
  );

  // The console's quality line is read from the peer connection's getStats() (inbound-rtp codec).
  const size = `${SCREEN.width}×${SCREEN.height}`;
  const said = await page.waitForFunction(
    (size) => {
      const text = document.querySelector('output[aria-label="Connection quality"]')?.textContent ?? "";
      return /VP8/.test(text) && text.includes(size) ? text : false;
    },
    {},
    size,
  );
  const line = String(await said.jsonValue());
  t.match(line, /\bVP8\b/, `the codec is VP8: ${line}`);
  t.notMatch(line, /H264/i);
  t.same(errors, [], "no errors in the technician's page");
  await page.close();
});
