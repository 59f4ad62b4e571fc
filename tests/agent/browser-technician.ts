/**
 * A technician in headless Chromium (Debian's, driven by playwright-core): its RTCPeerConnection
 * answers the agent's offer, with signaling relayed through the gateway's console socket, and its
 * getStats() tells what was decoded.
 */
import type { Browser, Page } from "playwright-core";
import { gatewayToConsoleSchema } from "../../shared/console-protocol.ts";
import type { TechnicianControl } from "../../shared/control.ts";
import { decodeMessage } from "../../shared/decode.ts";
import type { SignalData } from "../../shared/signal.ts";
import { launchBrowser } from "../helpers/browser.ts";
import { waitUntil } from "../helpers/xvfb.ts";
import type { Desk, Teardown } from "./e2e-support.ts";

export type Inbound = {
  framesDecoded: number;
  frameWidth: number;
  frameHeight: number;
  codec: string;
  /** Counters for a failure message. */
  detail?: string;
};

type BrowserTechnician = {
  handle(data: SignalData): Promise<void>;
  send(message: TechnicianControl): void;
  inbound(): Promise<Inbound | undefined>;
  /** When the first frame was painted in the page's video element (ms since the epoch). */
  firstFrameAt(): Promise<number>;
  channelOpen(): boolean;
  /** The agent's control messages so far (parsed, not validated: the test checks them). */
  received(): unknown[];
};

declare global {
  interface Window {
    technician?: BrowserTechnician;
    toGateway?: (data: SignalData) => Promise<void>;
  }
}

/**
 * What the technician's browser decodes, to stand in for browsers other than Chromium: `mimeType`
 * and, if given, a part its fmtp line must contain ("profile-level-id=42e01f": constrained
 * baseline only, as Firefox with OpenH264). Chromium answers with these codecs only.
 */
export type Decodes = readonly { readonly mimeType: string; readonly fmtp?: string }[];

/** Runs in the page: the technician's RTCPeerConnection, answering the agent's offer. */
function installTechnician(decodes: Decodes | null): void {
  const pc = new RTCPeerConnection();
  let channel: RTCDataChannel | undefined;
  const received: unknown[] = [];
  pc.ondatachannel = (event) => {
    // The agent also opens `files`; this technician speaks on `control` (CONTROL_CHANNEL_LABEL) only.
    if (event.channel.label !== "control") return;
    channel = event.channel;
    channel.onmessage = (message) => {
      if (typeof message.data === "string") received.push(JSON.parse(message.data));
    };
  };
  // The picture goes to a video element, as in the console; its first painted frame is when the
  // technician sees the screen.
  const video = document.createElement("video");
  video.muted = true;
  video.autoplay = true;
  document.body.append(video);
  const firstFrame = new Promise<number>((resolve) => {
    video.requestVideoFrameCallback(() => resolve(performance.timeOrigin + performance.now()));
  });
  pc.ontrack = (event) => {
    video.srcObject = event.streams[0] ?? new MediaStream([event.track]);
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
      if (decodes !== null) {
        const codecs = (RTCRtpReceiver.getCapabilities("video")?.codecs ?? []).filter((codec) =>
          decodes.some(
            (d) =>
              d.mimeType === codec.mimeType && (d.fmtp === undefined || codec.sdpFmtpLine?.includes(d.fmtp)),
          ),
        );
        for (const transceiver of pc.getTransceivers()) transceiver.setCodecPreferences(codecs);
      }
      const answer = await pc.createAnswer();
      await pc.setLocalDescription(answer);
      await window.toGateway?.({ kind: "description", type: "answer", sdp: answer.sdp ?? "" });
    },
    send(message) {
      channel?.send(JSON.stringify(message));
    },
    firstFrameAt() {
      return firstFrame;
    },
    channelOpen() {
      return channel?.readyState === "open";
    },
    received() {
      return received;
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
            detail: `received ${stat.framesReceived} key ${stat.keyFramesDecoded} pli ${stat.pliCount} fir ${stat.firCount} packets ${stat.packetsReceived} lost ${stat.packetsLost} dropped ${stat.framesDropped} impl ${stat.decoderImplementation}`,
          };
        }
      });
      return found;
    },
  };
}

/**
 * A Chromium page ready to be the technician of `desk`'s session (in `shared`, or in a browser
 * started here, so a measurement can begin after it); connect() opens the remote view.
 */
export async function browserTechnician(
  t: Teardown,
  desk: Desk,
  shared?: Browser,
  decodes?: Decodes,
): Promise<{ page: Page; connect(): Promise<void> }> {
  let browser = shared;
  if (browser === undefined) {
    const own = await launchBrowser();
    t.teardown(() => own.close());
    browser = own;
  }
  const page = await browser.newPage();
  t.teardown(() => page.close());
  const sessionId = desk.session.id;
  await page.exposeFunction("toGateway", (data: SignalData) =>
    desk.console.send({ type: "signal", sessionId, data }),
  );
  await page.evaluate(installTechnician, decodes ?? null);
  const relay = (raw: Buffer) => {
    const decoded = decodeMessage(gatewayToConsoleSchema, raw.toString());
    if (decoded.ok && decoded.value.type === "remote.signal" && decoded.value.sessionId === sessionId) {
      const data = decoded.value.data;
      // The agent's files connection is not the view's; this technician moves no files.
      if (data.peer === "files") return;
      void page.evaluate((signal) => window.technician?.handle(signal), data);
    }
  };
  desk.console.socket.on("message", relay);
  t.teardown(() => void desk.console.socket.off("message", relay));
  return {
    page,
    async connect() {
      desk.console.send({ type: "remote.connect", sessionId });
      await desk.console.next("remote.opened", (m) => m.sessionId === sessionId, 15_000);
    },
  };
}

export const inbound = (page: Page) => page.evaluate(() => window.technician?.inbound());

/** Resolves with the epoch time (ms) at which the page painted its first video frame. */
export const firstFrameAt = (page: Page) =>
  page.evaluate(() => window.technician?.firstFrameAt() ?? Promise.reject(new Error("no technician")));

/**
 * Waits until the page has decoded a frame (its size is in the stats a moment after), in a codec
 * matching `codec` if given; resolves with the stats, or fails with the last ones seen.
 */
export async function decodedFrame(
  page: Page,
  timeoutMs: number,
  what = "a decoded frame in Chromium",
  codec?: RegExp,
): Promise<Inbound> {
  let last: Inbound | undefined;
  await waitUntil(
    async () => {
      last = await inbound(page);
      const decoded = (last?.framesDecoded ?? 0) >= 1 && (last?.frameWidth ?? 0) > 0;
      return decoded && (codec === undefined || codec.test(last?.codec ?? ""));
    },
    timeoutMs,
    what,
  ).catch((error: unknown) => {
    throw new Error(`${String(error)}; last stats ${JSON.stringify(last)}`);
  });
  if (last === undefined) throw new Error(`no stats for ${what}`);
  return last;
}
