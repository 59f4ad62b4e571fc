/**
 * `node scripts/probe-codec-browser.ts [av1|vp9]`: does a browser decode what werift sends in that
 * codec? A probe (not a test): FFmpeg (the system's, libaom-av1 realtime or libvpx-vp9 realtime,
 * no lookahead) encodes 60 frames of a test pattern at 1280x720; a werift RTCPeerConnection
 * offering only that codec sends them, packetized by werift's Av1Packetizer / Vp9Packetizer, 50 ms
 * apart, to headless Chromium (Debian's, playwright-core) and then to headless Firefox ESR
 * (puppeteer-core over WebDriver BiDi), which answer; each browser's getStats() tells the codec it
 * negotiated, the frames it decoded and their size, before the media, halfway and at the end.
 * Prints one JSON line per browser.
 */
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import puppeteer from "puppeteer-core";
import {
  Av1Packetizer,
  type RtpPacket,
  useAV1,
  useVP9,
  Vp9Packetizer,
  RTCPeerConnection as WeriftPeerConnection,
} from "werift";
import { launchBrowser } from "../tests/helpers/browser.ts";

const CODEC = process.argv[2] ?? "av1";
if (CODEC !== "av1" && CODEC !== "vp9") throw new Error("codec: av1 or vp9");
const FRAMES = 60;

async function encode(): Promise<Buffer[]> {
  // PROBE_AV1=svt: SVT-AV1 (low delay) instead of libaom, to tell the encoder's part from werift's.
  const aom = [
    "-c:v",
    "libaom-av1",
    "-usage",
    "realtime",
    "-aom-params",
    "cpu-used=10",
    "-lag-in-frames",
    "0",
  ];
  // PROBE_AV1=aom-screen: the settings bench-encoder-quality found best for text (ff-aom-*-s8-plain).
  const aomScreen = [
    ...["-c:v", "libaom-av1", "-usage", "realtime", "-lag-in-frames", "0", "-aq-mode", "0"],
    ...["-aom-params", "tune-content=screen:cpu-used=8"],
  ];
  const svt = ["-c:v", "libsvtav1", "-preset", "12", "-svtav1-params", "pred-struct=1:lookahead=0"];
  const av1 = { svt, "aom-screen": aomScreen }[process.env.PROBE_AV1 ?? ""] ?? aom;
  const codecArgs =
    CODEC === "av1"
      ? av1
      : ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-lag-in-frames", "0"];
  const child = spawn("ffmpeg", [
    ...["-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=1280x720:rate=20"],
    ...["-frames:v", String(FRAMES), ...codecArgs, "-g", "250", "-b:v", "500k", "-f", "ivf", "pipe:1"],
  ]);
  const out: Buffer[] = [];
  child.stdout.on("data", (bytes: Buffer) => out.push(bytes));
  await new Promise((resolve) => child.on("close", resolve));
  const file = Buffer.concat(out);
  const frames: Buffer[] = [];
  for (let at = file.readUInt16LE(6); at + 12 <= file.byteLength; ) {
    const size = file.readUInt32LE(at);
    frames.push(file.subarray(at + 12, at + 12 + size));
    at += 12 + size;
  }
  return frames;
}

/** Runs in the page: answers `offer`, shows the track, and returns the answer. */
async function answer(offer: string): Promise<string> {
  const pc = new RTCPeerConnection();
  Object.assign(window, { probePc: pc });
  pc.ontrack = (event) => {
    const video = document.createElement("video");
    video.muted = true;
    video.autoplay = true;
    video.srcObject = new MediaStream([event.track]);
    document.body.append(video);
  };
  await pc.setRemoteDescription({ type: "offer", sdp: offer });
  await pc.setLocalDescription(await pc.createAnswer());
  await new Promise<void>((resolve) => {
    if (pc.iceGatheringState === "complete") resolve();
    pc.addEventListener("icegatheringstatechange", () => {
      if (pc.iceGatheringState === "complete") resolve();
    });
  });
  return pc.localDescription?.sdp ?? "";
}

