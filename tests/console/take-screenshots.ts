/**
 * Takes the README's screenshots of the console (docs/screenshots/*.png) against a real gateway,
 * with the WebRTC stand-in for the agent's screen. Not a test: run it by hand after UI changes,
 * `npx node tests/console/take-screenshots.ts` (after `npm run build:console`).
 */
import { launchBrowser, openConsole, signIn } from "../helpers/browser.ts";
import { joinAgent, PASSWORD, startTestGateway } from "../helpers/gateway.ts";
import { createSessionInDialog, rowStatus, selectSession } from "./desk-page.ts";
import { startFakeAgent } from "./fake-agent.ts";

const OUT = "docs/screenshots";
const gateway = await startTestGateway();
const browser = await launchBrowser();
try {
  const tom = await gateway.technician("Tom Becker", { shareSessions: true });
  const kim = await gateway.technician("Kim Novak");
  const { page } = await openConsole(browser, gateway.url, { viewport: { width: 1440, height: 860 } });
  await page.getByRole("button", { name: "Sign in" }).waitFor();
  await page.screenshot({ path: `${OUT}/sign-in.png` });
  await signIn(page, tom.email, PASSWORD);

  await page.getByRole("button", { name: "New session" }).click();
  await page.getByRole("dialog").getByLabel("Customer or ticket").fill("ACME – printer driver");
  await page.getByRole("dialog").getByLabel("Note").fill("Ticket #4711, calls from the front desk");
  await page.getByRole("dialog").getByRole("button", { name: "Create session" }).click();
  await page.getByRole("dialog").getByLabel("PIN").waitFor();
  await page.screenshot({ path: `${OUT}/new-session.png` });
  await page.getByRole("dialog").getByRole("button", { name: "Done" }).click();

  const waiting = await createSessionInDialog(page, "Müller GmbH – VPN");
  const queued = await createSessionInDialog(page, "Front desk laptop");
  const helped = await createSessionInDialog(page, "Jane Doe – Outlook");
  const other = await joinAgent(
    gateway.url,
    { kind: "pin", pin: queued.pin.replaceAll(" ", "") },
    {
      hostname: "FRONTDESK-07",
      os: "Windows 11 Pro 23H2",
      user: "reception",
      agentVersion: "0.1.0",
    },
  );
  await rowStatus(page, "Front desk laptop", "Active");
  const agent = await startFakeAgent(browser, gateway.url, helped.pin.replaceAll(" ", ""), {
    width: 1280,
    height: 720,
  });
  await rowStatus(page, "Jane Doe – Outlook", "Active");
  void waiting;

  const panel = await selectSession(page, "Jane Doe – Outlook");
  await panel.getByRole("button", { name: "Invite technicians" }).click();
  await page.getByRole("dialog").getByRole("checkbox", { name: "Kim Novak" }).check();
  await page.getByRole("dialog").getByRole("button", { name: "Invite" }).click();
  await panel.getByText("Invited.").waitFor();
  await panel.getByRole("button", { name: "Start remote session" }).click();
  const request = await agent.socket.next("consent.request");
  agent.socket.send({ type: "consent", requestId: request.requestId, decision: "control" });
  await panel.getByText("Permission granted: click to connect").waitFor();
  await page.mouse.move(0, 0);
  await page.screenshot({ path: `${OUT}/service-desk.png` });

  await panel.getByRole("button", { name: "Start remote session" }).click();
  await page.waitForFunction(
    () => (document.querySelector("video")?.getVideoPlaybackQuality().totalVideoFrames ?? 0) > 20,
  );
  await page.getByRole("status", { name: "Connection quality" }).getByText(/fps/).waitFor();
  const peer = await agent.peerOf("Tom Becker");
  await agent.send(peer, { type: "cursor", x: 0.42, y: 0.4, visible: true });
  await page.locator("svg.remote-cursor").waitFor();
  await page.screenshot({ path: `${OUT}/remote-view.png` });
  await agent.close();
  other.socket.close();
  void kim;
  console.log(`screenshots written to ${OUT}/`);
} finally {
  await browser.close();
  await gateway.close();
}
