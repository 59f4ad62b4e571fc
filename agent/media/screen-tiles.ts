/**
 * Which 64x64 tiles of the screen go the lossless way (docs/screen-copy-path.md, "Classification"),
 * as data: three states, one transition table, every move through `fire`.
 *
 * - video: the video shows the tile. It becomes lossless (`fits`) when it changed and its whole
 *   new content fits one palette (at most 256 colours): text, a terminal, a flat user interface.
 * - lossless: the canvas shows it and the video keeps it frozen. It leaves (to cooling) when a
 *   change brings more than 256 colours into it (`overflow`: a photo, a video, a gradient arrive),
 *   or when what it costs stays above the budget for long (`overBudget`: an animation of few
 *   colours redrawing the whole tile many times a second); `off` (the path turned off) makes it
 *   video at once.
 * - cooling: video, and not allowed back for a while: 1 s after the first leave, doubling with each
 *   further leave up to 32 s (so content that keeps changing its mind costs one flip per period,
 *   not one per frame); a tile that stayed lossless 10 s starts again at 1 s. `cooled` makes it
 *   video again once the time has passed (looked at when it next changes).
 *
 * The budget is in raw packed bytes (palette indices before deflate) per tile, a leaky bucket:
 * each record charges a tile what it sent of it, the bucket drains at BUDGET_BYTES_PER_SECOND,
 * and a tile whose bucket holds more than BUDGET_HOLD_MS of budget leaves. 24 KiB/s is a whole tile
 * redrawn at 1 bit per pixel 48 times a second, or at 8 bits 6 times: scrolling text (1 bit, new
 * rows only, and deflate shrinks it 20-50x) stays far below; a palette animation redrawn at 8 bits
 * 30 times a second (123 KiB/s raw, deflate barely shrinks it, the video codes it for a few KiB/s)
 * leaves within a second. Times are capture times in ms (the records' `capturedAt`).
 */
import { SosError } from "../../shared/errors.ts";

export const TILE_STATES = ["video", "lossless", "cooling"] as const;
export type TileState = (typeof TILE_STATES)[number];

export const TILE_EVENTS = ["fits", "overflow", "overBudget", "cooled", "off"] as const;
export type TileEvent = (typeof TILE_EVENTS)[number];

/** The one transition table: for each state, the events that move a tile and where to. An event a state does not list leaves the tile as it is. */
export const TILE_TRANSITIONS = {
  video: { fits: "lossless" },
  lossless: { overflow: "cooling", overBudget: "cooling", off: "video" },
  cooling: { cooled: "video" },
} as const satisfies { readonly [S in TileState]: Partial<Record<TileEvent, TileState>> };

/** At most this many colours in a lossless tile's new content (the wire's palette). */
export const TILE_MAX_COLOURS = 256;
/** A tile that left may come back after this long at the earliest. */
export const REENTER_AFTER_MS = 1_000;
/** ... doubling with each leave up to this. */
export const MAX_REENTER_AFTER_MS = 32_000;
/** A tile lossless this long before it leaves waits REENTER_AFTER_MS again. */
export const SETTLED_MS = 10_000;
/** Raw packed bytes per tile per second that a lossless tile may cost on average. */
export const BUDGET_BYTES_PER_SECOND = 24 * 1024;
/** How long a tile may stay above the budget (the bucket's depth, in time at the budget's rate). */
export const BUDGET_HOLD_MS = 3_000;

const VIDEO = TILE_STATES.indexOf("video");
const LOSSLESS = TILE_STATES.indexOf("lossless");

export type TilePolicy = { readonly budgetBytesPerSecond: number; readonly holdMs: number };
export const DEFAULT_TILE_POLICY: TilePolicy = {
  budgetBytesPerSecond: BUDGET_BYTES_PER_SECOND,
  holdMs: BUDGET_HOLD_MS,
};

