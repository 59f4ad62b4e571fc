/**
 * The capture worker's part of the screen copy path (docs/screen-copy-path.md): for each changed
 * frame while the path is on, the record of what changed in the lossless tiles (ScreenOps,
 * against a copy of the previous frame: the MIT-SHM image is updated in place), its `screen`
 * channel messages (ScreenWriter: one deflate stream for every technician), which tiles the
 * encoder's input keeps frozen (i420.ts), and whether the video needs the frame at all (when only
 * lossless tiles changed, the record alone brings the console up to date).
 *
 * The main thread turns the path on (every technician viewing said `screen.ready`) and off, and
 * asks for a new stream (a technician joined, resynced or drained): START, then a RESET record
 * with every lossless tile whole. Off, every tile goes back to the video with the next frame, and
 * a last record hides them for the consoles that drew them.
 */
import { SCREEN_START, SCREEN_TILE, type ScreenRecord, tileGrid } from "../../shared/screen.ts";
import type { ScreenFrame } from "./capture.ts";
import type { RowRange, TileFreeze } from "./i420.ts";
import { pixelsOf } from "./row-hashes.ts";
import { rtpTimestamp } from "./rtp-clock.ts";
import { type FramePixels, ScreenOps, type ScreenTime } from "./screen-ops.ts";
import { ScreenWriter } from "./screen-writer.ts";
import type { ScreenMessages } from "./worker-protocol.ts";

/** What the encoder's input keeps frozen, and whether the video's picture changed (ScreenStep). */
export type ScreenFreeze = TileFreeze & { readonly video: boolean };

export type ScreenPathOutput = {
  readonly send: (messages: ScreenMessages) => void;
  /** A record not written (the stream failed): told for the log; the next frame starts a new stream. */
  readonly failed: (error: unknown) => void;
};

export class ScreenPath {
  readonly #output: ScreenPathOutput;
  readonly #writer = new ScreenWriter();
  #on = false;
  /** A new stream is due with the next frame (START + snapshot). */
  #restart = false;
  /** The tiles state and the previous frame's copy, while the path runs. */
  #ops: ScreenOps | undefined;
  #copy: Buffer | undefined;
  /** Tiles to hand back to the video with the next frame (the path turned off). */
  #unfreeze: readonly number[] = [];
  /** The size of the screen the last record was of (the hiding record needs it). */
  #size = { width: 0, height: 0 };
  /** A stream was started and not closed: consoles may draw lossless tiles. */
  #streaming = false;
  /** The last record's write, settled (tests wait for it). */
  #written: Promise<void> = Promise.resolve();
  /** Frames through the path, and the milliseconds spent on them (stats). */
  frames = 0;
  ms = 0;
  /** The milliseconds the last frame took (0 when the path was off for it). */
  lastMs = 0;

  constructor(output: ScreenPathOutput) {
    this.#output = output;
  }

  get on(): boolean {
    return this.#on;
  }

