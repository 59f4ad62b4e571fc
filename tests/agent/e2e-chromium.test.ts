/**
 * The agent's video and input with a browser as the technician: headless Chromium (Debian's, driven
 * by playwright-core) answers the agent's offer through the real gateway, decodes the stream, and
 * sends input on the control channel.
 */
import type { Page } from "playwright-core";
import t, { type Test } from "tap";
import { gatewayToConsoleSchema } from "../../shared/console-protocol.ts";
import type { TechnicianControl } from "../../shared/control.ts";
import { decodeMessage } from "../../shared/decode.ts";
import type { SignalData } from "../../shared/signal.ts";
import { launchBrowser } from "../helpers/browser.ts";
import { colouredWindow, pointerLocation, startXvfb, waitUntil } from "../helpers/xvfb.ts";
import { agentJoined, type Desk, openDesk, permission, requestPermission, runAgent } from "./e2e-support.ts";

type Inbound = { framesDecoded: number; frameWidth: number; frameHeight: number; codec: string };

type BrowserTechnician = {
  handle(data: SignalData): Promise<void>;
  send(message: TechnicianControl): void;
  inbound(): Promise<Inbound | undefined>;
  channelOpen(): boolean;
};

declare global {
  interface Window {
    technician?: BrowserTechnician;
    toGateway?: (data: SignalData) => Promise<void>;
  }
}

/** Runs in the page: the technician's RTCPeerConnection, answering the agent's offer. */
function installTechnician(): void {
  const pc = new RTCPeerConnection();
  let channel: RTCDataChannel | undefined;
  pc.ondatachannel = (event) => {
    channel = event.channel;
  };
  pc.onicecandidate = (event) => {
    if (event.candidate === null || event.candidate.candidate === "") return;
    void window.toGateway?.({
      kind: "candidate",
      candidate: event.candidate.candidate,
      sdpMid: event.candidate.sdpMid,
      sdpMLineIndex: event.candidate.sdpMLineIndex,
    });
  };
  window.technician = {
    async handle(data) {
      if (data.kind === "candidate") {
        await pc.addIceCandidate({
          candidate: data.candidate,
          sdpMid: data.sdpMid,
          sdpMLineIndex: data.sdpMLineIndex,
        });
        return;
      }
      await pc.setRemoteDescription({ type: data.type, sdp: data.sdp });
      const answer = await pc.createAnswer();
      await pc.setLocalDescription(answer);
      await window.toGateway?.({ kind: "description", type: "answer", sdp: answer.sdp ?? "" });
    },
    send(message) {
      channel?.send(JSON.stringify(message));
    },
    channelOpen() {
      return channel?.readyState === "open";
    },
    async inbound() {
      const report = await pc.getStats();
      let found: Inbound | undefined;
      report.forEach((stat) => {
        if (stat.type === "inbound-rtp" && stat.kind === "video") {
          const codec = report.get(stat.codecId);
          found = {
            framesDecoded: stat.framesDecoded ?? 0,
            frameWidth: stat.frameWidth ?? 0,
            frameHeight: stat.frameHeight ?? 0,
            codec: codec === undefined ? "" : `${codec.mimeType} ${codec.sdpFmtpLine ?? ""}`,
          };
        }
      });
      return found;
    },
  };
}

async function openBrowserTechnician(t: Test, desk: Desk): Promise<Page> {
  const browser = await launchBrowser();
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  await page.exposeFunction("toGateway", (data: SignalData) =>
    desk.console.send({ type: "signal", sessionId: desk.session.id, data }),
  );
  await page.evaluate(installTechnician);
  desk.console.socket.on("message", (raw: Buffer) => {
    const decoded = decodeMessage(gatewayToConsoleSchema, raw.toString());
    if (decoded.ok && decoded.value.type === "remote.signal") {
      const data = decoded.value.data;
      void page.evaluate((signal) => window.technician?.handle(signal), data);
    }
  });
  desk.console.send({ type: "remote.connect", sessionId: desk.session.id });
  await desk.console.next("remote.opened", undefined, 15_000);
  return page;
}

const inbound = (page: Page) => page.evaluate(() => window.technician?.inbound());

const xvfb = await startXvfb({ width: 1280, height: 720 });
t.teardown(() => xvfb.stop());
await colouredWindow(xvfb, { x: 100, y: 100, width: 300, height: 200, colour: "red", name: "sos-red" });

for (const codec of ["h264", "vp8"] as const) {
  t.test(
    `${codec}: Chromium decodes the agent's screen at its size, and its pointer lands on the display`,
    async (t) => {
      const desk = await openDesk(t);
      const agent = runAgent(t, xvfb, [desk.session.pin, "--gateway", desk.gw.url, "--codec", codec]);
      await agentJoined(desk);
      await requestPermission(desk.alice.client, desk.session.id);
      await agent.line(/asks to SEE and CONTROL/);
      agent.type("y");
      await permission(desk.console, desk.session.id, desk.alice.id, "granted");
      const page = await openBrowserTechnician(t, desk);

      let stats: Inbound | undefined;
      await waitUntil(
        async () => {
          stats = await inbound(page);
          // frameWidth shows up in the stats a moment after the first decoded frame.
          return (stats?.framesDecoded ?? 0) >= 1 && (stats?.frameWidth ?? 0) > 0;
        },
        20_000,
        "a decoded frame in Chromium",
      );
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