/** The state of every tile of one screen, and what each lossless tile has cost lately. */
export class ScreenTiles {
  readonly count: number;
  readonly #policy: TilePolicy;
  readonly #states: Uint8Array;
  readonly #enteredAt: Float64Array;
  readonly #coolUntil: Float64Array;
  readonly #leaves: Uint8Array;
  readonly #debt: Float64Array;
  readonly #debtAt: Float64Array;

  constructor(count: number, policy: TilePolicy = DEFAULT_TILE_POLICY) {
    this.count = count;
    this.#policy = policy;
    this.#states = new Uint8Array(count).fill(VIDEO);
    this.#enteredAt = new Float64Array(count);
    this.#coolUntil = new Float64Array(count);
    this.#leaves = new Uint8Array(count);
    this.#debt = new Float64Array(count);
    this.#debtAt = new Float64Array(count);
  }

  state(tile: number): TileState {
    return TILE_STATES[this.#states[tile] ?? VIDEO] ?? "video";
  }

  isLossless(tile: number): boolean {
    return this.#states[tile] === LOSSLESS;
  }

  /** Per tile, 1 where lossless (a copy: the caller may keep it). */
  frozen(): Uint8Array {
    const frozen = new Uint8Array(this.count);
    for (let tile = 0; tile < this.count; tile += 1) frozen[tile] = this.#states[tile] === LOSSLESS ? 1 : 0;
    return frozen;
  }

  /** Moves `tile` as the table says for `event` at capture time `at`; whether it moved. */
  fire(tile: number, event: TileEvent, at: number): boolean {
    if (tile < 0 || tile >= this.count) throw new SosError("INTERNAL", `screen tiles: no tile ${tile}`);
    const from = this.state(tile);
    const moves: Partial<Record<TileEvent, TileState>> = TILE_TRANSITIONS[from];
    const to = moves[event];
    if (to === undefined) return false;
    if (to === "lossless") {
      this.#enteredAt[tile] = at;
      this.#debt[tile] = 0;
      this.#debtAt[tile] = at;
    } else if (to === "cooling") {
      const settled = at - (this.#enteredAt[tile] ?? 0) >= SETTLED_MS;
      const leaves = settled ? 1 : Math.min(8, (this.#leaves[tile] ?? 0) + 1);
      this.#leaves[tile] = leaves;
      this.#coolUntil[tile] = at + Math.min(MAX_REENTER_AFTER_MS, REENTER_AFTER_MS * 2 ** (leaves - 1));
    }
    this.#states[tile] = TILE_STATES.indexOf(to);
    return true;
  }

  /** A cooling tile whose time has passed becomes video (then it may `fit` again); whether it may. */
  mayEnter(tile: number, at: number): boolean {
    if (this.state(tile) === "cooling" && at >= (this.#coolUntil[tile] ?? 0)) this.fire(tile, "cooled", at);
    return this.state(tile) === "video";
  }

  /** When a cooling tile may come back (capture time), or undefined for a tile not cooling. */
  coolingUntil(tile: number): number | undefined {
    return this.state(tile) === "cooling" ? this.#coolUntil[tile] : undefined;
  }

  /** A record sent `bytes` of `tile` at `at`. */
  charge(tile: number, bytes: number, at: number): void {
    this.#debt[tile] = this.#drained(tile, at) + bytes;
    this.#debtAt[tile] = at;
  }

  /** Whether `tile`'s cost has stayed above the budget for long (as of `at`). */
  overBudget(tile: number, at: number): boolean {
    const { budgetBytesPerSecond, holdMs } = this.#policy;
    return this.#drained(tile, at) > (budgetBytesPerSecond * holdMs) / 1000;
  }

  #drained(tile: number, at: number): number {
    const elapsed = Math.max(0, at - (this.#debtAt[tile] ?? at));
    return Math.max(0, (this.#debt[tile] ?? 0) - (this.#policy.budgetBytesPerSecond * elapsed) / 1000);
  }
}