  set on(on: boolean) {
    if (on === this.#on) return;
    this.#on = on;
    if (on) {
      this.#restart = true;
      return;
    }
    this.#unfreeze = [...this.#unfreeze, ...(this.#ops?.reset() ?? [])];
    this.#ops = undefined;
    this.#copy = undefined;
    this.#restart = false;
  }

  /** A new stream for everyone, with the next frame (ignored while off: turning on starts one). */
  restart(): void {
    if (this.#on) this.#restart = true;
  }

  /** A frame is wanted even if the screen did not change: a new stream, or tiles to hand back. */
  get due(): boolean {
    return this.#restart || this.#unfreeze.length > 0;
  }

  /**
   * The frame captured, `rows` = where it differs from the previous one given here,
   * `capturedAt` on performance.now()'s clock (its timestamp is `Math.round(capturedAt * 1000)` µs,
   * as the video's). Returns what the encoder's input keeps frozen, undefined when nothing is.
   */
  frame(frame: ScreenFrame, rows: readonly RowRange[], capturedAt: number): ScreenFreeze | undefined {
    this.lastMs = 0;
    if (!this.#on && this.#unfreeze.length === 0) return undefined;
    const began = performance.now();
    const time: ScreenTime = {
      rtpTimestamp: rtpTimestamp(Math.round(capturedAt * 1000)),
      capturedAt: performance.timeOrigin + capturedAt,
    };
    const freeze = this.#on ? this.#step(frame, rows, time) : this.#off(frame, time);
    this.frames += 1;
    this.lastMs = performance.now() - began;
    this.ms += this.lastMs;
    return freeze;
  }

  /** Resolves once every record written so far went out (or failed). */
  settled(): Promise<void> {
    return this.#written;
  }

  /** Ends the stream (the worker stops). */
  close(): void {
    this.#writer.close();
  }

  #step(frame: ScreenFrame, rows: readonly RowRange[], time: ScreenTime): ScreenFreeze {
    const next: FramePixels = { ...pixelsOf(frame), order: frame.order };
    let ops = this.#ops;
    let copy = this.#copy;
    let step: ReturnType<ScreenOps["next"]> | undefined;
    if (ops === undefined || copy === undefined || ops.width !== frame.width || ops.height !== frame.height) {
      // A new screen (or the path just on): the tiles start as video, the copy from this frame.
      const hidden = ops === undefined ? [] : ops.reset();
      this.#unfreeze = [...this.#unfreeze, ...hidden];
      ops = new ScreenOps(frame.width, frame.height);
      copy = Buffer.from(frame.data);
      this.#ops = ops;
      this.#copy = copy;
      this.#restart = true;
    } else {
      const previous: FramePixels = { ...pixelsOf({ ...frame, data: copy }), order: frame.order };
      step = ops.next(previous, next, rows, time);
      const stride = frame.width * 4;
      for (const { start, end } of rows) frame.data.copy(copy, start * stride, start * stride, end * stride);
    }
    let record = step?.record;
    if (this.#restart) {
      this.#restart = false;
      this.#writer.start();
      this.#streaming = true;
      record = ops.snapshot(next, time);
    }
    if (record !== undefined) this.#write(record, time);
    const unfrozen = [...this.#unfreeze, ...(step?.unfrozen ?? [])];
    this.#unfreeze = [];
    this.#size = { width: frame.width, height: frame.height };
    return {
      size: SCREEN_TILE,
      frozen: step?.frozen ?? new Uint8Array(tileGrid(frame.width, frame.height).count),
      unfrozen,
      // A new screen (no step) or tiles handed back: the video takes this frame.
      video: step === undefined || unfrozen.length > 0 || step.video,
    };
  }

  /** The path went off: every lossless tile back to the video now, hidden on the consoles. */
  #off(frame: ScreenFrame, time: ScreenTime): ScreenFreeze {
    const unfrozen = this.#unfreeze;
    this.#unfreeze = [];
    const { width, height } = this.#size;
    if (this.#streaming && width === frame.width && height === frame.height) {
      const count = tileGrid(width, height).count;
      const hide = [...new Set(unfrozen)].filter((tile) => tile < count).sort((a, b) => a - b);
      this.#write({ reset: false, ...time, width, height, show: [], hide, copies: [], rects: [] }, time);
    }
    this.#streaming = false;
    this.#writer.close();
    const frozen = new Uint8Array(tileGrid(frame.width, frame.height).count);
    return { size: SCREEN_TILE, frozen, unfrozen, video: true };
  }

  #write(record: ScreenRecord, time: ScreenTime): void {
    this.#written = this.#writer.write(record).then(
      (messages) => {
        if (messages.length === 0) return;
        const start = ((messages[0]?.[0] ?? 0) & SCREEN_START) !== 0;
        this.#output.send({ messages, start, ...time });
      },
      (error: unknown) => {
        this.#output.failed(error);
        if (this.#on) this.#restart = true;
      },
    );
  }
}
