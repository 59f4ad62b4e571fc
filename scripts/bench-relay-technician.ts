/**
 * The technician of `npm run bench:relay`, run by scripts/bench-relay.ts inside the `tech` network
 * namespace (`ip netns exec … node scripts/bench-relay-technician.ts <gateway-url>`): signs in to
 * the gateway as its admin, creates a session (reports the PIN), asks for control once the agent
 * has joined, and opens the remote view with the werift test technician
 * (tests/helpers/technician-peer.ts) using the ICE servers the gateway mints for it, as the console
 * does. Then it runs the commands it reads on stdin (scripts/bench-relay-protocol.ts) and reports
 * on stdout; it exits on `close` or when stdin ends.
 *
 * werift takes one TURN URL per list; like the agent, this takes the gateway's first attempt (its
 * STUN URLs and the TURN/UDP URL, agent/peer/ice-servers.ts) and keeps werift's default public
 * STUN server out.
 */
import { createInterface } from "node:readline";
import { iceAttempts, withoutDefaultStun } from "../agent/peer/ice-servers.ts";
import { gatewayToConsoleSchema } from "../shared/console-protocol.ts";
import { decodeMessage } from "../shared/decode.ts";
import type { SignalData } from "../shared/signal.ts";
import { ApiClient, errorCode, field, openConsoleSocket } from "../tests/helpers/clients.ts";
import { type DecodedFrame, pixelAt, TestTechnician } from "../tests/helpers/technician-peer.ts";
import {
  BENCH_ADMIN,
  type BenchCommand,
  type BenchReport,
  benchCommandSchema,
} from "./bench-relay-protocol.ts";

const gatewayUrl = process.argv[2];
if (gatewayUrl === undefined) {
  console.error("usage: bench-relay-technician.ts <gateway-url>");
  process.exit(2);
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function report(message: BenchReport): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

async function openView() {
  const client = new ApiClient(gatewayUrl as string);
  const signedIn = await client.signIn(BENCH_ADMIN.email, BENCH_ADMIN.password);
  if (signedIn.status !== 200) throw new Error(`sign-in refused: ${errorCode(signedIn.body)}`);
  const created = await client.post("/api/sessions", { channelId: "home", name: "Relay bench" });
  if (created.status !== 200) throw new Error(`new session refused: ${errorCode(created.body)}`);
  const sessionId = field(created.body, "session", "id");
  const socket = await openConsoleSocket(client);
  report({ event: "pin", pin: field(created.body, "invitation", "pin") });

  await socket.next(
    "session.updated",
    (m) => m.session.id === sessionId && m.session.agent.connected,
    60_000,
  );
  const asked = await client.post(`/api/sessions/${sessionId}/permission`);
  if (asked.status !== 200) throw new Error(`permission request refused: ${errorCode(asked.body)}`);
  await socket.next(
    "session.updated",
    (m) => m.session.id === sessionId && m.session.permissions.some((p) => p.state === "granted"),
    60_000,
  );

  const technician = new TestTechnician({ keepPixels: true });
  technician.on("signal", (data) => socket.send({ type: "signal", sessionId, data }));
  // Signals wait until remote.opened has given the peer its ICE servers.
  let configured: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => {
    configured = resolve;
  });
  let chain = Promise.resolve();
  const handle = async (data: SignalData) => {
    await ready;
    if (data.kind === "candidate") return technician.handleSignal(data);
    if (data.type !== "offer") throw new Error("the technician expects offers");
    // As TestTechnician.handleSignal, with werift's default STUN server kept out between the
    // transports' creation (setRemoteDescription) and gathering (setLocalDescription).
    const pc = technician.pc;
    await pc.setRemoteDescription({ type: "offer", sdp: data.sdp });
    withoutDefaultStun(pc);
    const answer = await pc.createAnswer();
    socket.send({
      type: "signal",
      sessionId,
      data: { kind: "description", type: "answer", sdp: answer.sdp },
    });
    await pc.setLocalDescription(answer);
  };
  socket.socket.on("message", (raw: Buffer) => {
    const decoded = decodeMessage(gatewayToConsoleSchema, raw.toString());
    if (!decoded.ok) return;
    const message = decoded.value;
    if (message.type === "remote.opened" && message.sessionId === sessionId) {
      technician.pc.setConfiguration({ iceServers: iceAttempts(message.iceServers)[0] ?? [] });
      configured();
    } else if (message.type === "remote.signal" && message.sessionId === sessionId) {
      const data = message.data;
      chain = chain.then(() => handle(data)).catch((error: unknown) => fail(error));
    }
  });
  const connectAt = performance.now();
  socket.send({ type: "remote.connect", sessionId });
  const first = await technician.nextFrame(undefined, 60_000, 0);
  await technician.channelOpen(30_000);
  const pair = technician.pc.iceTransports[0]?.connection.nominated;
  report({
    event: "connected",
    local: pair?.localCandidate.type ?? "unknown",
    remote: pair?.remoteCandidate.type ?? "unknown",
    firstFrameMs: first.at - connectAt,
  });
  return { technician, close: () => socket.close() };
}

