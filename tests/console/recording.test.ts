import type { Page } from "playwright-core";
import t from "tap";
import { runAgent } from "../agent/e2e-support.ts";
import { launchBrowser, openConsole, signIn } from "../helpers/browser.ts";
import { ADMIN, errorCode, field, PASSWORD, startTestGateway } from "../helpers/gateway.ts";
import { colouredWindow, startXvfb, waitUntil, windowByName } from "../helpers/xvfb.ts";
import { selectSession } from "./desk-page.ts";

/**
 * Session recording as a technician and an end user live it: the real gateway, the real `sos`
 * agent under Xvfb, the console in headless Chromium. The end user reads the notice before the
 * console uploads a byte; the recording plays back in the browser at the screen's size and about
 * the time it ran; "always" records from the view's start; a technician without the permission
 * gets no recordings.
 */

const SCREEN = { width: 1024, height: 768 };
const xvfb = await startXvfb(SCREEN);
t.teardown(() => xvfb.stop());
const gateway = await startTestGateway();
t.teardown(() => gateway.close());
const browser = await launchBrowser();
t.teardown(() => browser.close());

const tom = await gateway.technician("Tom", { viewRecordings: true });
const nina = await gateway.technician("Nina");
const created = await gateway.admin.post("/api/channels", {
  name: "Recorded desk",
  access: [tom.id, nina.id],
  recording: { mode: "request", retentionDays: 7 },
});
const channelId = field(created.body, "channel", "id");
const session = await gateway.newSession(tom.client, channelId);
await gateway.admin.post(`/api/sessions/${session.id}/invite`, { technicianIds: [nina.id] });

// Something that moves on the screen, so the agent keeps sending frames while it is recorded.
await colouredWindow(xvfb, { x: 100, y: 100, width: 200, height: 150, colour: "orange", name: "sos-mover" });
const mover = await windowByName(xvfb, "sos-mover");
let step = 0;
const moving = setInterval(() => {
  step = (step + 1) % 20;
  void xvfb.x("xdotool", ["windowmove", mover, String(100 + step * 20), "100"]).catch(() => undefined);
}, 200);
t.teardown(() => clearInterval(moving));

const agent = runAgent(t, xvfb, [session.pin, "--gateway", gateway.url]);
await agent.line(/Waiting for your technician/);

const { page, errors } = await openConsole(browser, gateway.url);
page.setDefaultTimeout(15_000);
await signIn(page, tom.email, PASSWORD);
/** When each chunk upload was answered, as the page saw it. */
const chunksDone: number[] = [];
page.on("requestfinished", (request) => {
  if (/\/api\/recordings\/[^/]+\/chunks/.test(request.url())) chunksDone.push(Date.now());
});

/** The session's details, from its channel's list. */
async function sessionDetails() {
  await page.getByRole("navigation").getByRole("link", { name: "Recorded desk" }).click();
  return selectSession(page, "Customer");
}

/** An admin's console (signed in by the "always" test). */
const adminConsole = await openConsole(browser, gateway.url);

/** Opens the remote view (the end user granted it) and waits for the picture. */
async function openView(): Promise<void> {
  const panel = await sessionDetails();
  await panel.getByRole("button", { name: "Start remote session" }).click();
  await page.locator("video").first().waitFor();
  await page.waitForFunction(
    () => (document.querySelector("video")?.getVideoPlaybackQuality().totalVideoFrames ?? 0) > 0,
    undefined,
    { timeout: 20_000 },
  );
}

/** The recording's duration and size as Chromium plays it back from the gateway in the console's player. */
function playback(page: Page) {
  return page.evaluate(async () => {
    const video = document.querySelector<HTMLVideoElement>("video.recording-player");
    if (video === null) throw new Error("no player");
    // MediaRecorder's WebM carries no duration: the player finds it (RecordingsPanel's findDuration).
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (video.readyState >= 1 && Number.isFinite(video.duration)) resolve();
      };
      video.addEventListener("durationchange", check);
      video.addEventListener("loadedmetadata", check);
      setTimeout(() => reject(new Error(`no duration: ${video.duration}`)), 10_000);
      check();
    });
    return { duration: video.duration, width: video.videoWidth, height: video.videoHeight };
  });
}

