import type { Browser, Locator } from "playwright-core";
import t from "tap";
import { translate } from "../../signaling/console/lib/i18n.ts";
import { launchBrowser, openConsole, signIn } from "../helpers/browser.ts";
import {
  type ApiClient,
  errorCode,
  joinAgent,
  PASSWORD,
  startTestGateway,
  type TestGateway,
} from "../helpers/gateway.ts";
import {
  createSessionInDialog,
  dialog,
  relayConsoleSocket,
  rowStatus,
  selectSession,
  sessionRow,
} from "./desk-page.ts";

/**
 * Every action's refused path shows the gateway's own reason. The console offers an action only
 * where it can work, so each refusal here comes from a change the page could not know about yet:
 * an admin took a permission or a channel away after the page loaded.
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

/** The gateway's refusal of the same request, for comparing with what the page shows. */
async function refusal(client: ApiClient, method: "POST" | "GET" | "DELETE", path: string, body?: unknown) {
  const answer = await client.request(method, path, body);
  const error = (answer.body as { error: { code: string; message: string } }).error;
  return { status: answer.status, code: errorCode(answer.body), message: error.message };
}

async function alertText(scope: Locator): Promise<string> {
  const alert = scope.getByRole("alert");
  await alert.waitFor();
  return (await alert.textContent()) ?? "";
}

t.test("a wrong password is refused with the gateway's reason", async (t) => {
  const { page } = await openConsole(browser, gateway.url);
  await page.getByLabel("Email").fill("nobody@example.test");
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  const expected = await refusal(gateway.anonymous(), "POST", "/api/auth/sign-in", {
    email: "nobody2@example.test",
    password: "not-the-password",
  });
  t.equal(expected.code, "INVALID_CREDENTIALS");
  t.equal(await alertText(page.locator("main")), expected.message);
});

t.test("actions refused after the page loaded show the gateway's reason", async (t) => {
  const rex = await gateway.technician("Rex", { shareSessions: true });
  const sam = await gateway.technician("Sam");
  const kim = await gateway.technician("Kim");
  const lou = await gateway.technician("Lou");
  const level2 = await gateway.admin.post("/api/channels", { name: "Level 2", access: [rex.id, sam.id] });
  const closedShop = await gateway.admin.post("/api/channels", { name: "Closed shop", access: [rex.id] });
  const closedShopId = (closedShop.body as { channel: { id: string } }).channel.id;
  const { page } = await openConsole(browser, gateway.url);
  page.setDefaultTimeout(10_000);
  await signIn(page, rex.email, PASSWORD);
  await page.getByRole("navigation").getByRole("link", { name: "Level 2" }).click();
  await page.getByRole("heading", { name: "Level 2", level: 1 }).waitFor();
  t.equal(level2.status, 200);
  const { pin } = await createSessionInDialog(page, "Refused");
  const agent = await joinAgent(gateway.url, { kind: "pin", pin: pin.replaceAll(" ", "") });
  t.teardown(() => agent.socket.close());
  await rowStatus(page, "Refused", "Active");
  const panel = await selectSession(page, "Refused");
  const list = await rex.client.get("/api/sessions?channelId=home");
  const id = (list.body as { sessions: Array<{ id: string }> }).sessions[0]?.id ?? "";

  // Invite: one colleague is fine; two more would be four on the session.
  await panel.getByRole("button", { name: "Invite technicians" }).click();
  await dialog(page).getByRole("checkbox", { name: "Kim" }).check();
  await dialog(page).getByRole("button", { name: "Invite" }).click();
  await panel.getByText("Invited.").waitFor();
  await panel.getByRole("button", { name: "Invite technicians" }).click();
  await dialog(page).getByRole("checkbox", { name: "Sam" }).check();
  await dialog(page).getByRole("checkbox", { name: "Lou" }).check();
  await dialog(page).getByRole("button", { name: "Invite" }).click();
  const inviteLimit = await refusal(rex.client, "POST", `/api/sessions/${id}/invite`, {
    technicianIds: [sam.id, lou.id],
  });
  t.equal(inviteLimit.code, "INVITE_LIMIT");
  t.equal(
    await alertText(dialog(page)),
    inviteLimit.message,
    "Invite technicians: the limit, as the gateway words it",
  );
  await dialog(page).getByRole("button", { name: "Cancel" }).click();
  t.ok(kim.id !== "");

  // While Rex picks a colleague, the admin takes his share permission away (the gateway pushes
  // the change, so buttons opened afterwards are disabled; the open dialog meets the refusal).
  const setShare = (shareSessions: boolean) =>
    gateway.admin.patch(`/api/technicians/${rex.id}`, { permissions: { shareSessions } });
  await panel.getByRole("button", { name: "Assign technician" }).click();
  await dialog(page)
    .getByLabel("Technician", { exact: true })
    .selectOption({ label: `Sam (${sam.email})` });
  await setShare(false);
  await dialog(page).getByRole("button", { name: "Assign" }).click();
  const noShare = await refusal(rex.client, "POST", `/api/sessions/${id}/assign`, { technicianId: sam.id });
  t.equal(noShare.code, "FORBIDDEN");
  t.equal(await alertText(dialog(page)), noShare.message, "Assign technician: needs sharing");
  await dialog(page).getByRole("button", { name: "Cancel" }).click();

  await panel.getByRole("button", { name: "Assign technician" }).and(page.locator(":disabled")).waitFor();
  t.pass("once the change arrives, Assign technician is disabled without a reload");

  await setShare(true);
  await panel.getByRole("button", { name: "Assign technician" }).and(page.locator(":enabled")).waitFor();
  await panel.getByRole("button", { name: "Transfer" }).click();
  await dialog(page)
    .getByLabel("Technician", { exact: true })
    .selectOption({ label: `Sam (${sam.email})` });
  await setShare(false);
  // ...and his access to "Closed shop", which the open dialog still offers.
  await gateway.admin.patch(`/api/channels/${closedShopId}`, { access: [] });
  await dialog(page).getByRole("button", { name: "Transfer" }).click();
  const noShareTransfer = await refusal(rex.client, "POST", `/api/sessions/${id}/transfer`, {
    technicianId: sam.id,
  });
  t.equal(await alertText(dialog(page)), noShareTransfer.message, "Transfer to a technician: needs sharing");
  await dialog(page).getByRole("radio", { name: "A channel" }).check();
  await dialog(page).getByLabel("Channel", { exact: true }).selectOption({ label: "Closed shop" });
  await dialog(page).getByRole("button", { name: "Transfer" }).click();
  const noAccess = await refusal(rex.client, "POST", `/api/sessions/${id}/transfer`, {
    channelId: closedShopId,
  });
  t.equal(noAccess.code, "FORBIDDEN");
  await dialog(page).getByText(noAccess.message).waitFor();
  t.pass("Transfer to a channel: needs access to it");
  await dialog(page).getByRole("button", { name: "Cancel" }).click();

  await rowStatus(page, "Refused", "Active");
  t.pass("nothing changed");
});

