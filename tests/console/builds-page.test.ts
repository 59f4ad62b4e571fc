import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import t from "tap";
import { buildCommand, doubleQuoted, shellWord } from "../../signaling/console/lib/format.ts";
import { launchBrowser, openConsole, signIn } from "../helpers/browser.ts";
import { ADMIN, PASSWORD, startTestGateway, type TestGateway } from "../helpers/gateway.ts";

/** The SOS builds page: what the downloads folder offers, and the command that produces a build. */

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

const downloadsDir = () => join(gateway.dataDir, "downloads");

t.test("the command quotes what the shell would split or expand", async (t) => {
  t.equal(shellWord("/srv/sos/data/downloads"), "/srv/sos/data/downloads");
  t.equal(shellWord("/srv/my data"), '"/srv/my data"');
  t.equal(doubleQuoted('Acme "$HOME" `x` \\'), '"Acme \\"\\$HOME\\" \\`x\\` \\\\"');
  t.equal(
    buildCommand({ gateway: "https://sos.example.test", brand: "Acme IT", out: "/data/downloads" }),
    'npm run build:sos -- --gateway https://sos.example.test --brand "Acme IT" --out /data/downloads',
  );
});

t.test("an admin sees no builds yet and the command for this gateway", async (t) => {
  await page.getByRole("navigation").getByRole("link", { name: "SOS builds" }).click();
  await page.getByRole("heading", { name: "SOS builds", level: 1 }).waitFor();
  await page.getByText("No builds yet.", { exact: false }).waitFor();
  t.equal(await page.getByRole("table", { name: "Available builds" }).count(), 0, "no table when empty");
  await page.getByText(downloadsDir(), { exact: true }).waitFor();

  const howTo = page.getByRole("region", { name: "How to produce a build" });
  const organization = (await gateway.admin.get("/api/me")).body as { organization: { name: string } };
  const expected = `npm run build:sos -- --gateway ${gateway.url} --brand "${organization.organization.name}" --out ${downloadsDir()}`;
  t.equal(await howTo.getByLabel("Command").inputValue(), expected, "the gateway's address, name and folder");
  await howTo.getByText("named with their session code", { exact: false }).waitFor();
  await howTo.getByText("Linux and Windows can be built today", { exact: false }).waitFor();

  await howTo.getByRole("button", { name: "Copy command" }).click();
  await howTo.getByRole("status").getByText("Copied to the clipboard.").waitFor();
  t.equal(
    await page.evaluate(() => navigator.clipboard.readText()),
    expected,
    "the command is on the clipboard",
  );
});

t.test("stand-in files named like Linux and Windows builds are listed with their systems", async (t) => {
  await mkdir(downloadsDir(), { recursive: true });
  // Stand-ins, not real executables: the gateway lists by name, size and date only.
  await writeFile(join(downloadsDir(), "Acme-SOS-linux-x64"), Buffer.alloc(3 * 2 ** 20));
  await writeFile(join(downloadsDir(), "Acme-SOS-win-x64.exe"), "stand-in");
  await page.reload();
  const table = page.getByRole("table", { name: "Available builds" });
  const linux = table.getByRole("row").filter({ hasText: "Acme-SOS-linux-x64" });
  const windows = table.getByRole("row").filter({ hasText: "Acme-SOS-win-x64.exe" });
  await linux.getByRole("cell", { name: "Linux", exact: true }).waitFor();
  await windows.getByRole("cell", { name: "Windows", exact: true }).waitFor();
  await linux.getByRole("cell", { name: "3.0 MiB" }).waitFor();
  t.equal(await table.locator("tbody tr").count(), 2, "both rows and nothing else");
  t.equal(await page.getByText("No builds yet.", { exact: false }).count(), 0, "no empty state");
});

t.test("German names the page SOS-Builds", async (t) => {
  const { page: german } = await openConsole(browser, gateway.url, { locale: "de-DE" });
  await german.getByLabel("E-Mail").fill(ADMIN.email);
  await german.getByLabel("Passwort").fill(ADMIN.password);
  await german.getByRole("button", { name: "Anmelden" }).click();
  await german.getByRole("navigation").getByRole("link", { name: "SOS-Builds" }).click();
  await german.getByRole("heading", { name: "SOS-Builds", level: 1 }).waitFor();
  await german.getByRole("region", { name: "So erstellen Sie einen Build" }).getByLabel("Befehl").waitFor();
  await german
    .getByRole("table", { name: "Verfügbare Builds" })
    .getByRole("cell", { name: "3,0 MiB" })
    .waitFor();
  t.pass("heading, command and sizes in German");
});

t.test("a technician has no builds page", async (t) => {
  const dan = await gateway.technician("Dan");
  t.equal((await dan.client.get("/api/builds")).status, 403, "the gateway refuses the list");
  const { page: theirs } = await openConsole(browser, gateway.url);
  await signIn(theirs, dan.email, PASSWORD);
  t.equal(await theirs.getByRole("link", { name: "SOS builds" }).count(), 0, "no link");
  await theirs.goto("/#/admin/builds");
  await theirs.getByRole("button", { name: "New session" }).waitFor();
  t.equal(await theirs.getByRole("heading", { name: "SOS builds" }).count(), 0, "the Service Desk instead");
});
