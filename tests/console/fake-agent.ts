import type { Browser, BrowserContext, Page } from "playwright-core";
import { type GatewayToAgent, gatewayToAgentSchema } from "../../shared/agent-protocol.ts";
import type { MonitorInfo, TechnicianControl } from "../../shared/control.ts";
import { decodeMessage } from "../../shared/decode.ts";
import type { SignalData } from "../../shared/signal.ts";
import type { AccessMode } from "../../shared/status.ts";
import { joinAgent } from "../helpers/gateway.ts";

/**
 * A stand-in for the SOS agent's media side, for testing the console's remote view: it joins over
 * the real agent socket, and for each peer the gateway opens it makes a real WebRTC offer from a
 * second Chromium page (an animated canvas as the screen, the `control` data channel), relaying
 * signaling through the gateway exactly as the agent does. The real agent has its own e2e tests.
 */

export const SCREEN = { width: 640, height: 360 };
export const MONITORS: MonitorInfo[] = [
  { index: 0, name: "Screen 1", width: 640, height: 360, primary: true },
  { index: 1, name: "Screen 2", width: 1280, height: 720, primary: false },
];

type PeerApi = {
  open(peerId: string, access: AccessMode, monitors: MonitorInfo[]): Promise<void>;
  signal(peerId: string, data: SignalData): Promise<void>;
  close(peerId: string): void;
  send(peerId: string, message: unknown): void;
  /** Sends an ICE-restart offer on the peer's existing connection, as the agent does when its path fails. */
  restartIce(peerId: string): Promise<void>;
  /** The peer's ICE state and the technician's current ICE username fragment (it changes on a restart). */
  ice(peerId: string): { state: RTCIceConnectionState; remoteUfrag: string | null } | null;
  received: Record<string, TechnicianControl[]>;
};

declare global {
  interface Window {
    fakeAgent?: PeerApi;
    fakeAgentSignal?: (peerId: string, data: SignalData) => Promise<void>;
  }
}

/** Runs in the agent page: one RTCPeerConnection per technician peer, offering canvas video. */
function installPeers(screen: { width: number; height: number }): void {
  const canvas = document.createElement("canvas");
  canvas.width = screen.width;
  canvas.height = screen.height;
  document.body.append(canvas);
  const paint = canvas.getContext("2d");
  let frame = 0;
  // A plain desktop: wallpaper, a window with a few lines of text, a taskbar with a clock, and a
  // block moving in the window so that frames keep coming.
  const draw = (): void => {
    frame += 1;
    if (paint === null) return;
    const { width, height } = canvas;
    const unit = height / 36;
    paint.fillStyle = "#2f5d8a";
    paint.fillRect(0, 0, width, height);
    paint.fillStyle = "#1b2733";
    paint.fillRect(0, height - 2 * unit, width, 2 * unit);
    paint.fillStyle = "#e8eef4";
    paint.font = `${unit}px sans-serif`;
    paint.fillText(`12:${String(frame % 60).padStart(2, "0")}`, width - 5 * unit, height - 0.6 * unit);
    const win = { x: width * 0.12, y: height * 0.1, w: width * 0.6, h: height * 0.62 };
    paint.fillStyle = "#ffffff";
    paint.fillRect(win.x, win.y, win.w, win.h);
    paint.fillStyle = "#3c4a58";
    paint.fillRect(win.x, win.y, win.w, 1.6 * unit);
    paint.fillStyle = "#ffffff";
    paint.fillText("Mail – Inbox", win.x + unit * 0.6, win.y + unit * 1.15);
    paint.fillStyle = "#34404c";
    const lines = ["Printer offline (error 0x0000011b)", "Re: VPN does not connect", "Your ticket #4711"];
    for (const [index, line] of lines.entries())
      paint.fillText(line, win.x + unit, win.y + (4 + 2 * index) * unit);
    paint.fillStyle = "#d9534f";
    paint.fillRect(
      win.x + unit + ((frame * 3) % (win.w - 4 * unit)),
      win.y + win.h - 4 * unit,
      2 * unit,
      2 * unit,
    );
  };
  setInterval(draw, 40);
  draw();
  const stream = canvas.captureStream(25);
  const peers = new Map<string, { pc: RTCPeerConnection; channel: RTCDataChannel }>();
  const received: Record<string, TechnicianControl[]> = {};
  window.fakeAgent = {
    received,
    async open(peerId, access, monitors) {
      const pc = new RTCPeerConnection();
      const channel = pc.createDataChannel("control");
      received[peerId] = [];
      channel.onmessage = (event) => received[peerId]?.push(JSON.parse(String(event.data)));
      channel.onopen = () => channel.send(JSON.stringify({ type: "state", access, monitors, monitor: 0 }));
      for (const track of stream.getVideoTracks())
        pc.addTransceiver(track, { direction: "sendonly", streams: [stream] });
      pc.onicecandidate = (event) => {
        if (event.candidate !== null && event.candidate.candidate !== "") {
          void window.fakeAgentSignal?.(peerId, {
            kind: "candidate",
            candidate: event.candidate.candidate,
            sdpMid: event.candidate.sdpMid,
            sdpMLineIndex: event.candidate.sdpMLineIndex,
          });
        }
      };
      peers.set(peerId, { pc, channel });
      const offer = await pc.createOffer();
      await pc.setLocalDescription(offer);
      await window.fakeAgentSignal?.(peerId, { kind: "description", type: "offer", sdp: offer.sdp ?? "" });
    },
    async signal(peerId, data) {
      const pc = peers.get(peerId)?.pc;
      if (pc === undefined) return;
      if (data.kind === "description") await pc.setRemoteDescription({ type: data.type, sdp: data.sdp });
      else
        await pc.addIceCandidate({
          candidate: data.candidate,
          sdpMid: data.sdpMid,
          sdpMLineIndex: data.sdpMLineIndex,
        });
    },
    close(peerId) {
      peers.get(peerId)?.pc.close();
      peers.delete(peerId);
    },
    send(peerId, message) {
      const channel = peers.get(peerId)?.channel;
      if (channel?.readyState === "open") channel.send(JSON.stringify(message));
    },
    async restartIce(peerId) {
      const pc = peers.get(peerId)?.pc;
      if (pc === undefined) return;
      const offer = await pc.createOffer({ iceRestart: true });
      await pc.setLocalDescription(offer);
      await window.fakeAgentSignal?.(peerId, { kind: "description", type: "offer", sdp: offer.sdp ?? "" });
    },
    ice(peerId) {
      const pc = peers.get(peerId)?.pc;
      if (pc === undefined) return null;
      const ufrag = /a=ice-ufrag:(\S+)/.exec(pc.remoteDescription?.sdp ?? "")?.[1] ?? null;
      return { state: pc.iceConnectionState, remoteUfrag: ufrag };
    },
  };
}

