import { constants, deflateRawSync } from "node:zlib";
import { RTCPeerConnection } from "node-datachannel/polyfill";
import t from "tap";
import { ScreenWriter } from "../../agent/media/screen-writer.ts";
import {
  encodeScreenRecord,
  SCREEN_CHANNEL_LABEL,
  SCREEN_START,
  type ScreenRecord,
  type ScreenRect,
  tileGrid,
  tileRect,
} from "../../shared/screen.ts";
import { ScreenCanvasModel } from "../../shared/screen-model.ts";
import {
  createScreenLink,
  type ScreenEvent,
  type ScreenLink,
} from "../../signaling/console/remote/screen-link.ts";
import {
  SCREEN_LINK_INPUTS,
  SCREEN_LINK_STATES,
  SCREEN_LINK_TABLE,
} from "../../signaling/console/remote/screen-link-states.ts";
import type { Teardown } from "../agent/e2e-support.ts";

/**
 * The console's `screen` link (signaling/console/remote/screen-link.ts) over a real data channel
 * (node-datachannel's W3C RTCPeerConnection, both ends in this process) with Node's own
 * DecompressionStream, fed by the agent's real ScreenWriter: it says `screen.ready`, draws what the
 * records say exactly, ignores text, and on any failure asks once for a new stream
 * (`screen.resync`) and ignores everything until the next START.
 */

const WIDTH = 200;
const HEIGHT = 150;
const TILES = tileGrid(WIDTH, HEIGHT).count;
const WHITE_ON_BLACK = new Uint8Array([0, 0, 0, 255, 255, 255]);

/** A 1-bit rect over `area` whose pixel (x, y) is ink when `ink(x, y)`. */
function textRect(
  area: { x: number; y: number; w: number; h: number },
  ink: (x: number, y: number) => boolean,
) {
  const stride = Math.ceil(area.w / 8);
  const data = new Uint8Array(stride * area.h);
  for (let row = 0; row < area.h; row += 1)
    for (let px = 0; px < area.w; px += 1)
      if (ink(area.x + px, area.y + row)) {
        const at = row * stride + (px >> 3);
        data[at] = (data[at] ?? 0) | (0x80 >> (px & 7));
      }
  const rect: ScreenRect = { ...area, palette: WHITE_ON_BLACK, data };
  return rect;
}

const glyphs = (seed: number) => (x: number, y: number) => ((x * 7 + y * 13 + seed) * 2654435761) % 5 === 0;

function record(change: Partial<ScreenRecord>): ScreenRecord {
  return {
    reset: false,
    rtpTimestamp: 0,
    capturedAt: Date.now(),
    width: WIDTH,
    height: HEIGHT,
    show: [],
    hide: [],
    copies: [],
    rects: [],
    ...change,
  };
}

/** Every tile lossless, with text in it. */
const snapshot = (seed: number, rtpTimestamp = 1000): ScreenRecord =>
  record({
    reset: true,
    rtpTimestamp,
    show: Array.from({ length: TILES }, (_, tile) => tile),
    rects: Array.from({ length: TILES }, (_, tile) => textRect(tileRect(tile, WIDTH, HEIGHT), glyphs(seed))),
  });

/** The text scrolls up by 13 rows; 13 new rows come in at the bottom. */
const scroll = (seed: number, rtpTimestamp: number): ScreenRecord =>
  record({
    rtpTimestamp,
    copies: [{ x: 0, y: 0, w: WIDTH, h: HEIGHT - 13, dy: 13 }],
    rects: [textRect({ x: 0, y: HEIGHT - 13, w: WIDTH, h: 13 }, glyphs(seed))],
  });

/** A message of a stream compressed here, not by the writer: for records the writer would not send. */
function rawMessage(bytes: Uint8Array, flags: number): Uint8Array<ArrayBuffer> {
  const piece = deflateRawSync(bytes, { finishFlush: constants.Z_SYNC_FLUSH });
  const message = new Uint8Array(piece.length + 1);
  message[0] = flags;
  message.set(piece, 1);
  return message;
}

/** Bytes deflate cannot shrink (a seeded xorshift). */
function noise(length: number): Uint8Array {
  let state = 0x9e3779b9;
  return new Uint8Array(length).map(() => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state & 255;
  });
}

type Pair = {
  link: ScreenLink;
  /** The agent's end of the channel. */
  send(message: Uint8Array | string): void;
  /** What the console sent, parsed. */
  received: unknown[];
  events: ScreenEvent[];
  /** Resolves once `count` events (of all) came. */
  eventsReach(count: number): Promise<void>;
  receivedReach(count: number): Promise<void>;
};

