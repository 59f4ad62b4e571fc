/**
 * Spreads a frame's RTP packets over time instead of handing them to the socket in one burst, as
 * libwebrtc's pacer does. A 1080p keyframe is 100-300 packets; sent at once, they arrive together
 * in the receiver's UDP socket and in every router queue on the way. Chromium's media socket has a
 * 2 MB receive buffer, but after an ICE restart the agent's video went to one with 128 KB
 * (`ss -uampn`: rb131072, about 55 packets of 1.2 KB), whose drop counter rose (53) on loopback
 * on a loaded machine; werift keeps only 128 packets for NACK, so the start of such a frame cannot
 * always be sent again, and the receiver asks for another keyframe (another burst).
 *
 * The pace is PACING_FACTOR times the stream's bitrate (libwebrtc's 2.5), and faster when needed
 * so that what is queued leaves within one frame interval of the newest frame's arrival: a frame
 * is never held back beyond its own interval, and a small one (a key's echo: one to three packets)
 * goes at once. Packets leave in bursts at most BURST_MS apart (Node's timers are
 * millisecond-grained), each burst what the pace allows since the previous one.
 *
 * After a pause, up to BURST_CREDIT_MS of the pace goes at once (libwebrtc's pacer allows a 40 ms
 * burst too): at the default 3 Mbit/s that is ~37 KB, ~31 packets, well inside the 128 KB socket
 * buffer above, so an ordinary frame of a scrolling screen (5-25 packets) leaves whole instead of
 * over 10-30 ms, which a key's echo in it waited for (bench:latency, while scrolling: sent to
 * arrived 10 ms median at 5 ms of credit). A keyframe still leaves spread over its interval.
 *
 * Pure timing: the caller says what time it is, sends what take() hands back and comes back after
 * wait() milliseconds (technician-peer.ts).
 */

export const PACING_FACTOR = 2.5;
/** Longest gap between two bursts while packets are queued. */
export const BURST_MS = 5;
/** The most idle time saves up: a burst after a pause carries at most this many ms of the pace. */
export const BURST_CREDIT_MS = 40;

export type PaceSettings = {
  /** The stream's bitrate, bit/s. */
  readonly bitrate: number;
  /** Its frame rate (the cap the capture follows): a frame's packets leave within 1000 / fps ms. */
  readonly fps: number;
};

type Queued<T> = { readonly item: T; readonly bytes: number };

export class PacedQueue<T> {
  readonly #queue: Queued<T>[] = [];
  #queuedBytes = 0;
  /** Bytes that may still go before the pace is exceeded (negative: sent ahead of it). */
  #budget = 0;
  #at: number;
  /** When everything queued must be out: the newest frame's arrival plus a frame interval. */
  #deadline = 0;

  constructor(now: number) {
    this.#at = now;
  }

  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  get length(): number {
    return this.#queue.length;
  }

  /** Queues one frame's packets (`bytes` gives each one's size on the wire). */
  push(items: readonly T[], bytes: (item: T) => number, now: number, settings: PaceSettings): void {
    this.#advance(now, settings);
    for (const item of items) {
      const size = bytes(item);
      this.#queue.push({ item, bytes: size });
      this.#queuedBytes += size;
    }
    this.#deadline = now + 1_000 / Math.max(1, settings.fps);
  }

  /** The packets that may go now, in order. */
  take(now: number, settings: PaceSettings): T[] {
    this.#advance(now, settings);
    const out: T[] = [];
    while (this.#budget > 0) {
      const next = this.#queue.shift();
      if (next === undefined) break;
      this.#budget -= next.bytes;
      this.#queuedBytes -= next.bytes;
      out.push(next.item);
    }
    return out;
  }

  /** Milliseconds until take() has something again; undefined when nothing is queued. */
  wait(now: number, settings: PaceSettings): number | undefined {
    if (this.#queue.length === 0) return undefined;
    if (this.#budget > 0) return 0;
    const rate = this.#rate(now, settings);
    return Math.min(BURST_MS, Math.max(1, Math.ceil(-this.#budget / rate)));
  }

  /** Drops what is queued (the connection closed). */
  clear(): void {
    this.#queue.length = 0;
    this.#queuedBytes = 0;
  }

  /** Bytes per millisecond: the pace, or faster when the queue would miss its deadline. */
  #rate(now: number, settings: PaceSettings): number {
    const paced = pace(settings);
    const left = this.#deadline - now;
    const needed = left > 1 ? this.#queuedBytes / left : this.#queuedBytes;
    return Math.max(paced, needed, 1);
  }

  /** Credits the time since the last call at the current rate, at most a burst's worth. */
  #advance(now: number, settings: PaceSettings): void {
    const rate = this.#rate(now, settings);
    const elapsed = Math.max(0, now - this.#at);
    this.#at = now;
    // Idle time saves up into a burst of at most BURST_CREDIT_MS of the pace (of the faster rate
    // a late queue needs, one step's worth), and at least one packet may always go.
    const credit = Math.max(pace(settings) * BURST_CREDIT_MS, rate * BURST_MS, 1);
    this.#budget = Math.min(this.#budget + elapsed * rate, credit);
  }
}

/** The pace, bytes per millisecond. */
function pace(settings: PaceSettings): number {
  return (settings.bitrate * PACING_FACTOR) / 8 / 1_000;
}
