import type { CDPSession, Page } from "playwright-core";
import t from "tap";
import { runAgent } from "../agent/e2e-support.ts";
import { launchBrowser, openConsole, signIn } from "../helpers/browser.ts";
import { PASSWORD, startTestGateway } from "../helpers/gateway.ts";
import { inputRecorder, startXvfb } from "../helpers/xvfb.ts";
import { createSessionInDialog, rowStatus, selectSession } from "./desk-page.ts";

/**
 * Keyboard layouts through the whole product: the console in headless Chromium, the real gateway,
 * the real `sos` agent under Xvfb whose layout setxkbmap switches, and an X window (xev) that
 * records the characters it receives. Chromium cannot switch its own OS layout, so a German
 * technician's keyboard is played through the DevTools protocol with the code, key and modifiers a
 * German keyboard gives a browser.
 */

const SCREEN = { width: 1280, height: 720 };
const xvfb = await startXvfb(SCREEN);
t.teardown(() => xvfb.stop());
const recorder = await inputRecorder(xvfb);
const gateway = await startTestGateway();
t.teardown(() => gateway.close());
const browser = await launchBrowser();
t.teardown(() => browser.close());

type GermanKey = { code: string; key: string; keyCode: number; shift?: boolean; altGr?: boolean };

/** One key of a German keyboard as Chromium reports it, modifiers pressed around it. */
async function germanKey(cdp: CDPSession, press: GermanKey) {
  const modifiers = press.shift === true ? 8 : 0;
  const key = (type: "rawKeyDown" | "keyUp", code: string, key: string, keyCode: number) =>
    cdp.send("Input.dispatchKeyEvent", {
      type,
      code,
      key,
      windowsVirtualKeyCode: keyCode,
      modifiers,
      ...(type === "rawKeyDown" && [...key].length === 1 ? { text: key } : {}),
    });
  if (press.shift === true) await key("rawKeyDown", "ShiftLeft", "Shift", 16);
  if (press.altGr === true) await key("rawKeyDown", "AltRight", "AltGraph", 225);
  await key("rawKeyDown", press.code, press.key, press.keyCode);
  await key("keyUp", press.code, press.key, press.keyCode);
  if (press.altGr === true) await key("keyUp", "AltRight", "AltGraph", 225);
  if (press.shift === true) await key("keyUp", "ShiftLeft", "Shift", 16);
}

async function chooseMode(page: Page, label: "Map by position" | "Translate by character") {
  await page.getByLabel("Keyboard").selectOption({ label });
  // Back to the remote screen, as a click on it would.
  await page.locator(".stage").focus();
}

/** Waits until keys are captured: the control channel is open (the toolbar's key buttons work). */
async function controlling(page: Page) {
  await page.getByRole("status").getByText("You control this computer.").waitFor();
  await page.getByRole("button", { name: "Ctrl+Alt+Del" }).click({ trial: true });
}

async function textFrom(from: number, length: number) {
  await recorder.until(() => recorder.text.length >= from + length, 10_000);
  return recorder.text.slice(from);
}

t.test(
  "a German technician types @ € and umlauts into a US end user's window, and the other way round",
  async (t) => {
    await xvfb.x("setxkbmap", ["us"]);
    const tom = await gateway.technician("Tom");
    const { page } = await openConsole(browser, gateway.url);
    page.setDefaultTimeout(15_000);
    await signIn(page, tom.email, PASSWORD);
    const { pin } = await createSessionInDialog(page, "Keyboards");
    const agent = runAgent(t, xvfb, [pin.replaceAll(" ", ""), "--gateway", gateway.url]);
    await agent.line(/Waiting for your technician/);
    await rowStatus(page, "Keyboards", "Active");
    const panel = await selectSession(page, "Keyboards");
    await panel.getByRole("button", { name: "Start remote session" }).click();
    await agent.line(/Tom .* asks to SEE and CONTROL your screen/);
    agent.type("y");
    await panel.getByText("Permission granted: click to connect").waitFor();
    await panel.getByRole("button", { name: "Start remote session" }).click();
    await controlling(page);
    const cdp = await page.context().newCDPSession(page);

    t.equal(await page.getByLabel("Keyboard").inputValue(), "position", "map by position is the default");
    await chooseMode(page, "Translate by character");
    let from = recorder.text.length;
    for (const press of [
      { code: "KeyQ", key: "@", keyCode: 81, altGr: true },
      { code: "KeyE", key: "€", keyCode: 69, altGr: true },
      { code: "BracketLeft", key: "ü", keyCode: 186 },
      { code: "Quote", key: "Ä", keyCode: 222, shift: true },
      { code: "Minus", key: "ß", keyCode: 219 },
      { code: "Equal", key: "Dead", keyCode: 221 },
      { code: "KeyE", key: "é", keyCode: 69 },
    ]) {
      await germanKey(cdp, press);
    }
    t.equal(await textFrom(from, 6), "@€üÄßé", "German technician, US end user: exactly what was typed");

    await xvfb.x("setxkbmap", ["de"]);
    from = recorder.text.length;
    await page.keyboard.type("@y");
    // A US keyboard has no umlauts: they come from an input method or a character picker.
    await page.keyboard.insertText("üÖ€");
    t.equal(await textFrom(from, 5), "@yüÖ€", "US technician, German end user: exactly what was typed");

    await chooseMode(page, "Map by position");
    from = recorder.text.length;
    await page.keyboard.press("KeyY");
    t.equal(await textFrom(from, 1), "z", "by position, the German end user's layout decides: Y types z");

    await chooseMode(page, "Translate by character");
    await page.getByRole("button", { name: "Disconnect" }).click();
    await selectSession(page, "Keyboards");
    await panel.getByRole("button", { name: "Start remote session" }).click();
    await controlling(page);
    t.equal(await page.getByLabel("Keyboard").inputValue(), "character", "the mode is remembered");
    t.equal(
      await page.evaluate((id) => localStorage.getItem(`sos.keyboardMode.${id}`), tom.id),
      "character",
      "per technician",
    );
    await xvfb.x("setxkbmap", ["us"]);
  },
);
