import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import t from "tap";
import { BAKED_GATEWAY, BRAND } from "../build/built-executable.ts";
import { launchBrowser, openConsole, signIn } from "../helpers/browser.ts";
import { ADMIN, PASSWORD, startTestGateway, type TestGateway } from "../helpers/gateway.ts";

/**
 * An admin builds an SOS app from the console's "SOS builds" page: the real gateway runs the real
 * `build/cli.ts`. The inputs are tests/build/sos-build.test.ts's (baked address, brand, message)
 * with its cache, so a warm cache makes the build quick; a cold one takes about a minute.
 */

const CACHE = join("node_modules", ".cache", "sos-build");
const MESSAGE = "Call 555-0100 if unsure.";

let gateway: TestGateway;
let browser: Browser;
let page: Page;

t.before(async () => {
  gateway = await startTestGateway({ config: { publicUrl: BAKED_GATEWAY, buildCacheDir: CACHE } });
  browser = await launchBrowser();
  ({ page } = await openConsole(browser, gateway.url));
  page.setDefaultTimeout(10_000);
  await signIn(page, ADMIN.email, ADMIN.password);
});
t.teardown(async () => {
  await browser?.close();
  await gateway?.close();
});

t.test("an admin fills the form, sees the progress, and the build is listed and offered", async (t) => {
  await page.getByRole("navigation").getByRole("link", { name: "SOS builds" }).click();
  const form = page.getByRole("region", { name: "Build an SOS app" });
  await form.getByRole("button", { name: "Build the standard SOS app" }).waitFor();
  t.ok(await form.getByRole("checkbox", { name: "Linux" }).isChecked(), "Linux is chosen by default");

  await form.getByLabel("Brand").fill(BRAND);
  await form.getByLabel("Support message (optional)").fill(MESSAGE);
  await form.getByRole("button", { name: "Build", exact: true }).click();

  const progress = page.getByRole("region", { name: "Build progress" });
  await progress.getByRole("status").getByText(`Building ${BRAND}…`).waitFor();
  await progress.getByRole("log").getByText("linux-x64:", { exact: false }).first().waitFor();
  t.equal(await form.getByRole("button", { name: "Build", exact: true }).isDisabled(), true, "one at a time");
  t.equal(await form.getByRole("button", { name: "Build the standard SOS app" }).count(), 0);
  t.pass("progress seen while it runs");

  const file = "Acme-IT-SOS-linux-x64";
  await progress
    .getByRole("status")
    .getByText(`Built: ${file}`, { exact: false })
    .waitFor({ timeout: 200_000 });
  const sha256 = createHash("sha256")
    .update(readFileSync(join(gateway.dataDir, "downloads", file)))
    .digest("hex");
  const row = page
    .getByRole("table", { name: "Available builds" })
    .getByRole("row")
    .filter({ hasText: file });
  await row.getByRole("cell", { name: "Linux", exact: true }).waitFor();
  await row.getByRole("cell", { name: sha256 }).waitFor();
  t.pass("listed with its SHA-256");

  const session = await gateway.newSession(gateway.admin);
  const landing = await browser.newPage();
  await landing.goto(`${gateway.url}/s/${session.token}`);
  const download = landing.getByRole("link", { name: "Download the SOS app for Linux" });
  await download.waitFor();
  t.equal(await download.getAttribute("href"), `/s/${session.token}/download/linux-x64`, "offered at once");
  await landing.close();
});

t.test("a page opened later shows the last build, in German", async (t) => {
  const { page: german } = await openConsole(browser, gateway.url, { locale: "de-DE" });
  await german.getByLabel("E-Mail").fill(ADMIN.email);
  await german.getByLabel("Passwort").fill(ADMIN.password);
  await german.getByRole("button", { name: "Anmelden" }).click();
  await german.getByRole("navigation").getByRole("link", { name: "SOS-Builds" }).click();
  const form = german.getByRole("region", { name: "SOS-App bauen" });
  await form.getByLabel("Marke").waitFor();
  await form.getByRole("button", { name: "Bauen", exact: true }).waitFor();
  const progress = german.getByRole("region", { name: "Build-Fortschritt" });
  await progress.getByRole("status").getByText("Gebaut: Acme-IT-SOS-linux-x64", { exact: false }).waitFor();
  t.equal(
    await form.getByRole("button", { name: "Standard-SOS-App bauen" }).count(),
    0,
    "no one-click offer once a build exists",
  );
  await german.close();
});

t.test("a technician is refused by the gateway even when asking from the console", async (t) => {
  const dan = await gateway.technician("Dan");
  const { page: theirs } = await openConsole(browser, gateway.url);
  await signIn(theirs, dan.email, PASSWORD);
  const answer = await theirs.evaluate(async () => {
    const me = (await (await fetch("/api/me")).json()) as { csrfToken: string };
    const response = await fetch("/api/builds/job", {
      method: "POST",
      headers: { "content-type": "application/json", "x-csrf-token": me.csrfToken },
      body: JSON.stringify({ brand: "Dan", targets: ["linux-x64"] }),
    });
    return { status: response.status, body: (await response.json()) as unknown };
  });
  t.match(answer, { status: 403, body: { error: { code: "FORBIDDEN" } } });
  await theirs.goto(`${gateway.url}/#/admin/builds`);
  await theirs.getByRole("button", { name: "New session" }).waitFor();
  t.equal(await theirs.getByRole("region", { name: "Build an SOS app" }).count(), 0, "no build form");
});
