import type { Browser, Page } from "playwright-core";
import t from "tap";
import type { AgentControl } from "../../shared/control.ts";
import { launchBrowser, openConsole, signIn } from "../helpers/browser.ts";
import { PASSWORD, startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { createSessionInDialog, relayConsoleSocket, rowStatus, selectSession } from "./desk-page.ts";
import { type FakeAgent, MONITORS, SCREEN, startFakeAgent } from "./fake-agent.ts";

/**
 * The remote view in headless Chromium against the real gateway, with a WebRTC peer standing in
 * for the agent's media: video decodes, input lands at the right place, the toolbar, clipboard,
 * monitors, view-only, who is connected, Disconnect, a network blip, and "ended by the user".
 */

let gateway: TestGateway;
let browser: Browser;

t.before(async () => {
  gateway = await startTestGateway();
  browser = await launchBrowser();
});
t.teardown(async () => {
  await browser?.close();
  await gateway?.close();
});

async function grant(agent: FakeAgent, decision: "control" | "view") {
  const request = await agent.socket.next("consent.request");
  agent.socket.send({ type: "consent", requestId: request.requestId, decision });
}

/** Waits until the remote view's <video> has decoded frames of the agent's screen. */
async function videoDecoding(page: Page, moreThan = 5) {
  await page.waitForFunction(
    (frames) => {
      const video = document.querySelector("video");
      return (
        video !== null && video.videoWidth > 0 && video.getVideoPlaybackQuality().totalVideoFrames > frames
      );
    },
    moreThan,
    { timeout: 15_000 },
  );
}

/** The page point of a normalized point of the picture (fit mode: letterboxed in the video box). */
async function pointOnPicture(page: Page, x: number, y: number) {
  const box = await page.locator("video").boundingBox();
  if (box === null) throw new Error("no video box");
  const scale = Math.min(box.width / SCREEN.width, box.height / SCREEN.height);
  const width = SCREEN.width * scale;
  const height = SCREEN.height * scale;
  return {
    x: box.x + (box.width - width) / 2 + x * width,
    y: box.y + (box.height - height) / 2 + y * height,
  };
}

t.test("the remote view: see, control, toolbar, clipboard, monitors, view-only, blip, end", async (t) => {
  const tom = await gateway.technician("Tom", { shareSessions: true });
  const kim = await gateway.technician("Kim");
  const { page, errors } = await openConsole(browser, gateway.url);
  page.setDefaultTimeout(10_000);
  const relay = await relayConsoleSocket(page);
  await signIn(page, tom.email, PASSWORD);
  const { pin } = await createSessionInDialog(page, "Remote help");
  const agent = await startFakeAgent(browser, gateway.url, pin.replaceAll(" ", ""));
  t.teardown(() => agent.close());
  await rowStatus(page, "Remote help", "Active");

  const panel = await selectSession(page, "Remote help");
  await panel.getByRole("button", { name: "Start remote session" }).click();
  await grant(agent, "control");
  await panel.getByText("Permission granted: click to connect").waitFor();
  await panel.getByRole("button", { name: "Start remote session" }).click();

  await page.getByRole("heading", { name: /^Remote view: Remote help/ }).waitFor();
  await videoDecoding(page);
  t.pass("the agent's video decodes");
  await page.getByRole("status").getByText("You control this computer.").waitFor();
  const quality = page.getByRole("status", { name: "Connection quality" });
  await quality.getByText(/\d+ fps · \d+ kbit\/s · RTT \d+ ms · (VP8|VP9|H264|AV1) · 640×360/).waitFor();
  t.pass("the quality line shows fps, bitrate, RTT, codec and size");
  await quality.getByText(/ · direct$/).waitFor();
  t.pass("the quality line says the media flows directly (no relay)");
  const tomPeer = await agent.peerOf("Tom");

  // The agent restarts ICE (as it does when its path fails): the view answers the new offer on the
  // same connection; the picture keeps coming on the same stream, without a new peer.
  await page.evaluate(() => {
    Object.assign(window, { streamBeforeRestart: document.querySelector("video")?.srcObject });
  });
  const peersBefore = agent.peers.length;
  await agent.restartIce(tomPeer);
  const framesNow = await page.evaluate(
    () => document.querySelector("video")?.getVideoPlaybackQuality().totalVideoFrames ?? 0,
  );
  await videoDecoding(page, framesNow);
  t.ok(
    await page.evaluate(
      () =>
        document.querySelector("video")?.srcObject ===
        (window as unknown as { streamBeforeRestart?: unknown }).streamBeforeRestart,
    ),
    "after an ICE restart the picture goes on in the same stream",
  );
  t.equal(agent.peers.length, peersBefore, "an ICE restart opens no new peer");

  // A click at a known place of the picture arrives there, normalized.
  const target = await pointOnPicture(page, 0.25, 0.75);
  await page.mouse.click(target.x, target.y);
  const pointer = await agent.waitFor(tomPeer, (m) => m.type === "pointer");
  if (pointer.type !== "pointer") throw new Error("unreachable");
  t.ok(
    Math.abs(pointer.x - 0.25) < 0.01 && Math.abs(pointer.y - 0.75) < 0.01,
    `pointer at ${pointer.x}, ${pointer.y}`,
  );
  await agent.waitFor(tomPeer, (m) => m.type === "button" && m.button === "left" && !m.down);
  await page.mouse.click(target.x, target.y, { button: "right" });
  await agent.waitFor(tomPeer, (m) => m.type === "button" && m.button === "right" && m.down);
  await page.mouse.wheel(0, 120);
  await agent.waitFor(tomPeer, (m) => m.type === "wheel" && m.dy > 0);
  t.pass("buttons and wheel arrive");

  // Keys typed over the picture arrive by physical code.
  await page.keyboard.press("KeyA");
  await agent.waitFor(tomPeer, (m) => m.type === "key" && m.code === "KeyA" && !m.down);
  await page.getByRole("button", { name: "Ctrl+Alt+Del" }).click();
  await agent.waitFor(tomPeer, (m) => m.type === "key" && m.code === "Delete" && m.down);
  await page.getByRole("button", { name: "Windows key" }).click();
  await agent.waitFor(tomPeer, (m) => m.type === "key" && m.code === "MetaLeft" && !m.down);
  t.pass("keys and the toolbar's combinations arrive");

  // A Windows agent names Ctrl+Alt+Del as reserved: the button says why instead of sending keys.
  await agent.send(tomPeer, {
    type: "state",
    access: "control",
    monitors: MONITORS,
    monitor: 0,
    reserved: ["ctrlAltDel"],
  } satisfies AgentControl);
  const ctrlAltDel = page.getByRole("button", { name: "Ctrl+Alt+Del" });
  await page.waitForFunction(() =>
    [...document.querySelectorAll("button")].some((button) => button.title.startsWith("Windows lets no")),
  );
  const keysBefore = (await agent.received(tomPeer)).length;
  await ctrlAltDel.click();
  await page
    .getByRole("status")
    .getByText("Windows lets no program send Ctrl+Alt+Del. Ask the end user to press it on their keyboard.")
    .waitFor();
  await page.getByRole("button", { name: "Alt+Tab" }).click();
  await agent.waitFor(tomPeer, (m) => m.type === "key" && m.code === "Tab" && !m.down);
  t.notOk(
    (await agent.received(tomPeer)).slice(keysBefore).some((m) => m.type === "key" && m.code === "Delete"),
    "a reserved Ctrl+Alt+Del sends no keys (the next combination still goes)",
  );
  // The secure desktop (a UAC prompt, the lock screen) is said while it shows.
  const secure = page
    .getByRole("alert")
    .getByText(
      "A UAC prompt or the lock screen is showing on the end user's computer. You can neither see nor control it: the end user must answer it.",
    );
  await agent.send(tomPeer, { type: "desktop", secure: true } satisfies AgentControl);
  await secure.waitFor();
  await agent.send(tomPeer, { type: "desktop", secure: false } satisfies AgentControl);
  await secure.waitFor({ state: "detached" });
  t.pass("a reserved Ctrl+Alt+Del and the secure desktop are told, not pretended");

  // The remote cursor is drawn where the agent says.
  await agent.send(tomPeer, { type: "cursor", x: 0.5, y: 0.5, visible: true });
  const cursor = page.locator("svg.remote-cursor");
  await cursor.waitFor();
  const centre = await pointOnPicture(page, 0.5, 0.5);
  const drawn = await cursor.boundingBox();
  t.ok(
    drawn !== null && Math.abs(drawn.x - centre.x) < 2 && Math.abs(drawn.y - centre.y) < 2,
    "cursor drawn at the centre",
  );
  // With the agent's cursor image, that image is drawn instead, its hotspot on the point.
  const red = Buffer.alloc(6 * 8 * 4);
  for (let i = 0; i < red.length; i += 4) red.set([255, 0, 0, 255], i);
  await agent.send(tomPeer, {
    type: "cursorShape",
    width: 6,
    height: 8,
    hotX: 2,
    hotY: 3,
    rgba: red.toString("base64"),
  });
  const image = page.locator("img.remote-cursor");
  await image.waitFor();
  t.equal(await page.locator("svg.remote-cursor").count(), 0, "the arrow gives way to the image");
  const imageBox = await image.boundingBox();
  t.ok(
    imageBox !== null && Math.abs(imageBox.x + 2 - centre.x) < 2 && Math.abs(imageBox.y + 3 - centre.y) < 2,
    `the image's hotspot is on the centre: ${JSON.stringify(imageBox)} vs ${JSON.stringify(centre)}`,
  );
  t.match(imageBox, { width: 6, height: 8 }, "drawn at the cursor's own size");
  const redPixel = await image.evaluate((img: HTMLImageElement) => {
    const canvas = document.createElement("canvas");
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const context = canvas.getContext("2d");
    context?.drawImage(img, 0, 0);
    return [...(context?.getImageData(3, 4, 1, 1).data ?? [])];
  });
  t.same(redPixel, [255, 0, 0, 255], "with the agent's pixels");

  // Clipboard both ways, on request.
  await page.getByText("Clipboard", { exact: true }).click();
  await agent.send(tomPeer, { type: "clipboard", text: "copied on the remote side" });
  t.equal(
    await page.getByLabel("Remote clipboard", { exact: true }).inputValue(),
    "copied on the remote side",
  );
  await page.getByLabel("Text for the remote clipboard").fill("from the technician");
  await page.getByRole("button", { name: "Send to remote clipboard" }).click();
  await agent.waitFor(tomPeer, (m) => m.type === "clipboard" && m.text === "from the technician");
  await page.getByText("Clipboard", { exact: true }).click();

  // Monitor switch.
  await page.getByLabel("Monitor").selectOption({ label: "Screen 2 (1280×720)" });
  await agent.waitFor(tomPeer, (m) => m.type === "monitor" && m.index === 1);

  // Fit or 1:1.
  await page.getByRole("button", { name: "Actual size (1:1)" }).click();
  await page.waitForFunction(() => document.querySelector("video")?.getBoundingClientRect().width === 640);
  await page.getByRole("button", { name: "Fit to window" }).click();
  t.pass("monitor switch and 1:1 work");

  // Kim joins as an invited technician, view only.
  await page.getByRole("button", { name: "Disconnect" }).click();
  await page.getByRole("button", { name: "New session" }).waitFor();
  const closedPeer = await agent.socket.next("peer.close");
  t.equal(closedPeer.peerId, tomPeer, "Disconnect closes the peer on the agent");
  await selectSession(page, "Remote help");
  await panel.getByRole("button", { name: "Invite technicians" }).click();
  await page.getByRole("dialog").getByRole("checkbox", { name: "Kim" }).check();
  await page.getByRole("dialog").getByRole("button", { name: "Invite" }).click();
  await panel.getByText("Invited.").waitFor();

  const kimConsole = await openConsole(browser, gateway.url);
  const kimPage = kimConsole.page;
  kimPage.setDefaultTimeout(10_000);
  await signIn(kimPage, kim.email, PASSWORD);
  const kimPanel = await selectSession(kimPage, "Remote help");
  await kimPanel.getByRole("button", { name: "Start remote session" }).click();
  await grant(agent, "view");
  await kimPanel.getByText("View-only permission granted: click to connect").waitFor();
  await kimPanel.getByRole("button", { name: "Start remote session" }).click();
  await videoDecoding(kimPage);
  await kimPage.getByRole("status").getByText("View only: your mouse and keyboard are not sent.").waitFor();
  t.ok(
    await kimPage.getByRole("button", { name: "Ctrl+Alt+Del" }).isDisabled(),
    "no key combinations in view-only",
  );
  const kimPeer = await agent.peerOf("Kim");

  // Tom connects again: both see the picture, and who is connected with what is visible.
  await panel.getByRole("button", { name: "Start remote session" }).click();
  await videoDecoding(page);
  const both =
    /^Connected technicians: (Tom \(control\), Kim \(view only\)|Kim \(view only\), Tom \(control\))$/;
  await page.getByText(both).waitFor();
  await kimPage.getByText(both).waitFor();
  const kimClick = await pointOnPicture(kimPage, 0.5, 0.5);
  await kimPage.mouse.click(kimClick.x, kimClick.y);
  await kimPage.keyboard.press("KeyB");
  const newTomPeer = await agent.peerOf("Tom", tomPeer);
  const tomClick = await pointOnPicture(page, 0.1, 0.1);
  await page.mouse.click(tomClick.x, tomClick.y);
  await agent.waitFor(newTomPeer, (m) => m.type === "button" && !m.down);
  t.same(
    (await agent.received(kimPeer)).filter((m) => m.type !== "clipboard"),
    [],
    "nothing left the view-only view (Tom's later click already arrived on his peer)",
  );

  // A network blip: the console socket drops; the view comes back in the same session.
  await kimPage.getByRole("button", { name: "Disconnect" }).click();
  // Remember the stream on screen now; after the blip a new peer brings a new one.
  await page.evaluate(() => {
    Object.assign(window, { streamBeforeBlip: document.querySelector("video")?.srcObject });
  });
  await relay.drop();
  const afterBlip = await agent.peerOf("Tom", newTomPeer);
  await page.waitForFunction(() => {
    const before = (window as unknown as { streamBeforeBlip?: unknown }).streamBeforeBlip;
    const now = document.querySelector("video")?.srcObject;
    return now !== null && now !== undefined && now !== before;
  });
  await page.evaluate(
    () =>
      new Promise((presented) =>
        document.querySelector("video")?.requestVideoFrameCallback(() => presented(true)),
      ),
  );
  await page.getByRole("status").getByText("You control this computer.").waitFor();
  const again = await pointOnPicture(page, 0.9, 0.9);
  await page.mouse.click(again.x, again.y);
  await agent.waitFor(afterBlip, (m) => m.type === "button" && !m.down);
  t.pass("after a blip the view reconnects on a new peer, without a new session");

  // The end user stops: the view says so.
  agent.socket.send({ type: "end" });
  await page.getByRole("alert").getByText("The session was ended by the user.").waitFor();
  t.same(errors, [], "no errors in the technician's page");
});
