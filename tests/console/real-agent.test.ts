import { cpus, hostname } from "node:os";
import type { Page } from "playwright-core";
import t from "tap";
import { runAgent } from "../agent/e2e-support.ts";
import { launchBrowser, openConsole, signIn } from "../helpers/browser.ts";
import { PASSWORD, startTestGateway } from "../helpers/gateway.ts";
import { inOrder, inputRecorder, pointerLocation, startXvfb, waitUntil } from "../helpers/xvfb.ts";
import { createSessionInDialog, dialog, rowStatus, selectSession } from "./desk-page.ts";

/**
 * The whole product as a new user tries it: the console in headless Chromium, the real gateway,
 * the real `sos` agent under Xvfb answering consent on stdin. See, control, a second technician,
 * release, take again, close.
 */

const SCREEN = { width: 1280, height: 720 };
const xvfb = await startXvfb(SCREEN);
t.teardown(() => xvfb.stop());
const recorder = await inputRecorder(xvfb);
const gateway = await startTestGateway();
t.teardown(() => gateway.close());
const browser = await launchBrowser();
t.teardown(() => browser.close());

/** Waits until the page's <video> has presented more than `frames` frames. */
function framesBeyond(page: Page, frames: number) {
  return page.waitForFunction(
    (count) => (document.querySelector("video")?.getVideoPlaybackQuality().totalVideoFrames ?? 0) > count,
    frames,
    { timeout: 30_000 },
  );
}