async function openPair(t: Teardown, now?: () => number): Promise<Pair> {
  const agent = new RTCPeerConnection();
  const technician = new RTCPeerConnection();
  t.teardown(() => {
    agent.close();
    technician.close();
  });
  agent.onicecandidate = (event) => {
    if (event.candidate) void technician.addIceCandidate(event.candidate);
  };
  technician.onicecandidate = (event) => {
    if (event.candidate) void agent.addIceCandidate(event.candidate);
  };
  const link = createScreenLink(now);
  t.teardown(() => link.close());
  const events: ScreenEvent[] = [];
  const received: unknown[] = [];
  const waiters: Array<() => void> = [];
  const wake = () => {
    for (const waiter of waiters.splice(0)) waiter();
  };
  const until = (done: () => boolean) =>
    new Promise<void>((resolve) => {
      const check = () => (done() ? resolve() : waiters.push(check));
      check();
    });
  link.listen((event) => {
    events.push(event);
    wake();
  });
  technician.ondatachannel = (event) => link.attach(event.channel);
  const channel = agent.createDataChannel(SCREEN_CHANNEL_LABEL);
  channel.onmessage = (event) => {
    received.push(JSON.parse(String(event.data)));
    wake();
  };
  const offer = await agent.createOffer();
  await agent.setLocalDescription(offer);
  if (agent.localDescription === null) throw new Error("no offer");
  await technician.setRemoteDescription(agent.localDescription);
  await technician.setLocalDescription(await technician.createAnswer());
  if (technician.localDescription === null) throw new Error("no answer");
  await agent.setRemoteDescription(technician.localDescription);
  await until(() => received.length > 0);
  return {
    link,
    send: (message) => channel.send(typeof message === "string" ? message : new Uint8Array(message)),
    received,
    events,
    eventsReach: (count) => until(() => events.length >= count),
    receivedReach: (count) => until(() => received.length >= count),
  };
}

/** The same records applied to a model directly: what the link's model must equal. */
function expected(records: readonly ScreenRecord[]): ScreenCanvasModel {
  const model = new ScreenCanvasModel();
  for (const each of records) model.apply(each);
  return model;
}

t.test("every state answers every input, and only START leaves lost or waiting", async (t) => {
  for (const state of SCREEN_LINK_STATES)
    for (const input of SCREEN_LINK_INPUTS) t.ok(SCREEN_LINK_TABLE[state][input], `${state} on ${input}`);
  for (const state of ["waiting", "lost"] as const) {
    t.same(SCREEN_LINK_TABLE[state].piece, { to: state, action: "ignore" }, `${state}: pieces ignored`);
    t.same(SCREEN_LINK_TABLE[state].failed.action, "ignore", `${state}: no second resync`);
    t.same(SCREEN_LINK_TABLE[state].start, { to: "streaming", action: "begin" });
  }
  t.same(SCREEN_LINK_TABLE.streaming.failed, { to: "lost", action: "resync" }, "a failure asks once");
  t.same(
    SCREEN_LINK_TABLE.streaming.start,
    { to: "streaming", action: "begin" },
    "a new START: a new stream",
  );
  for (const state of SCREEN_LINK_STATES) t.equal(SCREEN_LINK_TABLE[state].text.action, "ignore");
  for (const input of SCREEN_LINK_INPUTS)
    t.equal(SCREEN_LINK_TABLE.closed[input].to, "closed", "closed stays");
});

t.test(
  "the console says screen.ready and draws the writer's records exactly, split messages too",
  async (t) => {
    const pair = await openPair(t);
    t.same(pair.received, [{ type: "screen.ready" }], "screen.ready once the channel is open");
    const writer = new ScreenWriter();
    writer.start();
    const records = [snapshot(1), scroll(2, 4000), scroll(3, 7000)];
    let sent = 0;
    let messages = 0;
    for (const each of records) {
      for (const message of await writer.write(each)) {
        pair.send(message);
        sent += message.length;
        messages += 1;
      }
    }
    await pair.eventsReach(3);
    t.same(Buffer.from(pair.link.model.rgba), Buffer.from(expected(records).rgba), "pixels exact");
    t.equal(pair.link.counts.recordsWithCopies, 2, "two records carried a copy");
    const bytes = pair.events.reduce((sum, event) => sum + (event.kind === "applied" ? event.bytes : 0), 0);
    t.equal(bytes, sent, "the applied records' bytes add up to what the channel carried");
    t.equal(pair.link.counts.messages, messages);

    // A big record over several messages (a message may end mid-record).
    writer.start();
    // A RESET may change the size: 400x300 of 8-bit noise is far above one message.
    const big = record({
      reset: true,
      width: 400,
      height: 300,
      show: Array.from({ length: tileGrid(400, 300).count }, (_, tile) => tile),
      rects: [
        {
          x: 0,
          y: 0,
          w: 400,
          h: 300,
          palette: new Uint8Array(768).map((_, i) => (i * 37) % 256),
          data: noise(400 * 300),
        },
      ],
    });
    const pieces = await writer.write(big);
    t.ok(pieces.length > 1, `the record came in ${pieces.length} messages`);
    for (const message of pieces) pair.send(message);
    await pair.eventsReach(4);
    t.same(Buffer.from(pair.link.model.rgba), Buffer.from(expected([big]).rgba), "the split record, exact");
    t.equal(pair.link.state, "streaming");
    t.same(pair.received, [{ type: "screen.ready" }], "nothing asked of the agent");
  },
);

