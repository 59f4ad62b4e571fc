/**
 * The agent's `screen` channel and its fanout (screen-link.ts, screen-fanout.ts) on real werift
 * peers over loopback: the console's text is decoded at one point (an invalid message is told and
 * dropped), sending never throws, the path turns on only once every viewer said `screen.ready`, a
 * channel waits for START, and a lagging channel gets nothing until it drained, then asks for a new
 * stream. The capture worker's side is the calls the fanout makes (ScreenPathControl), recorded.
 */
import t, { type Test } from "tap";
import type { RTCDataChannel } from "werift";
import { SCREEN_LINK_TRANSITIONS, ScreenFanout } from "../../agent/peer/screen-fanout.ts";
import { TechnicianPeer } from "../../agent/peer/technician-peer.ts";
import {
  SCREEN_BUFFER_HIGH_BYTES,
  SCREEN_CHANNEL_LABEL,
  SCREEN_MESSAGE_BYTES,
  SCREEN_START,
  type ScreenControl,
} from "../../shared/screen.ts";
import { TestTechnician } from "../helpers/technician-peer.ts";

/** An agent's peer and a werift technician wired to each other, the `screen` channel open on both. */
async function connectedPair(t: Test, id = "p") {
  const peer = new TechnicianPeer({
    peerId: id,
    technician: { id: `t-${id}`, name: "T" },
    access: "control",
    video: { preferred: "vp8", h264Profile: "high" },
    iceServers: [],
  });
  const technician = new TestTechnician();
  t.teardown(async () => {
    await peer.close();
    await technician.close();
  });
  peer.on("signal", (data) => void technician.handleSignal(data).catch(() => undefined));
  technician.on("signal", (data) => void peer.handleSignal(data));
  const screen = new Promise<RTCDataChannel>((resolve) =>
    technician.on("channel", (channel) => {
      if (channel.label !== SCREEN_CHANNEL_LABEL) return;
      if (channel.readyState === "open") resolve(channel);
      else channel.stateChanged.subscribe((state) => state === "open" && resolve(channel));
    }),
  );
  await peer.start();
  const channel = await screen;
  const link = peer.screen;
  if (link === undefined) throw new Error("no screen link");
  const received: Uint8Array[] = [];
  channel.onMessage.subscribe((data) => {
    if (typeof data !== "string") received.push(data);
  });
  // The agent's end opens on the technician's acknowledgement, which comes before its first message.
  await new Promise<void>((resolve) => {
    peer.once("screen", () => resolve());
    channel.send(JSON.stringify({ type: "screen.resync" }));
  });
  const controls: ScreenControl[] = [];
  const invalid: string[] = [];
  peer.on("screen", (message) => controls.push(message));
  peer.on("invalid", (reason) => invalid.push(reason));
  return { peer, technician, channel, link, received, controls, invalid };
}

/** Resolves once `check` holds, re-checked on every message the technician's channel receives. */
function until(
  channel: RTCDataChannel,
  check: () => boolean,
  what: string,
  deadlineMs = 10_000,
): Promise<void> {
  if (check()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      subscription.unSubscribe();
      reject(new Error(`timed out: ${what}`));
    }, deadlineMs);
    const subscription = channel.onMessage.subscribe(() => {
      if (!check()) return;
      clearTimeout(timer);
      subscription.unSubscribe();
      resolve();
    });
  });
}

/** The calls the fanout makes on the capture worker. */
function recordedControl() {
  const calls: string[] = [];
  let wake: () => void = () => undefined;
  const call = (name: string) => {
    calls.push(name);
    wake();
  };
  return {
    calls,
    control: { screenPath: (on: boolean) => call(on ? "on" : "off"), screenRestart: () => call("restart") },
    /** Resolves at the next call. */
    next: () => new Promise<void>((resolve) => (wake = resolve)),
  };
}

const message = (start: boolean, fill: number, bytes = 100) => {
  const data = new Uint8Array(bytes).fill(fill);
  data[0] = start ? SCREEN_START : 0;
  return data;
};
const record = (...messages: Uint8Array[]) => ({ messages, start: false, rtpTimestamp: 0, capturedAt: 0 });

t.test(
  "the console's messages are decoded at one point: valid ones told, invalid ones dropped",
  async (t) => {
    const { channel, controls, invalid, peer } = await connectedPair(t);
    channel.send(JSON.stringify({ type: "screen.nonsense" }));
    channel.send("{not json");
    channel.send(Buffer.from([1, 2, 3]));
    channel.send(JSON.stringify({ type: "screen.ready" }));
    channel.send(JSON.stringify({ type: "screen.resync" }));
    await new Promise<void>((resolve) => peer.on("screen", (m) => m.type === "screen.resync" && resolve()));
    t.same(controls, [{ type: "screen.ready" }, { type: "screen.resync" }], "the valid ones, in order");
    t.equal(invalid.length, 3, `three dropped: ${invalid.join(" | ")}`);
    t.match(invalid[2], /binary message on the screen channel/);
  },
);

