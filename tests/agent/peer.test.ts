import { createSocket } from "node:dgram";
import t, { type Test } from "tap";
import type { VideoCodecName } from "../../agent/media/encoder.ts";
import { ScreenStream } from "../../agent/media/screen-stream.ts";
import { TechnicianPeer } from "../../agent/peer/technician-peer.ts";
import { VideoFanout } from "../../agent/peer/video-fanout.ts";
import type { TechnicianControl } from "../../shared/control.ts";
import { pixelAt, TestTechnician } from "../helpers/technician-peer.ts";
import { colouredWindow, startXvfb } from "../helpers/xvfb.ts";

const xvfb = await startXvfb({ width: 1280, height: 720 });
process.env.DISPLAY = xvfb.display;
t.teardown(() => xvfb.stop());
await colouredWindow(xvfb, { x: 100, y: 100, width: 400, height: 300, colour: "red", name: "sos-red" });

/** An agent side (stream + fan-out) with `count` technicians wired straight to it. */
async function setup(t: Test, codec: VideoCodecName, count = 1) {
  const stream = await ScreenStream.start({ monitor: 0, codec, maxFps: 15, bitrate: 2_000_000 });
  const fanout = new VideoFanout(codec);
  stream.on("chunk", (chunk) => fanout.send(chunk));
  stream.on("error", (error) => t.fail(error.message));
  const pairs: Array<{ peer: TechnicianPeer; technician: TestTechnician }> = [];
  for (let i = 0; i < count; i++) {
    const peer = new TechnicianPeer({
      peerId: `peer-${i}`,
      technician: { id: `tech-${i}`, name: `Tech ${i}` },
      access: "control",
      video: { preferred: codec, h264Profile: "high" },
      iceServers: [],
    });
    const technician = new TestTechnician({ keepPixels: true });
    peer.on("signal", (data) => void technician.handleSignal(data));
    technician.on("signal", (data) => void peer.handleSignal(data));
    peer.on("keyframeNeeded", () => stream.requestKeyframe());
    peer.on("connected", () => {
      if (!fanout.join(peer)) stream.requestKeyframe();
    });
    pairs.push({ peer, technician });
  }
  t.teardown(async () => {
    await stream.close();
    for (const { peer, technician } of pairs) {
      await peer.close();
      await technician.close();
    }
  });
  stream.run(true);
  for (const { peer } of pairs) await peer.start();
  return { stream, fanout, pairs };
}

for (const codec of ["h264", "vp8"] as const) {
  t.test(
    `${codec}: a werift technician receives and decodes the agent's video at the screen's size`,
    async (t) => {
      const { pairs } = await setup(t, codec);
      const technician = pairs[0]?.technician;
      if (technician === undefined) throw new Error("no technician");
      const frame = await technician.nextFrame(undefined, 15_000, 0);
      t.equal(frame.width, 1280);
      t.equal(frame.height, 720);
      const red = pixelAt(frame, 300, 250);
      t.ok(red.r > 200 && red.g < 40 && red.b < 40, `the red window arrives red: ${JSON.stringify(red)}`);
      t.same(technician.decodeErrors, []);
    },
  );
}

t.test("two technicians get the same stream, each decoding it", async (t) => {
  const { pairs } = await setup(t, "h264", 2);
  for (const { technician } of pairs) {
    const frame = await technician.nextFrame(undefined, 15_000, 0);
    t.equal(frame.width, 1280);
  }
});

t.test(
  "a technician who connects later gets the current picture replayed, without a new encode",
  async (t) => {
    const { stream, fanout, pairs } = await setup(t, "vp8");
    const first = pairs[0]?.technician;
    if (first === undefined) throw new Error("no technician");
    await first.nextFrame(undefined, 15_000, 0);
    const encodedBefore = (await stream.stats()).encoded;

    const peer = new TechnicianPeer({
      peerId: "late",
      technician: { id: "late", name: "Late" },
      access: "view",
      video: { preferred: "vp8", h264Profile: "high" },
      iceServers: [],
    });
    const late = new TestTechnician({ keepPixels: true });
    t.teardown(async () => {
      await peer.close();
      await late.close();
    });
    peer.on("signal", (data) => void late.handleSignal(data));
    late.on("signal", (data) => void peer.handleSignal(data));
    let replayed: boolean | undefined;
    peer.on("connected", () => {
      replayed = fanout.join(peer);
    });
    await peer.start();
    const frame = await late.nextFrame(undefined, 15_000, 0);
    t.equal(replayed, true, "there was a picture to replay");
    t.equal(frame.width, 1280);
    const red = pixelAt(frame, 300, 250);
    t.ok(red.r > 200 && red.g < 40, "the replayed picture is the screen");
    t.equal((await stream.stats()).encoded, encodedBefore, "nothing new was encoded for the late technician");
  },
);

t.test("a PLI from the technician brings a new keyframe on a still screen", async (t) => {
  const { pairs } = await setup(t, "vp8");
  const technician = pairs[0]?.technician;
  if (technician === undefined) throw new Error("no technician");
  await technician.nextFrame(undefined, 15_000, 0);
  const from = technician.frames.length;
  await technician.sendPli();
  await technician.nextFrame(undefined, 5_000, from);
  t.pass("a frame followed the PLI");
});

