/** The agent's signaling connection as data: its states and the one table of moves between them. */
import type { Transitions } from "../../shared/lifecycle.ts";

/**
 * The connection's lifecycle. idle: not yet joined. joining: the first hello is out. open: welcomed,
 * messages flow. waiting: dropped, the next resume attempt waits for its backoff. resuming: a
 * resume hello is out. failed: the gateway refused, or stayed away past the grace. closed: close()
 * was called. Terminal: closed (failed still allows close()).
 */
export const CONNECTION_STATES = [
  "idle",
  "joining",
  "open",
  "waiting",
  "resuming",
  "failed",
  "closed",
] as const;
export type ConnectionState = (typeof CONNECTION_STATES)[number];

/** The one transition table of the connection. */
export const CONNECTION_TRANSITIONS: Transitions<ConnectionState> = {
  idle: ["joining", "closed"],
  joining: ["open", "failed", "closed"],
  open: ["waiting", "failed", "closed"],
  waiting: ["resuming", "closed"],
  resuming: ["open", "waiting", "failed", "closed"],
  failed: ["closed"],
  closed: [],
};