t.test("actions on a session a colleague just closed or deleted show the gateway's reason", async (t) => {
  const una = await gateway.technician("Una", { shareSessions: true });
  const vik = await gateway.technician("Vik");
  const team = await gateway.admin.post("/api/channels", { name: "Race track", access: [una.id, vik.id] });
  t.equal(team.status, 200);
  const { page } = await openConsole(browser, gateway.url);
  page.setDefaultTimeout(10_000);
  const pushes = await relayConsoleSocket(page);
  await signIn(page, una.email, PASSWORD);
  await page.getByRole("navigation").getByRole("link", { name: "Race track" }).click();
  await page.getByRole("heading", { name: "Race track", level: 1 }).waitFor();
  const { pin } = await createSessionInDialog(page, "Raced");
  const agent = await joinAgent(gateway.url, { kind: "pin", pin: pin.replaceAll(" ", "") });
  t.teardown(() => agent.socket.close());
  await rowStatus(page, "Raced", "Active");
  const panel = await selectSession(page, "Raced");
  const all = await gateway.admin.get("/api/sessions");
  const id = (all.body as { sessions: Array<{ id: string; name: string }> }).sessions.find(
    (s) => s.name === "Raced",
  )?.id;
  if (id === undefined) throw new Error("no session");

  // The admin closes it; this page has not heard yet.
  pushes.hold();
  t.equal((await gateway.admin.post(`/api/sessions/${id}/close`)).status, 200);
  const closed = (path: string, body?: unknown) =>
    refusal(una.client, "POST", `/api/sessions/${id}/${path}`, body);

  for (const [action, path] of [
    ["Start remote session", "permission"],
    ["Release", "release"],
  ] as const) {
    const expected = await closed(path);
    t.equal(expected.code, "INVALID_TRANSITION");
    await panel.getByRole("button", { name: action }).click();
    t.equal(await alertText(panel), expected.message, `${action}: refused with the gateway's reason`);
  }
  const over = await refusal(una.client, "GET", `/api/sessions/${id}/invitation`);
  t.equal(over.code, "SESSION_CLOSED");
  await panel.getByRole("button", { name: "Copy link" }).click();
  t.equal(await alertText(panel), over.message, "Copy link: the session is over");
  await panel.getByRole("button", { name: "Show PIN" }).click();
  t.equal(await alertText(dialog(page)), over.message, "Show PIN: the session is over");
  await dialog(page).getByRole("button", { name: "Done" }).click();

  const inDialog = async (
    action: string,
    submit: string,
    expected: { message: string },
    pick?: () => Promise<void>,
  ) => {
    await panel.getByRole("button", { name: action }).click();
    await pick?.();
    await dialog(page).getByRole("button", { name: submit, exact: true }).click();
    t.equal(await alertText(dialog(page)), expected.message, `${action}: refused with the gateway's reason`);
    await dialog(page).getByRole("button", { name: "Cancel" }).click();
  };
  await inDialog("Assign technician", "Assign", await closed("assign", { technicianId: vik.id }), () =>
    dialog(page)
      .getByLabel("Technician", { exact: true })
      .selectOption({ label: `Vik (${vik.email})` })
      .then(() => undefined),
  );
  await inDialog("Transfer", "Transfer", await closed("transfer", { technicianId: vik.id }), () =>
    dialog(page)
      .getByLabel("Technician", { exact: true })
      .selectOption({ label: `Vik (${vik.email})` })
      .then(() => undefined),
  );
  await inDialog("Invite technicians", "Invite", await closed("invite", { technicianIds: [vik.id] }), () =>
    dialog(page).getByRole("checkbox", { name: "Vik" }).check(),
  );
  await inDialog("Close", "Close session", await closed("close"));

  // Then it is deleted as well.
  t.equal((await gateway.admin.delete(`/api/sessions/${id}`)).status, 200);
  const gone = await refusal(una.client, "DELETE", `/api/sessions/${id}`);
  t.equal(gone.code, "SESSION_NOT_FOUND");
  await inDialog("Delete", "Delete session", gone);

  pushes.release();
  await sessionRow(page, "Raced").waitFor({ state: "detached" });
  t.pass("once the pushes arrive the row goes away");
});

