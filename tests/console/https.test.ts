/**
 * The console in real Chromium over https, with a certificate from the team's own CA that the
 * browser's profile trusts (its NSS database, as an admin's desktop would through the system
 * store), never with certificate errors ignored: served by the gateway itself (--tls-cert), and
 * by nginx in front of a plain-http gateway (deploy/nginx/sos-gateway.conf).
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { type Browser, chromium } from "playwright-core";
import t, { type Test } from "tap";
import { CHROMIUM_ARGS, CHROMIUM_PATH, openConsole, signIn } from "../helpers/browser.ts";
import { issueCertificate, makeCa, trustInThisProcess } from "../helpers/certificates.ts";
import { joinAgent, PASSWORD, startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { freePort, startNginx } from "../helpers/nginx.ts";
import { createSessionInDialog, rowStatus } from "./desk-page.ts";

const run = promisify(execFile);
const dir = await mkdtemp(join(tmpdir(), "sos-console-https-"));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const ca = await makeCa(dir, "SOS test CA");
const certificate = await issueCertificate(ca, dir, "gateway");
trustInThisProcess(ca);

/** Chromium whose profile (HOME) trusts `caFile` for web sites, or trusts nothing extra. */
async function launchChromium(name: string, caFile?: string): Promise<Browser> {
  const home = join(dir, name);
  await mkdir(join(home, ".pki", "nssdb"), { recursive: true });
  if (caFile !== undefined) {
    const nssdb = `sql:${join(home, ".pki", "nssdb")}`;
    await run("certutil", ["-N", "-d", nssdb, "--empty-password"]);
    await run("certutil", ["-A", "-d", nssdb, "-n", "SOS test CA", "-t", "C,,", "-i", caFile]);
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: CHROMIUM_ARGS,
    headless: true,
    env: { ...process.env, HOME: home },
  });
}

const browser = await launchChromium("trusting", ca.certFile);
t.teardown(() => browser.close());

/** Signs in at `consoleUrl`, makes a session, and sees it turn Active live when an agent joins. */
async function workingConsole(t: Test, gw: TestGateway, consoleUrl: string) {
  const technician = await gw.technician("Hanna Https");
  const console = await openConsole(browser, consoleUrl);
  t.teardown(() => console.context.close());
  const { page } = console;
  page.setDefaultTimeout(15_000);
  const response = await page.goto("/");
  t.equal(response?.status(), 200);
  t.equal(await response?.headerValue("strict-transport-security"), "max-age=31536000", "HSTS");
  const security = await response?.securityDetails();
  t.equal(security?.issuer, "SOS test CA", "served with the team CA's certificate");
  await signIn(page, technician.email, PASSWORD);
  const { pin, link } = await createSessionInDialog(page, "Printer");
  t.match(link, new RegExp(`^${consoleUrl}/s/`), "the link is on the https address");
  await rowStatus(page, "Printer", "Waiting");
  const agent = await joinAgent(consoleUrl, { kind: "pin", pin: pin.replaceAll(" ", "") });
  t.teardown(() => agent.socket.close());
  await rowStatus(page, "Printer", "Active");
  t.same(console.errors, [], "no errors in the page");
}

t.test("the gateway serving https itself: sign in, live Service Desk over wss", async (t) => {
  const gw = await startTestGateway({
    config: { tls: { certFile: certificate.certFile, keyFile: certificate.keyFile } },
  });
  t.teardown(() => gw.close());
  await workingConsole(t, gw, gw.gateway.publicUrl);
});

t.test("nginx in front: sign in, live Service Desk over wss through the proxy", async (t) => {
  const httpsPort = await freePort();
  const publicUrl = `https://localhost:${httpsPort}`;
  const gw = await startTestGateway({ config: { publicUrl, trustProxy: ["127.0.0.1"] } });
  t.teardown(() => gw.close());
  const nginxDir = await mkdtemp(join(dir, "nginx-"));
  const nginx = await startNginx(nginxDir, {
    serverName: "localhost",
    httpListen: `127.0.0.1:${await freePort()}`,
    httpsListen: `127.0.0.1:${httpsPort}`,
    cert: certificate.certFile,
    key: certificate.keyFile,
    gateway: new URL(gw.url).host,
    publicUrl,
  });
  t.teardown(() => nginx.stop());
  await workingConsole(t, gw, publicUrl);
});

t.test("a browser that does not trust the CA gets a certificate error, not the console", async (t) => {
  const gw = await startTestGateway({
    config: { tls: { certFile: certificate.certFile, keyFile: certificate.keyFile } },
  });
  t.teardown(() => gw.close());
  const stranger = await launchChromium("stranger");
  t.teardown(() => stranger.close());
  const page = await stranger.newPage();
  await t.rejects(page.goto(gw.gateway.publicUrl), /ERR_CERT_AUTHORITY_INVALID/);
});
