/**
 * The states of one file transfer on the agent, as data, with the one table of moves between them
 * (shared/lifecycle.ts). A transfer that ends leaves its map; these are the states while it lives.
 *
 * Outgoing (the end user's file): offered (waiting for the technician to take it) → sending →
 * sent (all bytes and `file.done` out, waiting for `file.saved`). The channel going away makes a
 * sending or sent transfer `suspended` (an offered one stays offered); the next channel re-offers
 * both, a suspended one as `resuming` until the technician's accept says from where.
 *
 * Incoming (a technician's file): receiving → checking (`file.done` came: size and SHA-256). The
 * channel going away makes a receiving one `suspended`; the sender's offer again makes it receiving.
 */
import type { Transitions } from "../../shared/lifecycle.ts";

export const OUTGOING_STATES = ["offered", "sending", "sent", "suspended", "resuming"] as const;
export type OutgoingState = (typeof OUTGOING_STATES)[number];

export const OUTGOING_TRANSITIONS: Transitions<OutgoingState> = {
  offered: ["sending", "offered"],
  sending: ["sent", "suspended"],
  sent: ["suspended"],
  suspended: ["resuming"],
  resuming: ["sending", "suspended"],
};

export const INCOMING_STATES = ["receiving", "checking", "suspended"] as const;
export type IncomingState = (typeof INCOMING_STATES)[number];

export const INCOMING_TRANSITIONS: Transitions<IncomingState> = {
  receiving: ["checking", "suspended"],
  checking: [],
  suspended: ["receiving"],
};

/** Moves a transfer to `to`, or throws when its table does not allow it (a bug here, not a condition). */
export function move<S extends string>(transfer: { state: S }, to: S, table: Transitions<S>): void {
  if (!table[transfer.state].includes(to))
    throw new Error(`file transfer: no transition from ${transfer.state} to ${to}`);
  transfer.state = to;
}
