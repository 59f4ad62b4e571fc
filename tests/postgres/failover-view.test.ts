import t from "tap";
import { runAgent } from "../agent/e2e-support.ts";
import { createSessionInDialog, rowStatus, selectSession } from "../console/desk-page.ts";
import { launchBrowser, openConsole, signIn } from "../helpers/browser.ts";
import { ApiClient } from "../helpers/clients.ts";
import { type ClusterInstance, instanceLoad, startCluster } from "../helpers/cluster.ts";
import { inOrder, inputRecorder, startXvfb, waitUntil } from "../helpers/xvfb.ts";

/**
 * High availability as a technician meets it: three gateway instances on one PostgreSQL behind
 * nginx (`npm run cluster`), the real agent under Xvfb and the console in headless Chromium, both
 * through nginx. While the technician watches and controls, the instance holding the agent is
 * killed with SIGKILL, then the one holding the console: each reconnects to a survivor, the
 * session stays Active, the picture keeps coming and input still lands, and the end user is not
 * asked again.
 */

const SCREEN = { width: 800, height: 600 };
const xvfb = await startXvfb(SCREEN);
t.teardown(() => xvfb.stop());
const recorder = await inputRecorder(xvfb);
const browser = await launchBrowser();
t.teardown(() => browser.close());

t.test("a watched session survives kill -9 of its agent's and then its console's instance", async (t) => {
  const cluster = await startCluster(t, 3);
  t.equal(cluster.instances.length, 3, "three instances behind nginx");
  const admin = new ApiClient(cluster.lb);
  const setup = await admin.post("/api/setup", {
    token: cluster.setupToken,
    email: "admin@example.test",
    name: "Ada",
    password: "admin-password-1",
  });
  t.equal(setup.status, 200, "first admin created");

  const { page, errors } = await openConsole(browser, cluster.publicOrigin);
  page.setDefaultTimeout(20_000);
  await signIn(page, "admin@example.test", "admin-password-1");
  const { pin } = await createSessionInDialog(page, "Failover");
  const agent = runAgent(t, xvfb, [pin.replaceAll(" ", ""), "--gateway", cluster.publicOrigin]);
  await agent.line(/Waiting for your technician/);
  await rowStatus(page, "Failover", "Active");
  const panel = await selectSession(page, "Failover");
  await panel.getByRole("button", { name: "Start remote session" }).click();
  await agent.line(/Ada .* asks to SEE and CONTROL your screen/);
  agent.type("y");
  await panel.getByText("Permission granted: click to connect").waitFor();
  await panel.getByRole("button", { name: "Start remote session" }).click();
  const decoded = () =>
    page.evaluate(() => document.querySelector("video")?.getVideoPlaybackQuality().totalVideoFrames ?? 0);
  const framesBeyond = (count: number) =>
    page.waitForFunction(
      (frames) => (document.querySelector("video")?.getVideoPlaybackQuality().totalVideoFrames ?? 0) > frames,
      count,
      { timeout: 30_000 },
    );
  await framesBeyond(0);
  t.pass("the technician sees the end user's screen through nginx");

  const alive = new Set(cluster.instances);
  /** The live instance whose /healthz counts one of `what`. */
  const holderOf = async (what: "agents" | "consoles"): Promise<ClusterInstance> => {
    let found: ClusterInstance | undefined;
    await waitUntil(
      async () => {
        for (const instance of alive) {
          if ((await instanceLoad(instance))[what] >= 1) found = instance;
        }
        return found !== undefined;
      },
      20_000,
      `an instance holding the ${what}`,
    );
    if (found === undefined) throw new Error(`no instance holds the ${what}`);
    return found;
  };
  const kill = (instance: ClusterInstance) => {
    process.kill(instance.pid, "SIGKILL");
    alive.delete(instance);
  };
  const typed = async (key: "KeyA" | "KeyB", keysym: string) => {
    const from = recorder.events.length;
    await page.locator("video").click({ position: { x: 20, y: 20 } });
    await page.keyboard.press(key);
    await recorder.until((events) => inOrder(events.slice(from), [`down:${keysym}`, `up:${keysym}`]), 15_000);
  };

  // 1. The agent's instance dies (the console may be on it too).
  const agentHome = await holderOf("agents");
  kill(agentHome);
  const agentNewHome = await holderOf("agents");
  t.not(agentNewHome, agentHome, "the agent reconnected to a surviving instance");
  await framesBeyond(await decoded());
  t.pass("the picture keeps coming");
  await typed("KeyA", "a");
  t.pass("and the technician's keys still arrive");

  // 2. The console's instance dies (if step 1 already moved it, the one it moved to).
  const consoleHome = await holderOf("consoles");
  kill(consoleHome);
  await holderOf("consoles");
  await holderOf("agents");
  await framesBeyond(await decoded());
  await typed("KeyB", "b");
  t.pass("after the console's instance died too, the view is back and takes input");

  // The survivor declares both dead instances gone (heartbeats stop) and closes their old views
  // at the agent: that is not the technician leaving.
  const [survivor] = alive;
  await waitUntil(
    async () =>
      cluster
        .output()
        .split(`[${survivor?.n}] `)
        .filter((line) => line.includes("an instance is gone")).length >= 2,
    20_000,
    "the survivor declaring both instances gone",
  );
  t.notOk(
    agent.lines.some((line) => /Ada left/.test(line)),
    "the end user is not told the technician left when only her gateway instance changed",
  );
  t.equal((await admin.signIn("admin@example.test", "admin-password-1")).status, 200);
  const listed = (await admin.get("/api/sessions")).body as {
    sessions: { name: string; status: string; agent: { connected: boolean } }[];
  };
  const session = listed.sessions.find((s) => s.name === "Failover");
  t.equal(session?.status, "Active", "the session kept its status");
  t.equal(session?.agent.connected, true, "with its agent connected");
  t.equal(
    agent.lines.filter((line) => /asks to SEE and CONTROL/.test(line)).length,
    1,
    "the end user was asked once, not again after either failover",
  );
  t.same(errors, [], "no errors in the console");
});
