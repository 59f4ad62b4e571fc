/**
 * The `screen` channel's receiving end for the agent's tests, the console's way in Node
 * (docs/screen-copy-path.md, "Wire format"): each message's byte 0 is its flags, START begins a
 * new raw deflate stream (node:zlib's inflateRaw here, DecompressionStream in the console), the
 * decompressed bytes split into records (ScreenRecordReader), decoded (decodeScreenRecord) and
 * applied to the shared ScreenCanvasModel. Tiles a record hides are cleared at once (a test does not
 * wait for the video). It says `screen.ready` when asked to, as a console that draws the channel.
 */
import { EventEmitter } from "node:events";
import { createInflateRaw, type InflateRaw } from "node:zlib";
import type { RTCDataChannel } from "werift";
import {
  decodeScreenMessage,
  decodeScreenRecord,
  SCREEN_CHANNEL_LABEL,
  type ScreenRecord,
  ScreenRecordReader,
} from "../../shared/screen.ts";
import { ScreenCanvasModel } from "../../shared/screen-model.ts";
import type { TestTechnician } from "./technician-peer.ts";

type ReceiverEvents = { record: [ScreenRecord]; message: [Uint8Array] };

export class ScreenReceiver extends EventEmitter<ReceiverEvents> {
  readonly model = new ScreenCanvasModel();
  readonly records: ScreenRecord[] = [];
  /** Messages received (before the first START too), and those that started a stream. */
  messages = 0;
  starts = 0;
  bytes = 0;
  /** Decode or apply failures: a test expects none. */
  readonly errors: string[] = [];
  channel: RTCDataChannel | undefined;
  #inflate: InflateRaw | undefined;
  #reader = new ScreenRecordReader();
  #written: Promise<void> = Promise.resolve();
  readonly #opened: Promise<RTCDataChannel>;

  /**
   * Listens on `technician`'s `screen` channel; says `screen.ready` once it is open when `ready`.
   * Without a technician, messages are handed to receive().
   */
  constructor(technician: TestTechnician | undefined, options: { ready: boolean }) {
    super();
    this.#opened = new Promise((resolve) => {
      if (technician === undefined) return;
      const take = (channel: RTCDataChannel) => {
        if (channel.label !== SCREEN_CHANNEL_LABEL || this.channel !== undefined) return;
        this.channel = channel;
        channel.onMessage.subscribe((data) => this.receive(data));
        const open = () => {
          if (options.ready) channel.send(JSON.stringify({ type: "screen.ready" }));
          resolve(channel);
        };
        if (channel.readyState === "open") open();
        else
          channel.stateChanged.subscribe((state) => {
            if (state === "open") open();
          });
      };
      // The channel may have come already (the technician answered before this receiver was made).
      for (const channel of technician.dataChannels) take(channel);
      technician.on("channel", take);
    });
  }

  /** Resolves once the channel is open. */
  open(deadlineMs = 15_000): Promise<RTCDataChannel> {
    return Promise.race([
      this.#opened,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error("screen channel did not open")), deadlineMs).unref(),
      ),
    ]);
  }

  /** Resolves with the first record `predicate` accepts, from `fromIndex` on (already received or to come). */
  nextRecord(
    predicate: (record: ScreenRecord) => boolean = () => true,
    deadlineMs = 15_000,
    fromIndex = this.records.length,
  ): Promise<ScreenRecord> {
    const seen = this.records.slice(fromIndex).find(predicate);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const listener = (record: ScreenRecord) => {
        if (!predicate(record)) return;
        clearTimeout(timer);
        this.off("record", listener);
        resolve(record);
      };
      const timer = setTimeout(() => {
        this.off("record", listener);
        reject(new Error(`no matching screen record in ${deadlineMs} ms (${this.records.length} seen)`));
      }, deadlineMs);
      this.on("record", listener);
    });
  }

  /** Resolves once every message received so far is decompressed and its records applied. */
  settled(): Promise<void> {
    return this.#written;
  }

  close(): void {
    this.#inflate?.destroy();
  }

  /** One message of the channel, as received. */
  receive(data: string | Buffer): void {
    if (typeof data === "string") {
      this.errors.push(`text message on the screen channel: ${data.slice(0, 80)}`);
      return;
    }
    this.messages += 1;
    this.bytes += data.length;
    this.emit("message", data);
    const message = decodeScreenMessage(data);
    if (!message.ok) {
      this.errors.push(`${message.code}: ${message.message}`);
      return;
    }
    if (message.start) {
      this.starts += 1;
      this.#inflate?.destroy();
      this.#reader = new ScreenRecordReader();
      const inflate = createInflateRaw();
      const reader = this.#reader;
      inflate.on("data", (bytes: Buffer) => this.#onBytes(reader, bytes));
      inflate.on("error", (error) => this.errors.push(`inflate: ${error.message}`));
      this.#inflate = inflate;
    }
    // Before the first START nothing can be read (the console ignores the channel until one).
    const inflate = this.#inflate;
    if (inflate === undefined) return;
    this.#written = new Promise((resolve) => inflate.write(message.payload, () => resolve()));
  }

  #onBytes(reader: ScreenRecordReader, bytes: Buffer): void {
    if (reader !== this.#reader) return;
    const split = reader.push(bytes);
    if (!split.ok) {
      this.errors.push(`${split.code}: ${split.message}`);
      return;
    }
    for (const body of split.bodies) {
      const decoded = decodeScreenRecord(body);
      if (!decoded.ok) {
        this.errors.push(`${decoded.code}: ${decoded.message}`);
        continue;
      }
      try {
        const { hide } = this.model.apply(decoded.record);
        this.model.hideTiles(hide);
      } catch (error) {
        this.errors.push(`apply: ${error instanceof Error ? error.message : String(error)}`);
        continue;
      }
      this.records.push(decoded.record);
      this.emit("record", decoded.record);
    }
  }
}