t.test("control messages arrive validated; malformed ones are reported, not delivered", async (t) => {
  const { pairs } = await setup(t, "vp8");
  const pair = pairs[0];
  if (pair === undefined) throw new Error("no pair");
  const received: TechnicianControl[] = [];
  const invalid: string[] = [];
  pair.peer.on("control", (message) => received.push(message));
  pair.peer.on("invalid", (reason) => invalid.push(reason));
  const opened = new Promise<void>((resolve) => pair.peer.once("controlOpen", resolve));
  await pair.technician.channelOpen();
  await opened;
  pair.peer.sendControl({ type: "state", access: "control", monitors: [], monitor: 0 });
  await pair.technician.nextControl((message) => message.type === "state");
  pair.technician.sendRaw('{"type":"pointer","x":2,"y":0}');
  pair.technician.sendRaw("not json");
  pair.technician.send({ type: "key", code: "KeyA", down: true });
  const got = new Promise<void>((resolve) => pair.peer.once("control", () => resolve()));
  await got;
  t.same(received, [{ type: "key", code: "KeyA", down: true }]);
  t.equal(invalid.length, 2);
});

/** An agent side and a technician, not wired to each other: the test relays (and meddles). */
async function unwiredPair(t: Test) {
  const stream = await ScreenStream.start({ monitor: 0, codec: "vp8", maxFps: 15, bitrate: 2_000_000 });
  const fanout = new VideoFanout("vp8");
  stream.on("chunk", (chunk) => fanout.send(chunk));
  const peer = new TechnicianPeer({
    peerId: "p",
    technician: { id: "t", name: "T" },
    access: "control",
    video: { preferred: "vp8", h264Profile: "high" },
    iceServers: [],
  });
  const technician = new TestTechnician();
  t.teardown(async () => {
    await stream.close();
    await peer.close();
    await technician.close();
  });
  return { stream, fanout, peer, technician };
}

t.test("a DTLS fingerprint that does not match the SDP ends the connection; no video is sent", async (t) => {
  const { stream, fanout, peer, technician } = await unwiredPair(t);
  peer.on("signal", (data) => void technician.handleSignal(data));
  technician.on("signal", (data) => {
    if (data.kind === "description") {
      const forged = data.sdp.replace(
        /a=fingerprint:sha-256 ([0-9A-F]{2})/,
        (_match, first: string) => `a=fingerprint:sha-256 ${first === "00" ? "11" : "00"}`,
      );
      t.not(forged, data.sdp, "the answer's fingerprint was changed in transit");
      void peer.handleSignal({ ...data, sdp: forged });
    } else {
      void peer.handleSignal(data);
    }
  });
  let connected = false;
  peer.on("connected", () => {
    connected = true;
    fanout.join(peer);
  });
  const closed = new Promise<string>((resolve) => peer.once("closed", resolve));
  stream.run(true);
  await peer.start();
  t.equal(await closed, "dtls_failed");
  t.equal(connected, false, "never connected");
  t.equal(technician.rtpPackets, 0, "no RTP reached the technician");
});

t.test(
  "junk sent to the agent's ICE port before DTLS starts is dropped; the technician still connects",
  async (t) => {
    const { stream, fanout, peer, technician } = await unwiredPair(t);
    const attacker = createSocket("udp4");
    t.teardown(() => attacker.close());
    const targets: Array<{ address: string; port: number }> = [];
    let gathered: () => void = () => undefined;
    const firstCandidate = new Promise<void>((resolve) => {
      gathered = resolve;
    });
    peer.on("signal", (data) => {
      const host =
        data.kind === "candidate"
          ? / udp \d+ (\d+\.\d+\.\d+\.\d+) (\d+) typ host/.exec(data.candidate)
          : null;
      if (host?.[1] !== undefined) {
        targets.push({ address: host[1], port: Number(host[2]) });
        gathered();
      }
      void technician.handleSignal(data);
    });
    // The answer reaches the agent only after the junk: datagrams to one socket arrive in order, so
    // the junk is handled before any ICE check, let alone DTLS.
    let answer: Promise<void> | undefined;
    technician.on("signal", (data) => {
      if (data.kind !== "description") {
        void peer.handleSignal(data);
        return;
      }
      answer = (async () => {
        await firstCandidate;
        const junk = [
          Buffer.from([22, 254, 253]), // shorter than a DTLS record header
          Buffer.concat([Buffer.from([22, 254, 253]), Buffer.alloc(40, 0xff)]), // a header, nonsense after
          Buffer.alloc(300, 23),
        ];
        for (const { address, port } of targets) {
          for (const datagram of junk) {
            await new Promise<void>((resolve) => attacker.send(datagram, port, address, () => resolve()));
          }
        }
        t.ok(targets.length > 0, `junk sent to the agent's ${targets.length} host candidates`);
        await peer.handleSignal(data);
      })();
    });
    peer.on("connected", () => {
      if (!fanout.join(peer)) stream.requestKeyframe();
    });
    stream.run(true);
    await peer.start();
    const frame = await technician.nextFrame(undefined, 15_000, 0);
    await answer;
    t.equal(frame.width, 1280, "video decodes after the junk");
    t.equal(peer.closed, false);
  },
);

t.test("close() is safe to call twice and emits closed once", async (t) => {
  const peer = new TechnicianPeer({
    peerId: "p",
    technician: { id: "t", name: "T" },
    access: "view",
    video: { preferred: "h264", h264Profile: "high" },
    iceServers: [],
  });
  let closed = 0;
  peer.on("closed", () => {
    closed += 1;
  });
  await Promise.all([peer.close("a"), peer.close("b")]);
  t.equal(closed, 1);
  t.equal(peer.closed, true);
});
