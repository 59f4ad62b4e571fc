import { createLifecycle, type Lifecycle, type Transitions } from "../../../shared/lifecycle.ts";

/**
 * The console's `screen` channel link as data (docs/screen-copy-path.md, "Wire format, version 1").
 *
 * waiting: a channel is attached (or none yet); nothing is decoded until a message flagged START.
 * streaming: a deflate stream began with a START message; each message's piece goes into it.
 * lost: decoding failed (a decode or framing code, a broken deflate stream); the agent was asked
 *   once (`screen.resync`) and every message is ignored until the next START.
 * closed: the view ended (terminal).
 *
 * What happens on each input in each state is one table: the state it moves to and what the link
 * does. A text message from the agent is never part of the protocol: it is ignored (and counted)
 * in every state.
 */

export const SCREEN_LINK_STATES = ["waiting", "streaming", "lost", "closed"] as const;
export type ScreenLinkState = (typeof SCREEN_LINK_STATES)[number];

export const SCREEN_LINK_INPUTS = [
  /** A channel came (a new peer, or the first one) or the current one closed: the stream is dropped. */
  "channel",
  /** A binary message flagged START. */
  "start",
  /** A binary message not flagged START. */
  "piece",
  /** A text message (the agent sends binary only). */
  "text",
  /** The stream failed: a decode or framing code, a malformed message, the deflate stream broke. */
  "failed",
  "close",
] as const;
export type ScreenLinkInput = (typeof SCREEN_LINK_INPUTS)[number];

/**
 * begin: a new decompression stream (the old one discarded) and the message's piece into it.
 * write: the piece into the current stream. drop: discard the stream, nothing sent.
 * resync: discard the stream and send `screen.resync` once. ignore: nothing.
 */
export const SCREEN_LINK_ACTIONS = ["begin", "write", "drop", "resync", "ignore"] as const;
export type ScreenLinkAction = (typeof SCREEN_LINK_ACTIONS)[number];

export type ScreenLinkStep = { readonly to: ScreenLinkState; readonly action: ScreenLinkAction };

const step = (to: ScreenLinkState, action: ScreenLinkAction): ScreenLinkStep => ({ to, action });

export const SCREEN_LINK_TABLE: Readonly<
  Record<ScreenLinkState, Readonly<Record<ScreenLinkInput, ScreenLinkStep>>>
> = {
  waiting: {
    channel: step("waiting", "drop"),
    start: step("streaming", "begin"),
    piece: step("waiting", "ignore"),
    text: step("waiting", "ignore"),
    failed: step("waiting", "ignore"),
    close: step("closed", "drop"),
  },
  streaming: {
    channel: step("waiting", "drop"),
    start: step("streaming", "begin"),
    piece: step("streaming", "write"),
    text: step("streaming", "ignore"),
    failed: step("lost", "resync"),
    close: step("closed", "drop"),
  },
  lost: {
    channel: step("waiting", "drop"),
    start: step("streaming", "begin"),
    piece: step("lost", "ignore"),
    text: step("lost", "ignore"),
    failed: step("lost", "ignore"),
    close: step("closed", "drop"),
  },
  closed: {
    channel: step("closed", "ignore"),
    start: step("closed", "ignore"),
    piece: step("closed", "ignore"),
    text: step("closed", "ignore"),
    failed: step("closed", "ignore"),
    close: step("closed", "ignore"),
  },
};

/** The moves the table makes, for the lifecycle that checks them. */
const movesFrom = (from: ScreenLinkState): ScreenLinkState[] => [
  ...new Set(SCREEN_LINK_INPUTS.map((input) => SCREEN_LINK_TABLE[from][input].to)),
];
const SCREEN_LINK_TRANSITIONS: Transitions<ScreenLinkState> = {
  waiting: movesFrom("waiting"),
  streaming: movesFrom("streaming"),
  lost: movesFrom("lost"),
  closed: movesFrom("closed"),
};

export const screenLinkLife = (): Lifecycle<ScreenLinkState> =>
  createLifecycle({ name: "console screen link", initial: "waiting", transitions: SCREEN_LINK_TRANSITIONS });
