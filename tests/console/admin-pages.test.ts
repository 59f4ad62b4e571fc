import { readFile } from "node:fs/promises";
import type { Browser, Page } from "playwright-core";
import t from "tap";
import { launchBrowser, openConsole, signIn } from "../helpers/browser.ts";
import { ADMIN, PASSWORD, startTestGateway, type TestGateway } from "../helpers/gateway.ts";

/** Administration in the browser: technicians, channels, the audit log; and the two languages. */

let gateway: TestGateway;
let browser: Browser;
let page: Page;

t.before(async () => {
  gateway = await startTestGateway();
  browser = await launchBrowser();
  ({ page } = await openConsole(browser, gateway.url));
  page.setDefaultTimeout(10_000);
  await signIn(page, ADMIN.email, ADMIN.password);
});
t.teardown(async () => {
  await browser?.close();
  await gateway?.close();
});

type TechnicianList = {
  technicians: Array<{ email: string; disabled: boolean; permissions: { shareSessions: boolean } }>;
};
async function technicianByEmail(email: string) {
  const answer = await gateway.admin.get("/api/technicians");
  return (answer.body as TechnicianList).technicians.find((technician) => technician.email === email);
}

t.test("an admin creates a technician, grants sharing and disables them", async (t) => {
  await page.getByRole("navigation").getByRole("link", { name: "Technicians" }).click();
  const form = page.getByRole("form", { name: "Add technician" });
  await form.getByLabel("Name").fill("Bea Baker");
  await form.getByLabel("Email").fill("bea@example.test");
  await form.getByLabel("Password").fill(PASSWORD);
  await form.getByRole("button", { name: "Create" }).click();
  await form.getByText("Created Bea Baker.").waitFor();
  const table = page.getByRole("table", { name: "All technicians" });
  await table.getByRole("cell", { name: "bea@example.test" }).waitFor();

  await table.getByRole("checkbox", { name: "Share sessions: Bea Baker" }).check();
  await page.getByText("Saved.").waitFor();
  t.equal((await technicianByEmail("bea@example.test"))?.permissions.shareSessions, true, "sharing granted");

  await table.getByRole("button", { name: "Disable Bea Baker" }).click();
  await table.getByRole("button", { name: "Enable Bea Baker" }).waitFor();
  t.equal((await technicianByEmail("bea@example.test"))?.disabled, true, "disabled");

  await form.getByLabel("Name").fill("Bea Again");
  await form.getByLabel("Email").fill("bea@example.test");
  await form.getByLabel("Password").fill(PASSWORD);
  await form.getByRole("button", { name: "Create" }).click();
  const taken = await gateway.admin.post("/api/technicians", {
    email: "bea@example.test",
    name: "Bea Again",
    password: PASSWORD,
  });
  const message = (taken.body as { error: { message: string } }).error.message;
  await form.getByRole("alert").getByText(message).waitFor();
  t.pass("a taken email is refused with the gateway's reason");
});

t.test(
  "an admin creates a team channel with access, expiry, re-confirmation and file size limit, then edits it",
  async (t) => {
    const cleo = await gateway.technician("Cleo");
    await page.reload();
    await page.getByRole("navigation").getByRole("link", { name: "Channel settings" }).click();
    const form = page.getByRole("form", { name: "Add channel" });
    await form.getByLabel("Name").fill("Escalations");
    await form.getByLabel("Session expiry (minutes)").fill("45");
    t.equal(
      await form.getByLabel("Ask the end user again after (minutes)").inputValue(),
      "30",
      "re-confirmation after 30 minutes by default",
    );
    await form.getByLabel("Ask the end user again after (minutes)").fill("15");
    t.equal(
      await form.getByLabel("Largest file to transfer (MiB)").inputValue(),
      "4096",
      "files up to the gateway's limit by default",
    );
    await form.getByRole("checkbox", { name: "Cleo" }).check();
    await form.getByRole("button", { name: "Create" }).click();
    await page.getByRole("navigation").getByRole("link", { name: "Escalations" }).waitFor();
    const edit = page.getByRole("form", { name: "Edit Escalations" });
    t.equal(await edit.getByLabel("Session expiry (minutes)").inputValue(), "45");
    t.equal(await edit.getByLabel("Ask the end user again after (minutes)").inputValue(), "15");
    t.equal(await edit.getByRole("checkbox", { name: "Cleo" }).isChecked(), true);

    await edit.getByLabel("Session expiry (minutes)").fill("90");
    await edit.getByLabel("Ask the end user again after (minutes)").fill("0");
    await edit.getByLabel("Largest file to transfer (MiB)").fill("50");
    await edit.getByRole("button", { name: "Save" }).click();
    await edit.getByText("Saved.").waitFor();
    const channels = await gateway.admin.get("/api/channels");
    const saved = (
      channels.body as {
        channels: Array<{
          name: string;
          sessionExpiryMinutes: number;
          reconfirmMinutes: number;
          fileSizeLimitMb: number;
          access: string[];
        }>;
      }
    ).channels.find((channel) => channel.name === "Escalations");
    t.equal(saved?.sessionExpiryMinutes, 90, "expiry saved");
    t.equal(saved?.reconfirmMinutes, 0, "re-confirmation saved (0: never)");
    t.equal(saved?.fileSizeLimitMb, 50, "file size limit saved");
    t.same(saved?.access, [cleo.id], "access saved");
  },
);