export type FakeAgent = {
  socket: Awaited<ReturnType<typeof joinAgent>>["socket"];
  page: Page;
  /** Peer ids the gateway opened, by technician name, newest last. */
  peers: Array<{ peerId: string; technician: string; access: AccessMode }>;
  /** Control messages received on a peer's channel so far. */
  received(peerId: string): Promise<TechnicianControl[]>;
  /** Waits until a peer's channel received a message matching `match`. */
  waitFor(
    peerId: string,
    match: (message: TechnicianControl) => boolean,
    timeoutMs?: number,
  ): Promise<TechnicianControl>;
  send(peerId: string, message: unknown): Promise<void>;
  /**
   * Restarts ICE on the peer's connection (a new offer through the gateway, answered on the same
   * technician connection) and resolves once ICE is connected again with the technician's new
   * credentials.
   */
  restartIce(peerId: string): Promise<void>;
  /** The technician's newest peer, waiting for one that is not `except`. */
  peerOf(technician: string, except?: string): Promise<string>;
  close(): Promise<void>;
};

export async function startFakeAgent(
  browser: Browser,
  gatewayUrl: string,
  pin: string,
  screen: { width: number; height: number } = SCREEN,
): Promise<FakeAgent> {
  const context: BrowserContext = await browser.newContext();
  const page = await context.newPage();
  const { socket } = await joinAgent(
    gatewayUrl,
    { kind: "pin", pin },
    {
      hostname: "fake-host",
      os: "Test OS",
      user: "enduser",
      agentVersion: "test",
    },
  );
  await page.exposeFunction("fakeAgentSignal", async (peerId: string, data: SignalData) => {
    socket.send({ type: "signal", peerId, data });
  });
  await page.evaluate(installPeers, screen);
  const peers: FakeAgent["peers"] = [];
  const peerWaiters: Array<() => void> = [];
  socket.socket.on("message", (raw) => {
    const decoded = decodeMessage(gatewayToAgentSchema, raw.toString());
    if (!decoded.ok) return;
    const message: GatewayToAgent = decoded.value;
    if (message.type === "peer.open") {
      peers.push({ peerId: message.peerId, technician: message.technician.name, access: message.access });
      for (const wake of peerWaiters.splice(0)) wake();
      void page.evaluate(([peerId, access, monitors]) => window.fakeAgent?.open(peerId, access, monitors), [
        message.peerId,
        message.access,
        MONITORS,
      ] as const);
    } else if (message.type === "signal") {
      void page.evaluate(([peerId, data]) => window.fakeAgent?.signal(peerId, data), [
        message.peerId,
        message.data,
      ] as const);
    } else if (message.type === "peer.close") {
      void page.evaluate((peerId) => window.fakeAgent?.close(peerId), message.peerId);
    }
  });
  const received = (peerId: string) => page.evaluate((id) => window.fakeAgent?.received[id] ?? [], peerId);
  return {
    socket,
    page,
    peers,
    received,
    async waitFor(peerId, match, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      // Polls the page's record, driven by Playwright's own waiting (no fixed sleeps).
      while (Date.now() < deadline) {
        const seen = await received(peerId);
        const found = seen.find(match);
        if (found !== undefined) return found;
        await page.waitForFunction(
          ([id, count]) => (window.fakeAgent?.received[id]?.length ?? 0) > count,
          [peerId, seen.length] as const,
          { timeout: Math.max(1, deadline - Date.now()) },
        );
      }
      throw new Error(`no matching control message on ${peerId}`);
    },
    send: (peerId, message) =>
      page.evaluate(([id, m]) => window.fakeAgent?.send(id, m), [peerId, message] as const),
    async restartIce(peerId) {
      const before = await page.evaluate((id) => window.fakeAgent?.ice(id)?.remoteUfrag ?? null, peerId);
      await page.evaluate((id) => window.fakeAgent?.restartIce(id), peerId);
      await page.waitForFunction(
        ([id, old]) => {
          const ice = window.fakeAgent?.ice(id);
          return (
            ice !== null &&
            ice !== undefined &&
            ice.remoteUfrag !== old &&
            (ice.state === "connected" || ice.state === "completed")
          );
        },
        [peerId, before] as const,
        { timeout: 15_000 },
      );
    },
    async peerOf(technician, except) {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const peer = peers.filter((candidate) => candidate.technician === technician).at(-1);
        if (peer !== undefined && peer.peerId !== except) return peer.peerId;
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no new peer for ${technician}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          peerWaiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    },
    async close() {
      socket.close();
      await context.close();
    },
  };
}
