import type { Locator, Page, WebSocketRoute } from "playwright-core";

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

/**
 * Relays the page's console socket to the real gateway, and lets a test interfere as a network
 * would: hold back what the gateway pushes (the page then acts on a view a moment old, as when a
 * colleague acts first), or drop the connection (a blip; the page reconnects by itself).
 */
export async function relayConsoleSocket(
  page: Page,
): Promise<{ hold(): void; release(): void; drop(): Promise<void> }> {
  let holding = false;
  const held: Array<() => void> = [];
  let current: { toPage: WebSocketRoute; toGateway: WebSocketRoute } | null = null;
  await page.routeWebSocket(/\/ws\/console$/, (toPage) => {
    const toGateway = toPage.connectToServer();
    current = { toPage, toGateway };
    toGateway.onMessage((message) => {
      if (holding) held.push(() => toPage.send(message));
      else toPage.send(message);
    });
  });
  return {
    hold: () => {
      holding = true;
    },
    release: () => {
      holding = false;
      for (const deliver of held.splice(0)) deliver();
    },
    async drop() {
      const route = current;
      current = null;
      await route?.toGateway.close({ code: 1001, reason: "test: network blip" });
      await route?.toPage.close({ code: 1001, reason: "test: network blip" });
    },
  };
}