t.test(
  "sending on the screen link never throws: past max-message-size, after the channel closed",
  async (t) => {
    const { link, technician, peer } = await connectedPair(t);
    t.equal(link.send(new Uint8Array(SCREEN_MESSAGE_BYTES)), true, "a message of SCREEN_MESSAGE_BYTES goes");
    let result: boolean | undefined;
    t.doesNotThrow(() => {
      result = link.send(new Uint8Array(SCREEN_MESSAGE_BYTES + 1));
    }, "one past werift's max-message-size does not throw");
    t.equal(result, false, "and says it did not go");
    const closed = new Promise<void>((resolve) => peer.once("screenClosed", resolve));
    await technician.close();
    await closed;
    t.doesNotThrow(() => {
      result = link.send(new Uint8Array(10));
    });
    t.equal(result, false, "nothing goes on a closed channel");
  },
);

t.test(
  "the path turns on once every viewer said ready; a channel gets messages from the next START",
  async (t) => {
    const a = await connectedPair(t, "a");
    const b = await connectedPair(t, "b");
    const { calls, control } = recordedControl();
    const fanout = new ScreenFanout(control);
    fanout.add("a", a.link);
    fanout.add("b", b.link);
    fanout.view("a");
    fanout.view("b");
    t.same(calls, [], "nobody said ready: off");
    fanout.control("a", "screen.ready");
    t.same(calls, [], "one of two viewers said ready: still off");
    fanout.control("b", "screen.ready");
    t.same(calls, ["on"], "both did: on (a new stream comes with it)");

    fanout.send(record(message(false, 7)));
    fanout.send(record(message(true, 8), message(false, 9)));
    await until(b.channel, () => b.received.length === 2, "b gets the stream");
    await until(a.channel, () => a.received.length === 2, "a gets the stream");
    t.same(
      a.received.map((m) => m[1]),
      [8, 9],
      "the message before START is not sent; START and what follows are",
    );
    t.equal(fanout.stateOf("a"), "following");

    fanout.control("a", "screen.resync");
    t.same(calls, ["on", "restart"], "a resync asks for a new stream");
    t.equal(fanout.stateOf("a"), "waiting");
    fanout.send(record(message(false, 10)));
    await until(b.channel, () => b.received.length === 3, "b still follows");
    t.equal(a.received.length, 2, "a waits for the next START");

    const c = await connectedPair(t, "c");
    fanout.add("c", c.link);
    fanout.view("c");
    t.same(calls.at(-1), "off", "a viewer who never says ready turns the path off for everyone");
    fanout.remove("c");
    t.same(calls.at(-1), "on", "gone, the path is on again");
    t.same(SCREEN_LINK_TRANSITIONS.unready.start, undefined, "an unready channel ignores START");
  },
);

t.test("a lagging channel gets nothing until it drained, then asks for a new stream", async (t) => {
  const a = await connectedPair(t, "a");
  const { calls, control, next } = recordedControl();
  const fanout = new ScreenFanout(control);
  fanout.add("a", a.link);
  fanout.view("a");
  fanout.control("a", "screen.ready");
  // Over the high mark in one go: SCTP hands out a window's worth at a time, the rest waits.
  const burst = Math.ceil((SCREEN_BUFFER_HIGH_BYTES * 1.5) / SCREEN_MESSAGE_BYTES);
  const messages = Array.from({ length: burst }, (_, i) => message(i === 0, 1, SCREEN_MESSAGE_BYTES));
  const restarted = next();
  fanout.send(record(...messages));
  t.equal(fanout.stateOf("a"), "lagging", `over the high mark (${a.link.bufferedAmount} bytes): lagging`);
  fanout.send(record(message(false, 2)));
  await restarted;
  t.same(calls, ["on", "restart"], "drained under the low mark: it asks for a new stream");
  t.equal(fanout.stateOf("a"), "waiting", "and waits for it");
  fanout.send(record(message(true, 3)));
  await until(a.channel, () => a.received.at(-1)?.[1] === 3, "the new stream arrives");
  const fills = new Set(a.received.map((m) => m[1]));
  t.same(
    [...fills],
    [1, 3],
    "the burst's messages sent before the lag, then the new stream; none while lagging",
  );
  t.ok(
    a.received.length < burst + 1,
    `the burst was cut at the high mark (${a.received.length - 1} of ${burst})`,
  );
});