t.test(
  "the audit log names each action in words beside its name, filters by action and exports CSV",
  async (t) => {
    await page.getByRole("navigation").getByRole("link", { name: "Audit log" }).click();
    const log = page.getByRole("table", { name: "Audit log" });
    await log.getByRole("cell", { name: "Channel created channel.created" }).first().waitFor();
    const filter = page.getByRole("form", { name: "Filter" });
    await filter.getByLabel("Action").fill("technician.created");
    await filter.getByRole("button", { name: "Apply filter" }).click();
    await log.getByRole("cell", { name: "channel.created" }).waitFor({ state: "detached" });
    const labels = await log.locator("tbody tr td:nth-child(3) .audit-action").allTextContents();
    const names = await log.locator("tbody tr td:nth-child(3) .audit-action-name").allTextContents();
    t.ok(labels.length >= 2 && names.length === labels.length, "the created technicians are listed");
    t.ok(
      labels.every((label) => label === "Technician created"),
      "in words",
    );
    t.ok(
      names.every((name) => name === "technician.created"),
      "beside the name the filter takes, and nothing else",
    );

    const [download] = await Promise.all([
      page.waitForEvent("download"),
      filter.getByRole("link", { name: "Export CSV" }).click(),
    ]);
    const csv = await readFile(await download.path(), "utf8");
    const [header, ...rows] = csv.trim().split(/\r?\n/);
    t.match(header, /action/, "a CSV header");
    t.ok(rows.length >= 2 && rows.every((row) => row.includes("technician.created")), "the filtered rows");
  },
);

t.test("a technician sees no administration", async (t) => {
  const dan = await gateway.technician("Dan");
  const { page: theirs } = await openConsole(browser, gateway.url);
  await signIn(theirs, dan.email, PASSWORD);
  t.equal(await theirs.getByRole("link", { name: "Technicians" }).count(), 0);
  await theirs.goto("/#/admin/technicians");
  await theirs.getByRole("button", { name: "New session" }).waitFor();
  t.pass("the admin route shows the Service Desk instead");
});

t.test("German follows the browser language and English can be chosen", async (t) => {
  const { page: german } = await openConsole(browser, gateway.url, { locale: "de-DE" });
  await german.getByLabel("E-Mail").fill(ADMIN.email);
  await german.getByLabel("Passwort").fill(ADMIN.password);
  await german.getByRole("button", { name: "Anmelden" }).click();
  await german.getByRole("button", { name: "Neue Sitzung" }).waitFor();
  await german.getByRole("link", { name: "Startseite" }).waitFor();
  t.equal(await german.evaluate(() => document.documentElement.lang), "de");
  await german.getByRole("navigation").getByRole("link", { name: "Protokoll" }).click();
  await german
    .getByRole("table", { name: "Protokoll" })
    .getByRole("cell", { name: "Techniker angelegt technician.created" })
    .first()
    .waitFor();
  t.pass("the audit log names the actions in German");
  await german.getByRole("navigation").getByRole("link", { name: "Startseite" }).click();
  await german.getByRole("button", { name: "Neue Sitzung" }).waitFor();

  await german.getByLabel("Sprache").selectOption("en");
  await german.getByRole("button", { name: "New session" }).waitFor();
  await german.reload();
  await german.getByRole("button", { name: "New session" }).waitFor();
  t.pass("the choice outlives a reload");
});

t.test("on a first start the page sets up the first administrator with the printed token", async (t) => {
  const fresh = await startTestGateway({ withoutAdmin: true });
  t.teardown(() => fresh.close());
  const { page: setup } = await openConsole(browser, fresh.url);
  await setup.getByRole("heading", { name: "Set up the first administrator" }).waitFor();
  await setup.getByLabel("Setup token").fill(fresh.gateway.setupToken ?? "");
  await setup.getByLabel("Name").fill("First Admin");
  await setup.getByLabel("Email").fill("first@example.test");
  await setup.getByLabel("Password").fill("first-admin-pw-1");
  await setup.getByRole("button", { name: "Create administrator" }).click();
  await setup.getByText("The administrator was created. Sign in with it.").waitFor();
  await signIn(setup, "first@example.test", "first-admin-pw-1");
  await setup.getByRole("link", { name: "Technicians" }).waitFor();
  t.equal((await fresh.anonymous().get("/api/setup")).status, 404, "setup is closed for good");
});
