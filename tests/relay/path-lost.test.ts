/**
 * A path dead for 30 s ends cleanly with a reason both sides show (needs root: ip netns,
 * iptables). RFC 7675 consent freshness as agent/README.md ("Recovery") describes it, with the
 * agent's real timeouts (agent/peer/path-watch.ts PATH_DEFAULTS: ICE restart after 12 s of
 * silence, the end after 30 s), so the case takes about 35 s. Three hosts on the test bridge
 * (198.18.87.0/24, tests/helpers/netns.ts), nothing else reachable:
 * - `gw`: the real gateway (`signaling/cli.ts`) without ICE servers or TURN: no relay to block;
 * - `agent`: the real `sos` agent on an Xvfb display started outside the namespace;
 * - `tech`: headless Chromium with the console (a wrapper runs it under `ip netns exec`), signed
 *   in as the gateway's first admin.
 * The session connects directly; then every packet between agent and technician is dropped for
 * good, while both still reach the gateway.
 */
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium } from "playwright-core";
import t from "tap";
import { PATH_DEFAULTS } from "../../agent/peer/path-watch.ts";
import { auditListSchema } from "../../shared/api.ts";
import { codesEn } from "../../signaling/console/lib/codes.en.ts";
import { en as messagesEn } from "../../signaling/console/lib/messages.en.ts";
import { createSessionInDialog, rowStatus, selectSession } from "../console/desk-page.ts";
import { CHROMIUM_ARGS, CHROMIUM_PATH, signIn } from "../helpers/browser.ts";
import { createTestNetwork, requireRoot, type TestNetwork } from "../helpers/netns.ts";
import { startXvfb, type Xvfb } from "../helpers/xvfb.ts";
import { runAgentIn, startGatewayIn } from "./namespace-session.ts";

requireRoot("tests/relay/path-lost.test.ts");

type Hosts = "gw" | "agent" | "tech";
const SCREEN = { width: 1280, height: 720 };
const PORT = 8080;
const ADMIN = { email: "admin@example.test", password: "admin-password-1", name: "Ada Admin" };
const CONSENT_S = PATH_DEFAULTS.consent / 1000;
/**
 * From the cut to the agent's "lost" line: the consent timeout counts from the last consent
 * response, up to one check interval (4-6 s) before the cut, and the agent looks once a second;
 * a loaded machine adds a few seconds. The brief's window: about 35-45 s.
 */
/** werift checks consent every 4-6 s: the last answer before the cut came at most this long before it. */
const CONSENT_CHECK_MAX_MS = 6_000;
const LOST_WITHIN_MS = 45_000;

let net: TestNetwork<Hosts>;
let dir: string;
let xvfb: Xvfb | undefined;
let browser: Browser | undefined;
let gatewayUrl = "";
const gatewayExits: Array<() => void> = [];

t.before(async () => {
  net = await createTestNetwork<Hosts>(["gw", "agent", "tech"]);
  dir = await mkdtemp(join(tmpdir(), "sos-path-lost-"));
  const wrapper = join(dir, "chromium-in-tech.sh");
  await writeFile(
    wrapper,
    `#!/bin/sh\nHOME='${join(dir, "tech-home")}' exec ip netns exec '${net.hosts.tech.ns}' '${CHROMIUM_PATH}' "$@"\n`,
  );
  await chmod(wrapper, 0o755);
  // Independent of each other: started together.
  const started = await Promise.allSettled([
    startGatewayIn(net, "gw", { dir, port: PORT, admin: ADMIN }).then((gateway) => {
      gatewayExits.push(() => gateway.child.exitCode === null && gateway.child.kill("SIGTERM"));
      gatewayUrl = gateway.url;
    }),
    startXvfb(SCREEN).then((display) => {
      xvfb = display;
    }),
    chromium.launch({ executablePath: wrapper, args: CHROMIUM_ARGS, headless: true }).then((launched) => {
      browser = launched;
    }),
  ]);
  for (const outcome of started) if (outcome.status === "rejected") throw outcome.reason;
});

