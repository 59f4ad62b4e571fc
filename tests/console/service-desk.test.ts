import type { Browser } from "playwright-core";
import t from "tap";
import { type ConsolePage, launchBrowser, openConsole, signIn } from "../helpers/browser.ts";
import { joinAgent, PASSWORD, startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { createSessionInDialog, dialog, rowStatus, selectSession, sessionRow } from "./desk-page.ts";

/** The Service Desk in real headless Chromium against the real gateway, as a technician uses it. */

let gateway: TestGateway;
let browser: Browser;
const pages: ConsolePage[] = [];

t.before(async () => {
  gateway = await startTestGateway();
  browser = await launchBrowser();
});
t.teardown(async () => {
  await browser?.close();
  await gateway?.close();
});

async function technicianPage(name: string, permissions: { shareSessions?: boolean } = {}) {
  const technician = await gateway.technician(name, permissions);
  const console = await openConsole(browser, gateway.url);
  console.page.setDefaultTimeout(10_000);
  pages.push(console);
  await signIn(console.page, technician.email, PASSWORD);
  return { ...technician, ...console };
}

t.test(
  "sign in, New session shows link and grouped PIN, and the row turns Active when the agent joins",
  async (t) => {
    const tom = await technicianPage("Tom");
    const { page } = tom;
    const { pin, link } = await createSessionInDialog(page, "Alice's laptop");
    t.match(pin, /^\d{3} \d{3} \d{3}$/, "PIN grouped for reading");
    t.match(link, /^https?:\/\/[^/]+\/s\/[A-Za-z0-9_-]{22,}$/, "the session link");
    await rowStatus(page, "Alice's laptop", "Waiting");

    const agent = await joinAgent(gateway.url, { kind: "pin", pin: pin.replaceAll(" ", "") });
    t.teardown(() => agent.socket.close());
    await rowStatus(page, "Alice's laptop", "Active");
    t.same(tom.errors, [], "no errors in the page");
  },
);

t.test("agent-supplied host, user and OS render as inert text", async (t) => {
  const tina = await technicianPage("Tina");
  const { page } = tina;
  const { pin } = await createSessionInDialog(page, "Hostile device");
  const device = {
    hostname: `<img src=x onerror="window.__pwned=1">`,
    user: `<script>window.__pwned=2</script>`,
    os: `"><svg onload="window.__pwned=3">`,
    agentVersion: "1.0",
  };
  const agent = await joinAgent(gateway.url, { kind: "pin", pin: pin.replaceAll(" ", "") }, device);
  t.teardown(() => agent.socket.close());
  const panel = await selectSession(page, "Hostile device");
  for (const text of [device.hostname, device.user, device.os]) {
    await panel.getByText(text, { exact: true }).waitFor();
  }
  t.equal(await page.evaluate(() => "__pwned" in window), false, "nothing ran");
  t.equal(await page.locator("img[src=x], svg[onload]").count(), 0, "no element was made from them");
});

t.test("Start remote session: asks, waits, shows a denial, and changes once granted", async (t) => {
  const { page } = await technicianPage("Uma");
  const { pin } = await createSessionInDialog(page, "Consent flow");
  const agent = await joinAgent(gateway.url, { kind: "pin", pin: pin.replaceAll(" ", "") });
  t.teardown(() => agent.socket.close());
  await rowStatus(page, "Consent flow", "Active");
  const panel = await selectSession(page, "Consent flow");
  const start = panel.getByRole("button", { name: "Start remote session" });

  await start.click();
  const first = await agent.socket.next("consent.request");
  t.equal(first.technician.name, "Uma", "the end user is told who asks");
  await panel.getByText("Waiting for the end user's permission").waitFor();
  await panel.getByRole("button", { name: "Start remote session", disabled: true }).waitFor();

  agent.socket.send({ type: "consent", requestId: first.requestId, decision: "deny" });
  await panel.getByText("The end user denied permission. Click to ask again.").waitFor();

  await start.click();
  const second = await agent.socket.next("consent.request");
  agent.socket.send({ type: "consent", requestId: second.requestId, decision: "control" });
  await panel.getByText("Permission granted: click to connect").waitFor();
  await panel.getByRole("button", { name: "Start remote session", disabled: false }).waitFor();
});

t.test("Copy link, Show PIN, Release, take it again, Close and Delete from the details panel", async (t) => {
  const { page } = await technicianPage("Vic");
  const created = await createSessionInDialog(page, "Full round");
  const agent = await joinAgent(gateway.url, { kind: "pin", pin: created.pin.replaceAll(" ", "") });
  t.teardown(() => agent.socket.close());
  await rowStatus(page, "Full round", "Active");
  const panel = await selectSession(page, "Full round");

  await panel.getByRole("button", { name: "Copy link" }).click();
  await panel.getByText("The session link was copied to the clipboard.").waitFor();
  t.equal(
    await page.evaluate(() => navigator.clipboard.readText()),
    created.link,
    "the link is on the clipboard",
  );

  await panel.getByRole("button", { name: "Show PIN" }).click();
  t.equal(await dialog(page).getByLabel("PIN").textContent(), created.pin);
  await dialog(page).getByRole("button", { name: "Done" }).click();
  const audited = async (action: string) => {
    const response = await gateway.admin.get(`/api/audit?action=${action}`);
    const { entries } = response.body as { entries: Array<{ actor: { name: string | null } }> };
    return entries.filter((entry) => entry.actor.name === "Vic").length;
  };
  t.equal(await audited("session.link_copied"), 1, "copying the link is audited as a copied link");
  t.equal(await audited("session.pin_shown"), 1, "showing the PIN as a shown PIN");

  await panel.getByRole("button", { name: "Release" }).click();
  await panel.getByText("Released: the session waits in the queue.").waitFor();
  // Released sessions leave Home (nobody is assigned); the Private channel still lists it.
  await page.getByRole("navigation").getByRole("link", { name: "Private", exact: true }).click();
  await rowStatus(page, "Full round", "Queued");
  await selectSession(page, "Full round");
  await panel.getByRole("button", { name: "Assign technician" }).click();
  await dialog(page).getByRole("button", { name: "Assign" }).click();
  await rowStatus(page, "Full round", "Active");

  await panel.getByRole("button", { name: "Close" }).click();
  await dialog(page).getByRole("button", { name: "Close session" }).click();
  await rowStatus(page, "Full round", "Closed");
  const ended = await agent.socket.next("session.ended");
  t.equal(ended.reason, "closed", "the agent is told");
  for (const action of ["Copy link", "Show PIN", "Release", "Close", "Transfer", "Invite technicians"]) {
    t.ok(
      await panel.getByRole("button", { name: action }).isDisabled(),
      `${action} is off on a Closed session`,
    );
  }
  await panel.getByRole("button", { name: "Delete" }).click();
  await dialog(page).getByRole("button", { name: "Delete session" }).click();
  await sessionRow(page, "Full round").waitFor({ state: "detached" });
});

t.test("a colleague's change shows up live, without reloading", async (t) => {
  const wes = await technicianPage("Wes");
  const { page } = wes;
  const channel = await gateway.admin.post("/api/channels", { name: "Second level", access: [wes.id] });
  t.equal(channel.status, 200, "the admin made a team channel");
  await page.reload();
  await page.getByRole("navigation").getByRole("link", { name: "Second level" }).click();
  await page.getByRole("heading", { name: "Second level", level: 1 }).waitFor();
  const { pin } = await createSessionInDialog(page, "Watched");
  const agent = await joinAgent(gateway.url, { kind: "pin", pin: pin.replaceAll(" ", "") });
  t.teardown(() => agent.socket.close());
  await rowStatus(page, "Watched", "Active");

  const list = await gateway.admin.get("/api/sessions");
  const sessions = (list.body as { sessions: Array<{ id: string; name: string }> }).sessions;
  const id = sessions.find((session) => session.name === "Watched")?.id ?? "";
  const released = await gateway.admin.post(`/api/sessions/${id}/release`);
  t.equal(released.status, 200, "the admin released it");
  await rowStatus(page, "Watched", "Queued");
});