/** Runs in the page: the inbound video's counters. */
async function inbound(): Promise<Record<string, unknown>> {
  const pc = (window as unknown as { probePc: RTCPeerConnection }).probePc;
  const stats = await pc.getStats();
  const result: Record<string, unknown> = {};
  const reports = [...stats.values()] as Record<string, unknown>[];
  for (const report of reports) {
    if (report.type === "inbound-rtp" && report.kind === "video") {
      Object.assign(result, {
        framesDecoded: report.framesDecoded,
        frameWidth: report.frameWidth,
        frameHeight: report.frameHeight,
        packetsReceived: report.packetsReceived,
        decoderImplementation: report.decoderImplementation,
        codecId: report.codecId,
      });
    }
  }
  for (const report of reports) {
    if (report.type === "codec" && report.id === result.codecId) result.codec = report.mimeType;
  }
  return result;
}

/** What the probe asks of a browser's page (the same functions, through either driver). */
type Technician = {
  answer(offer: string): Promise<string>;
  inbound(): Promise<Record<string, unknown>>;
  /** The page's address now (Firefox shows about:tabcrashed when the tab's process died). */
  url(): string;
};

async function run(name: string, page: Technician, frames: readonly Buffer[]): Promise<void> {
  const pc = new WeriftPeerConnection({ codecs: { video: [CODEC === "av1" ? useAV1() : useVP9()] } });
  const transceiver = pc.addTransceiver("video", { direction: "sendonly" });
  await pc.setLocalDescription(await pc.createOffer());
  while (pc.iceGatheringState !== "complete") await new Promise((r) => setTimeout(r, 20));
  const answerSdp = await page.answer(pc.localDescription?.sdp ?? "");
  await pc.setRemoteDescription({ type: "answer", sdp: answerSdp });
  const connectedBy = Date.now() + 20_000;
  while (pc.connectionState !== "connected") {
    if (Date.now() > connectedBy) throw new Error(`${name}: not connected (${pc.connectionState})`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const packetizer = CODEC === "av1" ? new Av1Packetizer() : new Vp9Packetizer();
  let packets = 0;
  /** The counters midway too: a page that stops answering later still tells what it decoded. */
  let midway: Record<string, unknown> = {};
  const beforeMedia = await page.inbound().catch((error) => ({ error: String(error).slice(0, 120) }));
  for (const [index, frame] of frames.entries()) {
    if (index === frames.length / 2)
      midway = await page.inbound().catch((error) => ({ error: String(error).slice(0, 160) }));
    const rtp: RtpPacket[] = packetizer.packetize(Buffer.from(frame), (index * 4500) >>> 0, {
      isKeyframe: index === 0,
    });
    for (const packet of rtp) await transceiver.sender.sendRtp(packet);
    packets += rtp.length;
    await new Promise((r) => setTimeout(r, 50));
  }
  await new Promise((r) => setTimeout(r, 1_000));
  const got = await page.inbound().catch((error: unknown) => ({ error: String(error).slice(0, 160) }));
  console.log(
    JSON.stringify({
      browser: name,
      codec: CODEC,
      url: page.url(),
      beforeMedia,
      framesSent: frames.length,
      packets,
      midway,
      ...got,
    }),
  );
  await pc.close();
}

const frames = await encode();
// An empty page on localhost (a secure context; Firefox runs no script in its blank start page).
const server = createServer((_request, response) => response.end("<!doctype html><title>probe</title>"));
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const address = server.address();
const pageUrl = `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}/`;
const chromium = await launchBrowser();
try {
  const page = await chromium.newPage();
  await page.goto(pageUrl);
  await run(
    "chromium",
    {
      answer: (sdp) => page.evaluate(answer, sdp),
      inbound: () => page.evaluate(inbound),
      url: () => page.url(),
    },
    frames,
  );
} finally {
  await chromium.close();
}
const firefox = await puppeteer.launch({
  browser: "firefox",
  executablePath: process.env.SOS_FIREFOX ?? "/usr/bin/firefox-esr",
  headless: true,
  // PROBE_DUMPIO=1: Firefox's own output (a crashed tab's process says so there).
  dumpio: process.env.PROBE_DUMPIO === "1",
  extraPrefsFirefox: {
    "media.peerconnection.ice.obfuscate_host_addresses": false,
    "media.peerconnection.ice.loopback": true,
  },
});
try {
  const page = await firefox.newPage();
  await page.goto(pageUrl);
  await run(
    "firefox",
    {
      answer: (sdp) => page.evaluate(answer, sdp),
      inbound: () => page.evaluate(inbound),
      url: () => page.url(),
    },
    frames,
  );
} finally {
  await firefox.close();
}
server.close();
process.exit(0);
