import { createLifecycle, type Lifecycle, type Transitions } from "../../../shared/lifecycle.ts";

/**
 * The states of one live file transfer in the console, as data, with the one table of moves
 * between them (shared/lifecycle.ts: a move the table does not list is a bug, and throws). A
 * transfer that ends leaves its map; the panel's phases (file-link-list.ts) say how it ended.
 *
 * Outgoing (the technician's file): offered → sending (the agent's `file.accept`) → sent (all
 * bytes and `file.done` out, waiting for `file.saved`). The channel going away makes a sending or
 * sent one `paused` (an offered one stays offered); the next channel re-offers both, and the
 * agent's accept says from where (paused → sending).
 *
 * Incoming (the end user's file, fetched): receiving, or paused while no channel is open; the
 * agent's offer of it again resumes it (also when it was receiving: from the bytes here).
 */

export const OUTGOING_STATES = ["offered", "sending", "sent", "paused"] as const;
export type OutgoingState = (typeof OUTGOING_STATES)[number];

const OUTGOING_TRANSITIONS: Transitions<OutgoingState> = {
  offered: ["sending"],
  sending: ["sent", "paused"],
  sent: ["paused"],
  paused: ["sending"],
};

export const INCOMING_STATES = ["receiving", "paused"] as const;
export type IncomingState = (typeof INCOMING_STATES)[number];

const INCOMING_TRANSITIONS: Transitions<IncomingState> = {
  receiving: ["paused", "receiving"],
  paused: ["receiving"],
};

export const outgoingLife = (): Lifecycle<OutgoingState> =>
  createLifecycle({ name: "console file out", initial: "offered", transitions: OUTGOING_TRANSITIONS });

export const incomingLife = (initial: IncomingState): Lifecycle<IncomingState> =>
  createLifecycle({ name: "console file in", initial, transitions: INCOMING_TRANSITIONS });