t.test("a text message from the agent is ignored and counted; drawing goes on", async (t) => {
  const pair = await openPair(t);
  const writer = new ScreenWriter();
  writer.start();
  for (const message of await writer.write(snapshot(5))) pair.send(message);
  pair.send(JSON.stringify({ type: "screen.ready" }));
  for (const message of await writer.write(scroll(6, 2000))) pair.send(message);
  await pair.eventsReach(2);
  t.equal(pair.link.counts.textIgnored, 1);
  t.same(Buffer.from(pair.link.model.rgba), Buffer.from(expected([snapshot(5), scroll(6, 2000)]).rgba));
  t.same(pair.received, [{ type: "screen.ready" }]);
});

t.test(
  "a broken deflate stream: one screen.resync, the rest ignored until START, then exact again",
  async (t) => {
    const pair = await openPair(t);
    const writer = new ScreenWriter();
    writer.start();
    for (const message of await writer.write(snapshot(7))) pair.send(message);
    await pair.eventsReach(1);
    // Byte-aligned after the sync flush: 0xff opens a final block of the reserved type 3.
    pair.send(new Uint8Array([0, 0xff, 0xff, 0xff, 0xff]));
    await pair.receivedReach(2);
    t.same(pair.received[1], { type: "screen.resync" }, "the console asks for a new stream");
    t.equal(pair.link.state, "lost");
    // The rest of the old stream (and more garbage) changes nothing and asks nothing more.
    for (const message of await writer.write(scroll(8, 3000))) pair.send(message);
    pair.send(new Uint8Array([0, 0xff]));
    writer.start();
    const fresh = snapshot(9, 5000);
    for (const message of await writer.write(fresh)) pair.send(message);
    await pair.eventsReach(2);
    t.equal(pair.link.state, "streaming", "the next START is drawn");
    t.same(Buffer.from(pair.link.model.rgba), Buffer.from(expected([fresh]).rgba), "exact again");
    t.equal(pair.link.counts.resyncs, 1);
    t.same(pair.received, [{ type: "screen.ready" }, { type: "screen.resync" }], "asked once");
  },
);

t.test("records the decoder or the canvas refuses ask for a new stream, with the code", async (t) => {
  const pair = await openPair(t);
  const bad = encodeScreenRecord(snapshot(10));
  bad[4] = 2; // the version, right after the length prefix
  pair.send(rawMessage(bad, SCREEN_START));
  await pair.receivedReach(2);
  t.match(pair.link.counts.lastFailure, /^SCREEN_VERSION/);
  // A record of another size without RESET.
  const writer = new ScreenWriter();
  writer.start();
  for (const message of await writer.write(snapshot(11))) pair.send(message);
  for (const message of await writer.write({ ...scroll(12, 2000), width: WIDTH - 1 })) pair.send(message);
  await pair.receivedReach(3);
  t.match(pair.link.counts.lastFailure, /^SCREEN_OUT_OF_BOUNDS/);
  // A message with an undefined flag bit.
  writer.start();
  for (const message of await writer.write(snapshot(13))) pair.send(message);
  await pair.eventsReach(2);
  pair.send(new Uint8Array([4, 0]));
  await pair.receivedReach(4);
  t.match(pair.link.counts.lastFailure, /^SCREEN_MALFORMED/);
  t.same(
    pair.received.slice(1),
    [{ type: "screen.resync" }, { type: "screen.resync" }, { type: "screen.resync" }],
    "one resync per broken stream",
  );
});

t.test("a hidden tile stays drawn until the video presents a frame at or after the record", async (t) => {
  let clock = 0;
  const pair = await openPair(t, () => clock);
  const writer = new ScreenWriter();
  writer.start();
  for (const message of await writer.write(snapshot(14, 0xfffffff0))) pair.send(message);
  const tile = 1;
  const area = tileRect(tile, WIDTH, HEIGHT);
  const alphaAt = () => pair.link.model.rgba[(area.y * WIDTH + area.x) * 4 + 3];
  clock = 100;
  // The RTP clock wraps between the snapshot and the hide: 5 is after 0xfffffff0.
  for (const message of await writer.write(record({ rtpTimestamp: 5, hide: [tile] }))) pair.send(message);
  await pair.eventsReach(2);
  t.equal(alphaAt(), 255, "drawn after the record");
  pair.link.presented({ rtpTimestamp: 0xfffffffa, presentedAt: 200 });
  t.equal(alphaAt(), 255, "an older video frame: still drawn");
  pair.link.presented({ rtpTimestamp: 5, presentedAt: 300 });
  t.equal(alphaAt(), 0, "the video caught up: transparent");
  t.match(pair.events[2], { kind: "hidden", dirty: [area] });

  // Without the frame's RTP timestamp: the first frame presented after the record.
  clock = 1000;
  for (const message of await writer.write(record({ rtpTimestamp: 50, hide: [0] }))) pair.send(message);
  await pair.eventsReach(4);
  pair.link.presented({ rtpTimestamp: undefined, presentedAt: 999 });
  t.equal(pair.link.model.tileState(0), "hiding", "a frame from before the record: still drawn");
  pair.link.presented({ rtpTimestamp: undefined, presentedAt: 1001 });
  t.equal(pair.link.model.tileState(0), "video", "the next frame: back to the video");
});