t.test("on request: the end user is told first, the recording plays back at the screen's size", async (t) => {
  const panel = await sessionDetails();
  await panel.getByRole("button", { name: "Start remote session" }).click();
  await agent.line(/Tom .* asks to SEE and CONTROL your screen/);
  agent.type("y");
  await panel.getByText("Permission granted: click to connect").waitFor();
  await openView();

  const notice = agent
    .line(/^● RECORDING: Tom is recording what they see of your screen/)
    .then(() => Date.now());
  await page.getByRole("button", { name: "Record" }).click();
  await page.getByRole("status").getByText("Recording: the end user has been told.").waitFor();
  const recordingFrom = Date.now();
  const noticeAt = await notice;
  // Two chunks answered: about four seconds recorded and on the gateway.
  await waitUntil(async () => chunksDone.length >= 2, 15_000, "two chunks uploaded");
  t.ok(noticeAt < (chunksDone[0] ?? 0), "the terminal showed the notice before the first upload");
  const recordedMs = Date.now() - recordingFrom;
  await page.getByRole("button", { name: "Stop recording" }).click();
  await agent.line(/^Recording by Tom stopped\.$/);
  await page.getByRole("button", { name: "Disconnect" }).click();

  const details = await sessionDetails();
  const recordings = details.getByRole("region", { name: "Recordings" });
  await recordings.getByText(/Tom: \d+:\d\d, [\d.]+ MiB/).waitFor();
  await recordings.getByRole("button", { name: "Play" }).click();
  const played = await playback(page);
  t.same({ width: played.width, height: played.height }, SCREEN, "the video is the screen's size");
  t.ok(
    played.duration > recordedMs / 1000 - 1.5 && played.duration < recordedMs / 1000 + 1.5,
    `plays ${played.duration.toFixed(1)} s of the ${(recordedMs / 1000).toFixed(1)} s recorded`,
  );
  const audit = (await gateway.admin.get(`/api/audit?sessionId=${session.id}&action=recording.watched`))
    .body as { entries: Array<{ actor: { name: string } }> };
  t.same(
    audit.entries.map((entry) => entry.actor.name),
    ["Tom"],
    "the watch is audited",
  );
  t.same(errors, [], "no errors in the technician's page");
});

t.test("always: recording runs from the view's start and ends with it; the end user sees both", async (t) => {
  // The admin sets it in the channel's form.
  await signIn(adminConsole.page, ADMIN.email, ADMIN.password);
  await adminConsole.page.getByRole("navigation").getByRole("link", { name: "Channel settings" }).click();
  const form = adminConsole.page.getByRole("form", { name: "Edit Recorded desk" });
  await form
    .getByLabel("Session recording")
    .selectOption({ label: "Always (from the start of every remote view)" });
  await form.getByLabel("Keep recordings (days)").fill("14");
  await form.getByRole("button", { name: "Save" }).click();
  await form.getByText("Saved.").waitFor();
  const channels = (await tom.client.get("/api/channels")).body as {
    channels: Array<{ id: string; recording: unknown }>;
  };
  t.same(
    channels.channels.find((channel) => channel.id === channelId)?.recording,
    { mode: "always", retentionDays: 14 },
    "the channel records always and keeps recordings 14 days",
  );
  await page.reload();
  await openView();
  await agent.line(/^● RECORDING: Tom is recording/, 15_000);
  await page.getByRole("status").getByText("Recording: the end user has been told.").waitFor();
  t.equal(await page.getByRole("button", { name: "Record" }).count(), 0, "no button: it always records");
  const before = chunksDone.length;
  await waitUntil(async () => chunksDone.length > before, 15_000, "a chunk uploaded");
  await page.getByRole("button", { name: "Disconnect" }).click();
  const stops = () => agent.lines.filter((line) => /^Recording by Tom stopped\.$/.test(line)).length;
  await waitUntil(async () => stops() === 2, 15_000, "the end user told it stopped");
  t.pass("the end user is told it stopped");
  const list = (await tom.client.get(`/api/sessions/${session.id}/recordings`)).body as {
    recordings: Array<{ endedAt: string | null; bytes: number }>;
  };
  t.equal(list.recordings.length, 2);
  t.ok(list.recordings.every((recording) => recording.endedAt !== null && recording.bytes > 0));
});

t.test("without the permission: no recordings in the console, refused by the gateway", async (t) => {
  const refused = await nina.client.get(`/api/sessions/${session.id}/recordings`);
  t.equal(refused.status, 403);
  t.equal(errorCode(refused.body), "RECORDINGS_NOT_PERMITTED");
  const ninaConsole = await openConsole(browser, gateway.url);
  await signIn(ninaConsole.page, nina.email, PASSWORD);
  const details = await selectSession(ninaConsole.page, "Customer");
  await details.getByRole("region", { name: "Chat with the end user" }).waitFor();
  t.equal(await details.getByRole("region", { name: "Recordings" }).count(), 0, "no recordings shown");

  // An admin grants the permission on the Technicians page: Nina's open page shows them.
  await adminConsole.page.getByRole("navigation").getByRole("link", { name: "Technicians" }).click();
  await adminConsole.page
    .getByRole("table", { name: "All technicians" })
    .getByRole("checkbox", { name: "View recordings: Nina" })
    .check();
  await adminConsole.page.getByText("Saved.").waitFor();
  await details
    .getByRole("region", { name: "Recordings" })
    .getByRole("button", { name: "Play" })
    .first()
    .waitFor();
  t.pass("granted, Nina sees the recordings");
  await ninaConsole.context.close();
});