t.test(
  "sign in, session, agent joins by PIN, consent, see and control, a colleague, release, close",
  async (t) => {
    const tom = await gateway.technician("Tom");
    const kim = await gateway.technician("Kim");
    const { page, errors } = await openConsole(browser, gateway.url);
    page.setDefaultTimeout(15_000);
    await signIn(page, tom.email, PASSWORD);
    const { pin } = await createSessionInDialog(page, "Real agent");
    await rowStatus(page, "Real agent", "Waiting");

    const agent = runAgent(t, xvfb, [pin.replaceAll(" ", ""), "--gateway", gateway.url]);
    await agent.line(/Waiting for your technician/);
    await rowStatus(page, "Real agent", "Active");
    t.pass("the row turned Active without a reload");

    const panel = await selectSession(page, "Real agent");
    await panel.getByRole("button", { name: "Start remote session" }).click();
    await panel.getByText("Waiting for the end user's permission").waitFor();
    await agent.line(/Tom .* asks to SEE and CONTROL your screen/);
    agent.type("y");
    await panel.getByText("Permission granted: click to connect").waitFor();
    await panel.getByRole("button", { name: "Start remote session" }).click();

    await framesBeyond(page, 0);
    const decoded = async () =>
      page.evaluate(async () => {
        const video = document.querySelector("video");
        return video?.getVideoPlaybackQuality().totalVideoFrames ?? 0;
      });
    await framesBeyond(page, await decoded());
    t.pass("the agent's screen decodes, and frames keep coming");
    await page
      .getByRole("status", { name: "Connection quality" })
      .getByText(`${SCREEN.width}×${SCREEN.height}`)
      .waitFor();

    // A click on the picture where the recorder window is moves the X pointer there and clicks.
    const target = { x: recorder.place.x + 150, y: recorder.place.y + 100 };
    const box = await page.locator("video").boundingBox();
    if (box === null) throw new Error("no video");
    const scale = Math.min(box.width / SCREEN.width, box.height / SCREEN.height);
    const left = box.x + (box.width - SCREEN.width * scale) / 2;
    const top = box.y + (box.height - SCREEN.height * scale) / 2;
    const from = recorder.events.length;
    await page.mouse.click(left + target.x * scale, top + target.y * scale);
    await waitUntil(
      async () => {
        const at = await pointerLocation(xvfb);
        return Math.abs(at.x - target.x) <= 2 && Math.abs(at.y - target.y) <= 2;
      },
      10_000,
      "the pointer at the clicked place",
    );
    await recorder.until((events) => inOrder(events.slice(from), ["press:1", "release:1"]), 10_000);
    t.pass("the click landed at the matching place on the X display");
    // The end user's pointer is drawn with its own look, read from the X server by the agent.
    await page.locator("img.remote-cursor").waitFor({ timeout: 10_000 });
    t.pass("the X cursor's image is drawn over the picture");

    await page.keyboard.press("KeyH");
    await page.keyboard.press("KeyI");
    await recorder.until(
      (events) => inOrder(events.slice(from), ["down:h", "up:h", "down:i", "up:i"]),
      10_000,
    );
    t.pass("typing arrives");

    // Kim is invited, asks too, and sees the same screen; both see who is connected.
    await page.getByRole("button", { name: "Disconnect" }).click();
    await selectSession(page, "Real agent");
    await panel.getByRole("button", { name: "Invite technicians" }).click();
    await dialog(page).getByRole("checkbox", { name: "Kim" }).check();
    await dialog(page).getByRole("button", { name: "Invite" }).click();
    await panel.getByText("Invited.").waitFor();
    const kimConsole = await openConsole(browser, gateway.url);
    const kimPage = kimConsole.page;
    kimPage.setDefaultTimeout(15_000);
    await signIn(kimPage, kim.email, PASSWORD);
    const kimPanel = await selectSession(kimPage, "Real agent");
    await kimPanel.getByRole("button", { name: "Start remote session" }).click();
    await agent.line(/Kim .* asks to SEE and CONTROL your screen/);
    agent.type("v");
    await kimPanel.getByText("View-only permission granted: click to connect").waitFor();
    await kimPanel.getByRole("button", { name: "Start remote session" }).click();
    await panel.getByRole("button", { name: "Start remote session" }).click();
    await framesBeyond(kimPage, 2);
    await framesBeyond(page, 2);
    await kimPage.getByText("View only: your mouse and keyboard are not sent.").waitFor();
    await page.getByText(/^Connected technicians: .*Tom \(control\)/).waitFor();
    await page.getByText(/^Connected technicians: .*Kim \(view only\)/).waitFor();
    t.pass("both technicians see the screen; who controls is shown");
    await agent.line(
      /^Connected: Tom \(control, sees your screen now\), Kim \(view only, sees your screen now\)$/,
    );
    t.pass("and so does the end user");

    await kimPage.getByRole("button", { name: "Disconnect" }).click();
    await page.getByRole("button", { name: "Disconnect" }).click();

    // The chat with two technicians: each sees the other's lines and the end user's.
    await selectSession(page, "Real agent");
    await selectSession(kimPage, "Real agent");
    const tomChat = panel.getByRole("region", { name: "Chat with the end user" });
    const kimChat = kimPanel.getByRole("region", { name: "Chat with the end user" });
    await tomChat.getByLabel("Message to the end user").fill("Tom here, checking the printer");
    await tomChat.getByRole("button", { name: "Send" }).click();
    await kimChat.getByText("Tom here, checking the printer", { exact: true }).waitFor();
    await kimChat.getByLabel("Message to the end user").fill("Kim watching along");
    await kimChat.getByRole("button", { name: "Send" }).click();
    await tomChat.getByText("Kim watching along", { exact: true }).waitFor();
    await agent.line(/^\[Chat \d\d:\d\d\] Tom: Tom here, checking the printer$/);
    await agent.line(/^\[Chat \d\d:\d\d\] Kim: Kim watching along$/);
    agent.type("Thanks, both of you");
    await tomChat.getByText("Thanks, both of you", { exact: true }).waitFor();
    await kimChat.getByText("Thanks, both of you", { exact: true }).waitFor();
    t.pass("two technicians and the end user chat, each line reaching the others");

    // Release: Queued (it leaves Tom's Home); take it again; close: the agent exits.
    await selectSession(page, "Real agent");
    await panel.getByRole("button", { name: "Release" }).click();
    await page.getByRole("navigation").getByRole("link", { name: "Private", exact: true }).click();
    await rowStatus(page, "Real agent", "Queued");
    await selectSession(page, "Real agent");
    await panel.getByRole("button", { name: "Assign technician" }).click();
    await dialog(page).getByRole("button", { name: "Assign" }).click();
    await rowStatus(page, "Real agent", "Active");
    await panel.getByRole("button", { name: "Close" }).click();
    await dialog(page).getByRole("button", { name: "Close session" }).click();
    await rowStatus(page, "Real agent", "Closed");
    const exit = await agent.exited;
    t.equal(exit.code, 0, "the agent ended normally when the session was closed");
    t.same(errors, [], "no errors in the technician's page");
  },
);