t.test("a technician whose attended access is taken away is signed out of the console", async (t) => {
  const wyn = await gateway.technician("Wyn");
  const { page } = await openConsole(browser, gateway.url);
  await signIn(page, wyn.email, PASSWORD);
  await gateway.admin.patch(`/api/technicians/${wyn.id}`, { permissions: { attendedAccess: false } });
  await page.getByRole("button", { name: "Sign in" }).waitFor();
  t.pass("back at the sign-in page");
});

t.test("opening a remote view without the end user's permission shows why", async (t) => {
  const ned = await gateway.technician("Ned");
  const { id, pin } = await gateway.newSession(ned.client);
  const agent = await joinAgent(gateway.url, { kind: "pin", pin });
  t.teardown(() => agent.socket.close());
  const { page } = await openConsole(browser, gateway.url);
  await signIn(page, ned.email, PASSWORD);
  await page.goto(`/#/remote/${id}`);
  const expected = "The end user has not granted you access.";
  await page.getByRole("alert").getByText(expected).waitFor();
  await page.getByRole("button", { name: "Back to the Service Desk" }).click();
  await page.getByRole("button", { name: "New session" }).waitFor();
  t.pass("refused, and the way back works");
});

t.test("the German console says each refusal in German, by its code", async (t) => {
  const ned = await gateway.technician("Nele");
  const { page, errors } = await openConsole(browser, gateway.url, { locale: "de-DE" });
  // Over HTTP: a wrong password.
  await page.getByLabel("E-Mail").fill(ned.email);
  await page.getByLabel("Passwort").fill("not-the-password");
  await page.getByRole("button", { name: "Anmelden" }).click();
  t.equal(await alertText(page.locator("main")), translate("de", "error.INVALID_CREDENTIALS"));
  t.equal(translate("de", "error.INVALID_CREDENTIALS"), "E-Mail-Adresse oder Passwort ist falsch.");

  // Over the console socket: a remote view without the end user's permission.
  const { id, pin } = await gateway.newSession(ned.client);
  const agent = await joinAgent(gateway.url, { kind: "pin", pin });
  t.teardown(() => agent.socket.close());
  await page.getByLabel("Passwort").fill(PASSWORD);
  await page.getByRole("button", { name: "Anmelden" }).click();
  await page.getByRole("button", { name: "Abmelden" }).waitFor();
  await page.goto(`/#/remote/${id}`);
  await page.getByRole("alert").getByText(translate("de", "error.PERMISSION_NOT_GRANTED")).waitFor();
  t.equal(
    translate("de", "error.PERMISSION_NOT_GRANTED"),
    "Der Endbenutzer hat Ihnen keinen Zugriff erlaubt.",
  );
  t.same(errors, [], "no errors in the page");
});