/**
 * The grey level at (x, y) of a decoded frame. The toggle is white and black on screen, but a delta
 * frame's own pixels are decoded against grey (130 where nothing changed: DecodedFrame.rgba in
 * tests/helpers/technician-peer.ts), so a flip is any change of more than FLIP grey levels from the
 * frame before the key.
 */
function greyAt(frame: DecodedFrame, x: number, y: number): number {
  const { r, g, b } = pixelAt(frame, Math.round(x * (frame.width - 1)), Math.round(y * (frame.height - 1)));
  return (r + g + b) / 3;
}
const FLIP = 60;

async function keyToPicture(technician: TestTechnician, command: Extract<BenchCommand, { cmd: "latency" }>) {
  const { x, y } = command;
  technician.decoding = true;
  // Focus follows the pointer on a bare X server: put it on the toggling window.
  technician.send({ type: "pointer", x, y });
  await sleep(500);
  const samplesMs: number[] = [];
  let missed = 0;
  for (let i = 0; i < command.samples; i++) {
    const last = technician.frames.at(-1);
    if (last === undefined) throw new Error("no decoded frame yet");
    const before = greyAt(last, x, y);
    const from = technician.frames.length;
    const sent = performance.now();
    technician.send({ type: "text", text: "x" });
    try {
      const flipped = await technician.nextFrame(
        (frame) => Math.abs(greyAt(frame, x, y) - before) > FLIP,
        3_000,
        from,
      );
      samplesMs.push(flipped.at - sent);
    } catch {
      missed += 1;
    }
    // Frames still on their way (a second frame for the same change) land before the next key.
    await sleep(150 + Math.random() * 100);
  }
  // Keep only the newest frames' pixels: the fps window follows and decodes nothing.
  technician.frames.splice(0, technician.frames.length - 1);
  return { samplesMs, missed };
}

async function measure(technician: TestTechnician, ms: number) {
  technician.decoding = false;
  const frames = technician.framesReceived;
  const bytes = technician.rtpBytes + technician.rtpPackets * 12;
  const started = performance.now();
  await sleep(ms);
  return {
    seconds: (performance.now() - started) / 1000,
    frames: technician.framesReceived - frames,
    bytes: technician.rtpBytes + technician.rtpPackets * 12 - bytes,
  };
}

function fail(error: unknown): never {
  report({
    event: "failed",
    message: error instanceof Error ? (error.stack ?? error.message) : String(error),
  });
  process.exit(1);
}

async function main(): Promise<void> {
  const view = await openView();
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    const decoded = decodeMessage(benchCommandSchema, line);
    if (!decoded.ok) throw new Error(`not a command: ${line}`);
    const command = decoded.value;
    if (command.cmd === "latency") {
      report({ event: "latency", ...(await keyToPicture(view.technician, command)) });
    } else if (command.cmd === "measure") {
      report({ event: "measured", ...(await measure(view.technician, command.ms)) });
    } else {
      break;
    }
  }
  await view.technician.close();
  view.close();
}

await main().catch(fail);
process.exit(0);