t.test(
  "View only: the end user is asked to let the technician see only, and the view opens view-only",
  async (t) => {
    const ada = await gateway.technician("Ada");
    const { page, errors } = await openConsole(browser, gateway.url);
    page.setDefaultTimeout(15_000);
    await signIn(page, ada.email, PASSWORD);
    const { pin } = await createSessionInDialog(page, "View only agent");
    const agent = runAgent(t, xvfb, [pin.replaceAll(" ", ""), "--gateway", gateway.url]);
    await rowStatus(page, "View only agent", "Active");

    const panel = await selectSession(page, "View only agent");
    await panel.getByRole("button", { name: "View only" }).click();
    await panel.getByText("Waiting for the end user's permission").waitFor();
    await agent.line(/Ada .* asks to SEE your screen\./);
    agent.type("y");
    await panel.getByText("View-only permission granted: click to connect").waitFor();
    t.equal(
      await panel.getByRole("button", { name: "View only" }).count(),
      0,
      "no second request is offered",
    );
    await panel.getByRole("button", { name: "Start remote session" }).click();
    await framesBeyond(page, 0);
    await page.getByText("View only: your mouse and keyboard are not sent.").waitFor();
    t.pass("the remote view opened view-only");
    await page.getByRole("button", { name: "Disconnect" }).click();
    t.same(errors, [], "no errors in the technician's page");
  },
);

t.test(
  "Chat before any remote view: the end user's line shows as text, the technician's is printed inert with the name, and the status line says who is connected with what rights",
  async (t) => {
    const anna = await gateway.technician("Anna");
    const { page, errors } = await openConsole(browser, gateway.url);
    page.setDefaultTimeout(15_000);
    await signIn(page, anna.email, PASSWORD);
    const { pin } = await createSessionInDialog(page, "Chat agent");
    // What an older gateway stored as her name: escape sequences the end user's terminal must not obey.
    const hostileName = "Anna\u001b[8m\u001b]0;owned\u0007";
    await gateway.query("UPDATE accounts SET name = ? WHERE id = ?", hostileName, anna.id);

    const agent = runAgent(t, xvfb, [pin.replaceAll(" ", ""), "--gateway", gateway.url]);
    const stdout: Buffer[] = [];
    agent.child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    await agent.line(/^Connected: Anna\\x1b\[8m\\x1b\]0;owned\\x07 \(chat only\)$/);
    t.pass("the status line names the technician on the session, inert, with what she may do");

    const panel = await selectSession(page, "Chat agent");
    const chat = panel.getByRole("region", { name: "Chat with the end user" });
    const hostileLine = "Hello <img src=x onerror=\"document.title='owned'\"> <b>bold</b>";
    agent.type(hostileLine);
    await chat.getByText(hostileLine, { exact: true }).waitFor();
    t.equal(await chat.locator("img, b").count(), 0, "the end user's line is text, not markup");
    t.not(await page.title(), "owned", "and nothing of it ran");
    await chat.getByText(/joined the chat/).waitFor();

    await chat.getByLabel("Message to the end user").fill("Please restart the printer");
    await chat.getByRole("button", { name: "Send" }).click();
    await agent.line(/^\[Chat \d\d:\d\d\] Anna\\x1b\[8m\\x1b\]0;owned\\x07: Please restart the printer$/);
    t.pass("the technician's line is in the terminal with her name and the time");

    await page.reload();
    const again = await selectSession(page, "Chat agent");
    const history = again.getByRole("region", { name: "Chat with the end user" });
    await history.getByText(hostileLine, { exact: true }).waitFor();
    await history.getByText("Please restart the printer", { exact: true }).waitFor();
    t.pass("both lines are there after a reload");

    await again.getByRole("button", { name: "Start remote session" }).click();
    await agent.line(/asks to SEE and CONTROL your screen/);
    agent.type("y");
    await agent.line(/^Connected: Anna.* \(control\)$/);
    t.pass("the status line follows the grant");

    // With consent, the end user's computer's facts on request: they match this machine.
    const facts = again.getByRole("region", { name: "System information" });
    await facts.getByRole("button", { name: "Request system information" }).click();
    await agent.line(/^System information sent to Anna.*: system and version, computer name/);
    await facts.getByText(hostname(), { exact: true }).waitFor();
    await facts.getByText(new RegExp(`, ${cpus().length} cores$`)).waitFor();
    await facts.getByText(new RegExp(`\\b${SCREEN.width}×${SCREEN.height}\\b`)).waitFor();
    t.pass("the facts match the machine: host name, processor cores, the Xvfb screen");

    await again.getByRole("button", { name: "Release" }).click();
    await agent.line(/^No technician is connected any more\. Nobody sees your screen\.$/);
    t.pass("the end user is told when the last technician leaves");

    const bytes = Buffer.concat(stdout);
    const obeyed = [...bytes].filter((byte) => (byte < 0x20 && byte !== 0x0a) || byte === 0x7f);
    t.same(obeyed, [], "no control character reached the end user's terminal");
    agent.type("q");
    t.equal((await agent.exited).code, 0);
    t.same(errors, [], "no errors in the technician's page");
  },
);
