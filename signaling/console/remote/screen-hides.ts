import { rtpAtOrAfter } from "../../../shared/screen.ts";

/**
 * Tiles going back to the video, held on the canvas until the video shows them as new as the
 * record that handed them back (docs/screen-copy-path.md: the picture never goes back in time).
 * A presented video frame whose RTP timestamp is at or after the record's (serial-number order)
 * releases them; a browser that does not tell the frame's RTP timestamp (Firefox ESR's
 * requestVideoFrameCallback metadata has none) releases them at the first frame presented after
 * the record was applied. A tile the agent makes lossless again before that is no longer pending.
 */

export type PresentedFrame = {
  /** The frame's RTP timestamp (90 kHz), when the browser tells it. */
  readonly rtpTimestamp: number | undefined;
  /** When the frame was presented (performance.now() time base). */
  readonly presentedAt: number;
};

type Pending = { readonly tiles: Set<number>; readonly rtpTimestamp: number; readonly appliedAt: number };

export type HideQueue = {
  /** A record applied at `appliedAt` (performance.now()) handed `tiles` back to the video. */
  add(tiles: readonly number[], rtpTimestamp: number, appliedAt: number): void;
  /** These tiles became lossless again: whatever was pending for them no longer is. */
  shown(tiles: readonly number[]): void;
  /** The tiles the presented frame releases (each once), in the order they were handed back. */
  due(frame: PresentedFrame): number[];
  /** A RESET: nothing is pending. */
  clear(): void;
  readonly size: number;
};

export function createHideQueue(): HideQueue {
  let pending: Pending[] = [];
  return {
    add(tiles, rtpTimestamp, appliedAt) {
      if (tiles.length > 0) pending.push({ tiles: new Set(tiles), rtpTimestamp, appliedAt });
    },
    shown(tiles) {
      for (const entry of pending) for (const tile of tiles) entry.tiles.delete(tile);
      pending = pending.filter((entry) => entry.tiles.size > 0);
    },
    due(frame) {
      const released: number[] = [];
      const kept: Pending[] = [];
      for (const entry of pending) {
        const caughtUp =
          frame.rtpTimestamp === undefined
            ? frame.presentedAt >= entry.appliedAt
            : rtpAtOrAfter(frame.rtpTimestamp, entry.rtpTimestamp);
        if (caughtUp) released.push(...entry.tiles);
        else kept.push(entry);
      }
      pending = kept;
      return [...new Set(released)];
    },
    clear() {
      pending = [];
    },
    get size() {
      return pending.length;
    },
  };
}
