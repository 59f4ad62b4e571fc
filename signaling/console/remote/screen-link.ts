import {
  decodeScreenMessage,
  decodeScreenRecord,
  type ScreenControl,
  type ScreenRecord,
  ScreenRecordReader,
} from "../../../shared/screen.ts";
import { ScreenCanvasModel } from "../../../shared/screen-model.ts";
import { createHideQueue, type PresentedFrame } from "./screen-hides.ts";
import { createInflater, type Inflater } from "./screen-inflate.ts";
import {
  SCREEN_LINK_TABLE,
  type ScreenLinkInput,
  type ScreenLinkState,
  screenLinkLife,
} from "./screen-link-states.ts";

/**
 * The console's side of the agent's `screen` channel (docs/screen-copy-path.md, "Wire format,
 * version 1"): the lossless part of the picture. One decode point (receive()): byte 0 of each
 * binary message is its flags; START begins a new deflate stream (the old one is discarded); the
 * rest goes into the stream (screen-inflate.ts), whose bytes are split into records
 * (ScreenRecordReader), decoded (decodeScreenRecord) and applied to the canvas model
 * (ScreenCanvasModel, shared with the tests). Any failure asks the agent once for a new stream
 * (`screen.resync`) and ignores the channel until the next START (screen-link-states.ts).
 *
 * The link outlives its channel (a new peer hands it the next one: attach()); it owns the model,
 * and tells its listener (the painter, screen-paint.ts) what changed.
 */

export type ScreenRect = { readonly x: number; readonly y: number; readonly w: number; readonly h: number };

export type ScreenEvent =
  | {
      readonly kind: "applied";
      readonly record: ScreenRecord;
      readonly dirty: readonly ScreenRect[];
      /** The channel bytes received since the record before it: this record's share of the wire. */
      readonly bytes: number;
    }
  /** Tiles released to the video (their hide caught up): their canvas pixels are transparent now. */
  | { readonly kind: "hidden"; readonly dirty: readonly ScreenRect[] };

export type ScreenCounts = {
  messages: number;
  bytes: number;
  records: number;
  /** Records that carried at least one copy (the scroll as a copy). */
  recordsWithCopies: number;
  /** Text messages from the agent: not part of the protocol, ignored. */
  textIgnored: number;
  resyncs: number;
  /** The last failure's code or message, for the log and the tests. */
  lastFailure: string | null;
};

/** What the link needs of an RTCDataChannel. */
export type ScreenChannel = Pick<
  RTCDataChannel,
  "readyState" | "send" | "binaryType" | "addEventListener" | "removeEventListener"
>;

export type ScreenLink = {
  readonly model: ScreenCanvasModel;
  readonly state: ScreenLinkState;
  readonly counts: Readonly<ScreenCounts>;
  /** The view's current `screen` channel; says `screen.ready` once it is open. */
  attach(channel: ScreenChannel): void;
  /** The one decode point: a message that came on the current channel. */
  receive(data: unknown): void;
  /** The video presented a frame: hides it caught up with are applied. */
  presented(frame: PresentedFrame): void;
  /** One listener at a time (the painter); returns its removal. */
  listen(listener: (event: ScreenEvent) => void): () => void;
  /** The view ended; safe to call twice. */
  close(): void;
};

