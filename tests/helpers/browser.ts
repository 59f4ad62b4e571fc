/**
 * Headless Chromium for the console's end-to-end tests: Debian's /usr/bin/chromium driven by
 * playwright-core (never `playwright install`). One browser per test file; a context per user.
 */
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";

export const CHROMIUM_PATH = process.env.SOS_CHROMIUM ?? "/usr/bin/chromium";

export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  // Plain host candidates instead of mDNS names, so loopback ICE works between peers.
  "--disable-features=WebRtcHideLocalIpsWithMdns",
];

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
}

export type ConsolePage = {
  context: BrowserContext;
  page: Page;
  /**
   * Uncaught page errors and console errors seen so far (a test can assert there are none).
   * Refused requests (a 401 before sign-in, a test's refused action) are answers, not errors.
   */
  errors: string[];
};

/** A fresh browser profile (own cookies) on the console at `baseUrl`, with clipboard access. */
export async function openConsole(
  browser: Browser,
  baseUrl: string,
  options: { locale?: string; viewport?: { width: number; height: number } } = {},
): Promise<ConsolePage> {
  const context = await browser.newContext({
    baseURL: baseUrl,
    locale: options.locale ?? "en-US",
    viewport: options.viewport ?? { width: 1400, height: 900 },
  });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: new URL(baseUrl).origin });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(`pageerror: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) {
      errors.push(`console: ${message.text()}`);
    }
  });
  await page.goto("/");
  return { context, page, errors };
}

/** Signs in through the form, as a technician would, and waits for the Service Desk. */
export async function signIn(page: Page, email: string, password: string): Promise<void> {
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("button", { name: "Sign out" }).waitFor();
}
