/**
 * The agent's video and input with a browser as the technician: headless Chromium (Debian's, driven
 * by playwright-core) answers the agent's offer through the real gateway, decodes the stream, and
 * sends input on the control channel.
 */
import t from "tap";
import { launchBrowser } from "../helpers/browser.ts";
import { openConsoleSocket } from "../helpers/clients.ts";
import { colouredWindow, pointerLocation, startXvfb, waitUntil } from "../helpers/xvfb.ts";
import { browserTechnician, type Decodes, decodedFrame, inbound } from "./browser-technician.ts";
import { agentAsked, openDesk, permission, requestPermission } from "./e2e-support.ts";

const xvfb = await startXvfb({ width: 1280, height: 720 });
t.teardown(() => xvfb.stop());
await colouredWindow(xvfb, { x: 100, y: 100, width: 300, height: 200, colour: "red", name: "sos-red" });

for (const codec of ["h264", "vp8"] as const) {
  t.test(
    `${codec}: Chromium decodes the agent's screen at its size, and its pointer lands on the display`,
    async (t) => {
      const desk = await openDesk(t);
      const agent = await agentAsked(t, xvfb, desk, ["--codec", codec]);
      agent.type("y");
      await permission(desk.console, desk.session.id, desk.alice.id, "granted");
      const { page, connect } = await browserTechnician(t, desk);
      await connect();

      const stats = await decodedFrame(page, 20_000, "a decoded frame in Chromium");
      t.comment(`first stats: ${JSON.stringify(stats)}`);
      t.equal(stats?.frameWidth, 1280, "Chromium's frame has the screen's width");
      t.equal(stats?.frameHeight, 720, "and its height");
      t.match(stats?.codec, codec === "h264" ? /video\/H264/ : /video\/VP8/);
      t.comment(`negotiated ${stats?.codec}`);

      await waitUntil(
        async () => page.evaluate(() => window.technician?.channelOpen() === true),
        10_000,
        "control channel",
      );
      const before = stats?.framesDecoded ?? 0;
      await page.evaluate(() => window.technician?.send({ type: "pointer", x: 0.5, y: 0.25 }));
      await waitUntil(async () => {
        const at = await pointerLocation(xvfb);
        return at.x === 640 && at.y === 180;
      });
      // The screen changes (a window appears): Chromium decodes more frames.
      await colouredWindow(xvfb, {
        x: 700,
        y: 400,
        width: 200,
        height: 150,
        colour: "blue",
        name: `sos-blue-${codec}`,
      });
      await waitUntil(
        async () => ((await inbound(page))?.framesDecoded ?? 0) > before,
        10_000,
        "more frames decoded",
      );
      agent.type("q");
      t.equal((await agent.exited).code, 0);
    },
  );
}

const OTHER_BROWSERS: ReadonlyArray<{ who: string; decodes: Decodes }> = [
  { who: "a browser without H.264 (as Debian's Firefox ESR)", decodes: [{ mimeType: "video/VP8" }] },
  {
    who: "a browser that decodes only constrained-baseline H.264 (as Firefox with OpenH264)",
    decodes: [{ mimeType: "video/H264", fmtp: "profile-level-id=42e01f" }, { mimeType: "video/VP8" }],
  },
];
for (const { who, decodes } of OTHER_BROWSERS) {
  t.test(
    `${who} gets VP8 from the default agent (its encoder emits High profile) and decodes it`,
    async (t) => {
      const desk = await openDesk(t);
      const agent = await agentAsked(t, xvfb, desk, []);
      agent.type("y");
      await permission(desk.console, desk.session.id, desk.alice.id, "granted");
      const { page, connect } = await browserTechnician(t, desk, undefined, decodes);
      await connect();
      const stats = await decodedFrame(page, 20_000, "a decoded frame in Chromium");
      t.match(stats?.codec, /^video\/VP8/, "the stream is VP8");
      t.equal(stats?.frameWidth, 1280, "at the screen's size");
      agent.type("q");
      t.equal((await agent.exited).code, 0);
    },
  );
}

t.test(
  "a technician without H.264 joining a watched H.264 stream gets nothing and leaves the watcher undisturbed; once alone they get VP8",
  async (t) => {
    const desk = await openDesk(t);
    const agent = await agentAsked(t, xvfb, desk, []);
    agent.type("y");
    await permission(desk.console, desk.session.id, desk.alice.id, "granted");
    const browser = await launchBrowser();
    t.teardown(() => browser.close());
    const alice = await browserTechnician(t, desk, browser);
    await alice.connect();
    await decodedFrame(alice.page, 20_000, "Alice decodes H.264", /^video\/H264/);

    const bob = await desk.gw.technician("Bob");
    const invited = await desk.alice.client.post(`/api/sessions/${desk.session.id}/invite`, {
      technicianIds: [bob.id],
    });
    t.equal(invited.status, 200);
    const bobConsole = await openConsoleSocket(bob.client);
    t.teardown(() => bobConsole.close());
    await requestPermission(bob.client, desk.session.id);
    await agent.line(/Bob \(Acme IT\) asks to SEE and CONTROL your screen/);
    agent.type("y");
    await permission(bobConsole, desk.session.id, bob.id, "granted");
    const vp8Only: Decodes = [{ mimeType: "video/VP8" }];
    const bobView = await browserTechnician(t, { ...desk, console: bobConsole }, browser, vp8Only);
    await bobView.connect();
    await waitUntil(
      async () => (await bobView.page.evaluate(() => window.technician?.channelOpen())) === true,
      15_000,
      "Bob's connection",
    );
    const before = (await inbound(alice.page))?.framesDecoded ?? 0;
    await colouredWindow(xvfb, {
      x: 600,
      y: 100,
      width: 120,
      height: 90,
      colour: "green",
      name: "sos-mixed-1",
    });
    await waitUntil(
      async () => ((await inbound(alice.page))?.framesDecoded ?? 0) > before,
      10_000,
      "Alice still decodes changes, in H.264",
    );
    t.match((await inbound(alice.page))?.codec, /^video\/H264/, "Alice's stream did not change codec");
    t.equal((await inbound(bobView.page))?.framesDecoded ?? 0, 0, "Bob is sent nothing he cannot decode");

    desk.console.send({ type: "remote.disconnect", sessionId: desk.session.id });
    await decodedFrame(bobView.page, 20_000, "Bob decodes VP8 once Alice left", /^video\/VP8/);
    agent.type("q");
    t.equal((await agent.exited).code, 0);
  },
);
