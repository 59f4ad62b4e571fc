/**
 * The `screen` data channel of a technician's view (docs/screen-copy-path.md, "The channel"), as
 * the screen fanout sees it: binary messages out, never throwing, with its buffered amount watched;
 * the console's text messages in, decoded here, at the channel's one decode point
 * (screenControlSchema): an invalid one is told (logged) and dropped, as on `control`.
 */
import type { RTCDataChannel } from "werift";
import { decodeMessage } from "../../shared/decode.ts";
import { type ScreenControl, screenControlSchema } from "../../shared/screen.ts";

export type ScreenLink = {
  readonly open: boolean;
  /** Bytes queued on the channel and not yet handed to the network. */
  readonly bufferedAmount: number;
  /**
   * Sends one message; false when it did not go (the channel is not open, or werift refused it).
   * Never throws: the fanout sends from the worker's message handler, which nothing catches.
   */
  send(message: Uint8Array): boolean;
  /** Calls `listener` once bufferedAmount has fallen to `threshold` or below, or the channel closed. */
  whenLow(threshold: number, listener: () => void): void;
};

export type ScreenLinkEvents = {
  /** A valid message from the console: `screen.ready` or `screen.resync`. */
  readonly control: (message: ScreenControl) => void;
  /** A message that failed validation (dropped): why. */
  readonly invalid: (reason: string) => void;
  /** The channel closed: nothing more goes or comes on it. */
  readonly closed: () => void;
};

/** werift's `screen` channel as a ScreenLink, its console messages decoded to `events`. */
export function screenLinkOf(channel: RTCDataChannel, events: ScreenLinkEvents): ScreenLink {
  channel.onMessage.subscribe((data) => {
    if (typeof data !== "string") {
      events.invalid("binary message on the screen channel");
      return;
    }
    const decoded = decodeMessage(screenControlSchema, data);
    if (decoded.ok) events.control(decoded.value);
    else events.invalid(`screen channel: ${decoded.error.message}`);
  });
  channel.stateChanged.subscribe((state) => {
    if (state === "closed") events.closed();
  });
  return {
    get open() {
      return channel.readyState === "open";
    },
    get bufferedAmount() {
      return channel.bufferedAmount;
    },
    send(message) {
      if (channel.readyState !== "open") return false;
      try {
        channel.send(Buffer.from(message.buffer, message.byteOffset, message.byteLength));
        return true;
      } catch {
        // The association went between the check and the send, or werift refused the size.
        return false;
      }
    },
    whenLow(threshold, listener) {
      if (channel.bufferedAmount <= threshold || channel.readyState !== "open") {
        queueMicrotask(listener);
        return;
      }
      let done = false;
      const once = () => {
        if (done) return;
        done = true;
        low.unSubscribe();
        closed.unSubscribe();
        listener();
      };
      channel.bufferedAmountLowThreshold = threshold;
      const low = channel.bufferedAmountLow.subscribe(once);
      const closed = channel.stateChanged.subscribe((state) => {
        if (state === "closed") once();
      });
    },
  };
}
