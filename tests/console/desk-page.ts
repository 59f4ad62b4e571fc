import type { Locator, Page } from "playwright-core";

/** Where things are on the console page, found by role and label as a technician would. */

export function sessionTable(page: Page): Locator {
  return page.getByRole("table", { name: /^Sessions in / });
}

export function sessionRow(page: Page, name: string): Locator {
  return sessionTable(page)
    .getByRole("row")
    .filter({ has: page.getByRole("button", { name, exact: true }) });
}

export function details(page: Page): Locator {
  return page.getByRole("region", { name: "Session details" });
}

export function dialog(page: Page): Locator {
  return page.getByRole("dialog");
}

export async function selectSession(page: Page, name: string): Promise<Locator> {
  await sessionRow(page, name).getByRole("button", { name, exact: true }).click();
  const panel = details(page);
  await panel.getByRole("heading", { name, exact: true }).waitFor();
  return panel;
}

/** Creates a session through the New session dialog and returns its PIN and link as shown. */
export async function createSessionInDialog(
  page: Page,
  name: string,
): Promise<{ pin: string; link: string }> {
  await page.getByRole("button", { name: "New session" }).click();
  const box = dialog(page);
  await box.getByLabel("Customer or ticket").fill(name);
  await box.getByRole("button", { name: "Create session" }).click();
  const pinText = (await box.getByLabel("PIN").textContent()) ?? "";
  const link = await box.getByLabel("Session link").inputValue();
  await box.getByRole("button", { name: "Done" }).click();
  await box.waitFor({ state: "detached" });
  return { pin: pinText, link };
}

/** Waits until the session's row shows `status`. */
export async function rowStatus(page: Page, name: string, status: string): Promise<void> {
  await sessionRow(page, name).getByRole("cell", { name: status, exact: true }).waitFor();
}