export function createScreenLink(now: () => number = () => performance.now()): ScreenLink {
  const life = screenLinkLife();
  const model = new ScreenCanvasModel();
  const hides = createHideQueue();
  const counts: ScreenCounts = {
    messages: 0,
    bytes: 0,
    records: 0,
    recordsWithCopies: 0,
    textIgnored: 0,
    resyncs: 0,
    lastFailure: null,
  };
  let channel: ScreenChannel | null = null;
  /** The channel `screen.ready` went on (once per channel). */
  let readyOn: ScreenChannel | null = null;
  let inflater: Inflater | null = null;
  let reader = new ScreenRecordReader();
  let unread = 0;
  let listener: (event: ScreenEvent) => void = () => undefined;

  const send = (message: ScreenControl): void => {
    if (channel?.readyState === "open") channel.send(JSON.stringify(message));
  };
  const discard = (): void => {
    inflater?.close();
    inflater = null;
  };

  /** Moves by the table and does what it says; the piece (byte 0 stripped) for begin/write. */
  const step = (input: ScreenLinkInput, piece?: Uint8Array<ArrayBuffer>): void => {
    const { to, action } = SCREEN_LINK_TABLE[life.state][input];
    if (to !== life.state) life.set(to);
    switch (action) {
      case "begin":
        discard();
        reader = new ScreenRecordReader();
        inflater = createInflater({ bytes: decompressed, failed: (message) => fail(message) });
        if (piece !== undefined) inflater.write(piece);
        return;
      case "write":
        if (piece !== undefined) inflater?.write(piece);
        return;
      case "drop":
        discard();
        return;
      case "resync":
        discard();
        counts.resyncs += 1;
        send({ type: "screen.resync" });
        return;
      case "ignore":
        return;
    }
  };

  const fail = (reason: string): void => {
    counts.lastFailure = reason;
    console.warn("screen channel:", reason);
    step("failed");
  };

  /** Bytes out of the current stream: records split off, decoded, applied, in order. */
  function decompressed(bytes: Uint8Array): void {
    if (life.state !== "streaming") return;
    const split = reader.push(bytes);
    if (!split.ok) {
      fail(`${split.code}: ${split.message}`);
      return;
    }
    for (const body of split.bodies) {
      const decoded = decodeScreenRecord(body);
      if (!decoded.ok) {
        fail(`${decoded.code}: ${decoded.message}`);
        return;
      }
      const record = decoded.record;
      const fits = model.check(record);
      if (!fits.ok) {
        fail(`${fits.code}: ${fits.message}`);
        return;
      }
      const applied = model.apply(record);
      if (record.reset) hides.clear();
      hides.shown(record.show);
      hides.add(applied.hide, record.rtpTimestamp, now());
      counts.records += 1;
      if (record.copies.length > 0) counts.recordsWithCopies += 1;
      const share = unread;
      unread = 0;
      listener({ kind: "applied", record, dirty: applied.dirty, bytes: share });
    }
  }

  const onMessage = (event: MessageEvent<unknown>): void => {
    if (event.target === channel) link.receive(event.data);
  };
  const ready = (): void => {
    if (channel === null || readyOn === channel || channel.readyState !== "open") return;
    readyOn = channel;
    send({ type: "screen.ready" });
  };
  const onOpen = (event: Event): void => {
    if (event.target === channel) ready();
  };
  const onClose = (event: Event): void => {
    if (event.target === channel) step("channel");
  };

  const unlisten = (): void => {
    channel?.removeEventListener("message", onMessage);
    channel?.removeEventListener("open", onOpen);
    channel?.removeEventListener("close", onClose);
  };

  const link: ScreenLink = {
    model,
    get state() {
      return life.state;
    },
    counts,
    attach(next) {
      if (life.state === "closed" || next === channel) return;
      unlisten();
      channel = next;
      step("channel");
      next.binaryType = "arraybuffer";
      next.addEventListener("message", onMessage);
      next.addEventListener("open", onOpen);
      next.addEventListener("close", onClose);
      ready();
    },
    receive(data) {
      if (life.state === "closed") return;
      if (typeof data === "string") {
        counts.textIgnored += 1;
        step("text");
        return;
      }
      if (!(data instanceof ArrayBuffer)) return;
      counts.messages += 1;
      counts.bytes += data.byteLength;
      unread += data.byteLength;
      // Byte 0 is the flags (only START is defined); the rest is a piece of the deflate stream.
      const bytes = new Uint8Array(data);
      const message = decodeScreenMessage(bytes);
      if (!message.ok) {
        if (life.state === "streaming") fail(`${message.code}: ${message.message}`);
        return;
      }
      step(message.start ? "start" : "piece", bytes.subarray(1));
    },
    presented(frame) {
      if (hides.size === 0) return;
      const tiles = hides.due(frame);
      if (tiles.length === 0) return;
      const dirty = model.hideTiles(tiles);
      if (dirty.length > 0) listener({ kind: "hidden", dirty });
    },
    listen(next) {
      listener = next;
      return () => {
        if (listener === next) listener = () => undefined;
      };
    },
    close() {
      if (life.state === "closed") return;
      step("close");
      hides.clear();
      unlisten();
      channel = null;
    },
  };
  return link;
}
