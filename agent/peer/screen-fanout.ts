/**
 * One stream of `screen` channel messages to every technician following it (like video-fanout.ts
 * for the video; docs/screen-copy-path.md, "Who gets what"): the capture worker writes each record
 * once, one deflate stream for the agent's screen, and the same bytes go to every channel in sync.
 *
 * The path runs only while every technician viewing has said `screen.ready`: an older console
 * knows nothing of the canvas, and tiles frozen in the video would show it stale text, so one that
 * never says it keeps every tile video. A technician who joins (says ready), a `screen.resync`, or
 * a channel that lagged (bufferedAmount above SCREEN_BUFFER_HIGH_BYTES: nothing more is sent to it)
 * and drained (under SCREEN_BUFFER_LOW_BYTES) asks the worker for a new stream for everyone (START
 * and a RESET record of every lossless tile); until then that technician's channel gets nothing.
 */
import { SCREEN_BUFFER_HIGH_BYTES, SCREEN_BUFFER_LOW_BYTES, SCREEN_START } from "../../shared/screen.ts";
import { trace, tracing } from "../media/latency-trace.ts";
import type { ScreenMessages } from "../media/worker-protocol.ts";
import type { ScreenLink } from "./screen-link.ts";

/**
 * A technician's screen channel: `unready` (no `screen.ready` yet, or the channel closed: the path
 * stays off while they view), `waiting` (ready, dropping messages until the next START), `following`
 * (sent every message), `lagging` (its channel's buffer is over the high mark: sent nothing until
 * it drains).
 */
export type ScreenLinkState = "unready" | "waiting" | "following" | "lagging";
export type ScreenLinkEvent = "ready" | "resync" | "start" | "lag" | "drained" | "refused" | "closed";

/** Where an event takes a channel, and whether it needs a new stream (for everyone). */
type Transition = { readonly to: ScreenLinkState; readonly restart?: true };

/** Every state's events; one not listed leaves the state as it is. */
export const SCREEN_LINK_TRANSITIONS: Readonly<
  Record<ScreenLinkState, Partial<Record<ScreenLinkEvent, Transition>>>
> = {
  unready: {
    ready: { to: "waiting", restart: true },
  },
  waiting: {
    ready: { to: "waiting", restart: true },
    resync: { to: "waiting", restart: true },
    start: { to: "following" },
    closed: { to: "unready" },
  },
  following: {
    ready: { to: "waiting", restart: true },
    resync: { to: "waiting", restart: true },
    lag: { to: "lagging" },
    // werift refused a message on an open channel: the console's stream is broken, a new one.
    refused: { to: "waiting", restart: true },
    closed: { to: "unready" },
  },
  lagging: {
    // A resync while lagging waits for the drain, which starts a new stream anyway.
    drained: { to: "waiting", restart: true },
    closed: { to: "unready" },
  },
};

/** What the fanout asks of the capture worker (ScreenStream's screenPath and screenRestart). */
export type ScreenPathControl = {
  screenPath(on: boolean): void;
  screenRestart(): void;
};

type Member = { readonly link: ScreenLink; state: ScreenLinkState; viewing: boolean };

export class ScreenFanout {
  readonly #control: ScreenPathControl;
  readonly #members = new Map<string, Member>();
  #on = false;

  constructor(control: ScreenPathControl) {
    this.#control = control;
  }

  /** Whether the path runs (every technician viewing said `screen.ready`). */
  get on(): boolean {
    return this.#on;
  }

  /** The state of a technician's screen channel (for tests and the log). */
  stateOf(id: string): ScreenLinkState | undefined {
    return this.#members.get(id)?.state;
  }

  /** A technician's view with a `screen` channel (not yet viewing: see view()). */
  add(id: string, link: ScreenLink): void {
    if (!this.#members.has(id)) this.#members.set(id, { link, state: "unready", viewing: false });
  }

  /** The technician sees the video now (connected): from now on the path waits for their ready. */
  view(id: string): void {
    const member = this.#members.get(id);
    if (member === undefined || member.viewing) return;
    member.viewing = true;
    this.#decide(false);
  }

  /** A message from the technician's console on the channel (decoded by screen-link.ts). */
  control(id: string, type: "screen.ready" | "screen.resync"): void {
    this.#event(id, type === "screen.ready" ? "ready" : "resync");
  }

  /** The technician's `screen` channel closed. */
  closed(id: string): void {
    this.#event(id, "closed");
  }

  /** The technician's view is gone. */
  remove(id: string): void {
    if (!this.#members.delete(id)) return;
    this.#decide(false);
  }

  /** One record's messages from the worker, to every channel following (START makes waiters follow). */
  send({ messages, rtpTimestamp }: ScreenMessages): void {
    if (tracing) {
      const bytes = messages.reduce((sum, message) => sum + message.byteLength, 0);
      trace({ event: "screenSent", rtp: rtpTimestamp, bytes });
    }
    for (const message of messages) {
      const start = ((message[0] ?? 0) & SCREEN_START) !== 0;
      for (const [id, member] of this.#members) {
        if (start && member.state === "waiting") this.#event(id, "start");
        if (member.state !== "following") continue;
        const { link } = member;
        if (link.bufferedAmount > SCREEN_BUFFER_HIGH_BYTES) {
          this.#event(id, "lag");
          link.whenLow(SCREEN_BUFFER_LOW_BYTES, () => this.#event(id, link.open ? "drained" : "closed"));
          continue;
        }
        if (!link.send(message)) this.#event(id, link.open ? "refused" : "closed");
      }
    }
  }

  #event(id: string, event: ScreenLinkEvent): void {
    const member = this.#members.get(id);
    if (member === undefined) return;
    const transition = SCREEN_LINK_TRANSITIONS[member.state][event];
    if (transition === undefined) return;
    member.state = transition.to;
    this.#decide(transition.restart === true);
  }

  /** Turns the path on or off as the viewers' states say, and asks for a new stream when due. */
  #decide(restart: boolean): void {
    const viewers = [...this.#members.values()].filter((member) => member.viewing);
    const on = viewers.length > 0 && viewers.every((member) => member.state !== "unready");
    if (on !== this.#on) {
      this.#on = on;
      // Turning on starts a new stream by itself.
      this.#control.screenPath(on);
      return;
    }
    if (restart && on) this.#control.screenRestart();
  }
}