t.teardown(async () => {
  await browser?.close();
  for (const stop of gatewayExits) stop();
  await net?.teardown();
  await xvfb?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

t.test(
  "a path dead for 30 s ends the view: Reconnecting… first, then the agent says it is lost and sends consent_expired, and the console says path_lost (root, network namespaces)",
  async (t) => {
    if (browser === undefined || xvfb === undefined) throw new Error("set-up failed");
    const context = await browser.newContext({
      baseURL: gatewayUrl,
      locale: "en-US",
      viewport: { width: 1400, height: 900 },
    });
    t.teardown(() => context.close());
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    // What the gateway tells this console, as it arrives.
    const received: unknown[] = [];
    page.on("websocket", (socket) =>
      socket.on("framereceived", ({ payload }) => {
        try {
          received.push(JSON.parse(payload.toString()));
        } catch {
          // not JSON: not a protocol message
        }
      }),
    );
    await page.goto("/");
    await signIn(page, ADMIN.email, ADMIN.password);
    const name = "Path dies";
    const { pin } = await createSessionInDialog(page, name);
    const agent = runAgentIn(t, net, "agent", { xvfb, gatewayUrl, pin: pin.replaceAll(" ", "") });
    try {
      await agent.line(/Waiting for your technician/);
      await rowStatus(page, name, "Active");
      const panel = await selectSession(page, name);
      await panel.getByRole("button", { name: "Start remote session" }).click();
      await agent.line(/asks to SEE and CONTROL your screen/);
      agent.child.stdin?.write("y\n");
      await panel.getByText("Permission granted: click to connect").waitFor();
      await panel.getByRole("button", { name: "Start remote session" }).click();
      await page.waitForFunction(
        ([width, height]) => {
          const video = document.querySelector("video");
          return (
            video !== null &&
            video.videoWidth === width &&
            video.videoHeight === height &&
            video.getVideoPlaybackQuality().totalVideoFrames > 0
          );
        },
        [SCREEN.width, SCREEN.height] as const,
        { timeout: 60_000 },
      );
      const quality = page.getByRole("status", { name: "Connection quality" });
      await quality.getByText(/ · direct$/).waitFor();
      t.pass("the session is connected directly and the picture decodes");

      await net.blockBetween("agent", "tech");
      const cutAt = performance.now();
      const seconds = () => ((performance.now() - cutAt) / 1000).toFixed(1);

      await page.getByText(messagesEn["remote.reconnecting"]).waitFor({ timeout: 30_000 });
      t.pass(`the console shows "${messagesEn["remote.reconnecting"]}" (${seconds()} s after the cut)`);
      await agent.line(/Connection to Ada Admin interrupted\. Reconnecting \.\.\./, 30_000);
      t.pass(`the agent tells the end user it is reconnecting (${seconds()} s)`);

      const lost = await agent.line(/^Connection to Ada Admin lost/, LOST_WITHIN_MS);
      const lostAfterMs = performance.now() - cutAt;
      t.equal(
        lost,
        `Connection to Ada Admin lost: no answer for ${CONSENT_S} s. Nobody sees your screen.`,
        "the agent tells the end user the connection is lost, and why",
      );
      // The 30 s run from the last answer heard, which came up to one consent check (werift sends
      // one every 4-6 s) before the cut.
      t.ok(
        lostAfterMs >= PATH_DEFAULTS.consent - CONSENT_CHECK_MAX_MS && lostAfterMs <= LOST_WITHIN_MS,
        `lost ${(lostAfterMs / 1000).toFixed(1)} s after the cut: not before the consent timeout (${CONSENT_S} s from the last answer, at most ${CONSENT_CHECK_MAX_MS / 1000} s before the cut), within ${LOST_WITHIN_MS / 1000} s`,
      );
      const closed = await agent.log(
        (entry) => entry.msg === "peer closed" && entry.reason === "consent_expired",
        "peer closed, consent_expired",
        5_000,
      );
      t.pass(
        `the agent closed the peer with the reason consent_expired and told the gateway (peer ${String(closed.peerId)})`,
      );

      await page.getByText(codesEn["remote.closed.path_lost"]).waitFor({ timeout: 15_000 });
      t.pass(`the console shows "${codesEn["remote.closed.path_lost"]}" (${seconds()} s after the cut)`);
      t.ok(
        received.some(
          (message) =>
            typeof message === "object" &&
            message !== null &&
            "type" in message &&
            message.type === "remote.closed" &&
            "reason" in message &&
            message.reason === "path_lost",
        ),
        "the gateway told the console remote.closed with the reason path_lost",
      );
      t.notOk(await page.getByText(messagesEn["remote.reconnecting"]).isVisible(), "Reconnecting… is gone");

      const sessionId = /#\/remote\/([^/]+)$/.exec(page.url())?.[1];
      if (sessionId === undefined) throw new Error(`not a remote view: ${page.url()}`);
      const answer = await page.evaluate(async (query) => {
        const response = await fetch(`/api/audit?${query}`);
        return { status: response.status, text: await response.text() };
      }, `sessionId=${sessionId}&action=session.remote_disconnected`);
      t.equal(answer.status, 200, `the audit log answers${answer.status === 200 ? "" : `: ${answer.text}`}`);
      const audit = auditListSchema.parse(JSON.parse(answer.text));
      t.same(
        audit.entries.map((entry) => entry.detail.reason),
        ["path_lost"],
        "the audit log records the view's end once, as path_lost",
      );
      t.equal(agent.child.exitCode, null, "the agent stays in the session, ready for a new view");

      await net.resetFirewall("agent");
      await net.resetFirewall("tech");
      agent.child.stdin?.write("q\n");
      t.equal(await agent.exited, 0, "the end user ends the session; the agent exits normally");
    } catch (error) {
      const stage = await page
        .locator(".stage-message, .quality")
        .allTextContents()
        .catch(() => []);
      t.comment(`console: ${stage.join(" | ")}\nagent:\n${agent.output().split("\n").slice(-40).join("\n")}`);
      throw error;
    }
  },
);
