/**
 * Runs frames through ScreenOps as the capture worker will, and every record through the wire's
 * encoder, decoder and the console's model (shared/screen-model.ts), checking after each frame what
 * the path promises: every lossless tile of the model equals the frame exactly, the model's lossless
 * tiles are the ones ScreenOps froze, a tile that left is not back within REENTER_AFTER_MS, and
 * every tile the video shows equals the frame in the last frame the video was given (a frame goes
 * to the video only when ScreenOps says its picture changed: `video`).
 */
import type { Test } from "tap";
import { changedRows } from "../../agent/media/i420.ts";
import { type FramePixels, ScreenOps, type ScreenStep } from "../../agent/media/screen-ops.ts";
import { REENTER_AFTER_MS } from "../../agent/media/screen-tiles.ts";
import {
  decodeScreenRecord,
  encodeScreenRecord,
  type ScreenRecord,
  tileGrid,
  tileRect,
} from "../../shared/screen.ts";
import { ScreenCanvasModel } from "../../shared/screen-model.ts";

export type Flip = { readonly tile: number; readonly at: number; readonly to: "lossless" | "video" };

export class Harness {
  readonly t: Test;
  ops: ScreenOps;
  model = new ScreenCanvasModel();
  previous: FramePixels;
  at = 1_000_000;
  frozen: Uint8Array;
  readonly flips: Flip[] = [];
  readonly records: ScreenRecord[] = [];
  /** Encoded bytes (with the length prefix) of each record. */
  readonly sizes: number[] = [];
  /** The last frame handed to the video (the first, then each whose step said `video`). */
  videoFrame: FramePixels;
  /** Steps that needed no video frame. */
  screenOnly = 0;

  constructor(t: Test, first: FramePixels) {
    this.t = t;
    this.previous = first;
    this.ops = new ScreenOps(first.width, first.height);
    this.frozen = new Uint8Array(tileGrid(first.width, first.height).count);
    this.videoFrame = first;
  }

  /** `next` captured `dt` ms after the last frame: through ScreenOps, the wire and the model; then checked. */
  step(next: FramePixels, dt = 50): ScreenStep {
    this.at += dt;
    const changed = changedRows(this.previous.data, next.data, next.width, next.height);
    const step = this.ops.next(this.previous, next, changed, {
      rtpTimestamp: Math.round(this.at * 90) >>> 0,
      capturedAt: this.at,
    });
    this.#deliver(step.record);
    this.t.same(step.unfrozen, step.record?.hide ?? [], "unfrozen: the record's hidden tiles");
    this.#flips(step.frozen);
    this.previous = next;
    this.check(next, step.frozen);
    if (step.video) this.videoFrame = next;
    else this.screenOnly += 1;
    const stale = [...step.frozen.keys()].filter(
      (tile) => step.frozen[tile] === 0 && !framesTileEqual(this.videoFrame, next, tile),
    );
    if (stale.length > 0) this.t.fail(`the video's tiles equal the frame (not: ${stale})`);
    return step;
  }

  /** A record through the encoder and the decoder to the model; the video catches up at once. */
  #deliver(record: ScreenRecord | undefined): void {
    if (record === undefined) return;
    const encoded = encodeScreenRecord(record);
    const decoded = decodeScreenRecord(encoded.subarray(4));
    if (!decoded.ok) {
      this.t.fail(`the record decodes: ${decoded.code} ${decoded.message}`);
      return;
    }
    this.records.push(record);
    this.sizes.push(encoded.length);
    this.model.apply(decoded.record);
    this.model.hideTiles(decoded.record.hide);
  }

  #flips(frozen: Uint8Array): void {
    for (let tile = 0; tile < frozen.length; tile += 1) {
      const was = this.frozen[tile] ?? 0;
      if (frozen[tile] === was) continue;
      const to = frozen[tile] === 1 ? "lossless" : "video";
      if (to === "lossless") {
        const left = this.flips.findLast((flip) => flip.tile === tile && flip.to === "video");
        if (left !== undefined && this.at - left.at < REENTER_AFTER_MS)
          this.t.fail(`tile ${tile} back ${this.at - left.at} ms after it left`);
      }
      this.flips.push({ tile, at: this.at, to });
    }
    this.frozen = frozen;
  }

  /** Every tile `frozen` marks lossless equals `frame` in the model, and only those are lossless. */
  check(frame: FramePixels, frozen: Uint8Array, model = this.model): void {
    const wrong: number[] = [];
    const states: number[] = [];
    for (let tile = 0; tile < frozen.length; tile += 1) {
      const lossless = frozen[tile] === 1;
      if (model.isLossless(tile) !== lossless) states.push(tile);
      if (lossless && !tileEquals(model, frame, tile)) wrong.push(tile);
    }
    if (states.length > 0) this.t.fail(`the model's lossless tiles are the frozen ones (not: ${states})`);
    if (wrong.length > 0) this.t.fail(`lossless tiles equal the frame exactly (not: ${wrong})`);
  }

  /** Tiles lossless now. */
  lossless(): number[] {
    return [...this.frozen.keys()].filter((tile) => this.frozen[tile] === 1);
  }
}

/** Whether tile `tile` of the model is opaque and equals `frame` (BGRX words) exactly. */
export function tileEquals(model: ScreenCanvasModel, frame: FramePixels, tile: number): boolean {
  const { x, y, w, h } = tileRect(tile, frame.width, frame.height);
  const rgba = model.rgba;
  for (let row = y; row < y + h; row += 1)
    for (let column = x; column < x + w; column += 1) {
      const word = frame.words[row * frame.width + column] ?? 0;
      const o = (row * model.width + column) * 4;
      if (
        rgba[o] !== ((word >>> 16) & 0xff) ||
        rgba[o + 1] !== ((word >>> 8) & 0xff) ||
        rgba[o + 2] !== (word & 0xff) ||
        rgba[o + 3] !== 255
      )
        return false;
    }
  return true;
}

/** Whether tile `tile` is the same in two frames of one size. */
function framesTileEqual(a: FramePixels, b: FramePixels, tile: number): boolean {
  const { x, y, w, h } = tileRect(tile, a.width, a.height);
  for (let row = y; row < y + h; row += 1)
    for (let column = x; column < x + w; column += 1) {
      const o = row * a.width + column;
      if (((a.words[o] ?? 0) & 0xffffff) !== ((b.words[o] ?? 0) & 0xffffff)) return false;
    }
  return true;
}

/** Whether tile `tile` of the model is transparent (the video shows there). */
export function tileClear(model: ScreenCanvasModel, tile: number): boolean {
  const { x, y, w, h } = tileRect(tile, model.width, model.height);
  for (let row = y; row < y + h; row += 1)
    for (let column = x; column < x + w; column += 1)
      if (model.rgba[(row * model.width + column) * 4 + 3] !== 0) return false;
  return true;
}

/** Tiles lying wholly inside `box`. */
export function tilesInside(
  width: number,
  height: number,
  box: { x: number; y: number; w: number; h: number },
): number[] {
  const tiles: number[] = [];
  const count = Math.ceil(width / 64) * Math.ceil(height / 64);
  for (let tile = 0; tile < count; tile += 1) {
    const r = tileRect(tile, width, height);
    if (r.x >= box.x && r.y >= box.y && r.x + r.w <= box.x + box.w && r.y + r.h <= box.y + box.h)
      tiles.push(tile);
  }
  return tiles;
}
