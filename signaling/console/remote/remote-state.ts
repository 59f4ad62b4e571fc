import type { RemoteCloseReason } from "../../../shared/console-protocol.ts";
import type { MonitorInfo, ReservedCombo, TechnicianControl } from "../../../shared/control.ts";
import type { Transitions } from "../../../shared/lifecycle.ts";
import type { AccessMode } from "../../../shared/status.ts";
import type { Store } from "../lib/store.ts";
import type { CursorImage } from "./cursor-image.ts";
import type { FileLink } from "./file-link.ts";
import type { Quality } from "./quality.ts";
import type { ScreenLink } from "./screen-link.ts";

/** A remote view's state as the page shows it, and its lifecycle as data (used by use-remote.ts). */

export type RemotePhase =
  | { kind: "connecting" }
  | { kind: "open" }
  | { kind: "reconnecting" }
  | { kind: "closed"; reason: RemoteCloseReason }
  | { kind: "refused"; message: string };

/** Where the agent's pointer is, and how it looks when the agent can tell (else an arrow is drawn). */
export type RemoteCursor = { x: number; y: number; visible: boolean; image: CursorImage | null };

export type RemoteState = {
  phase: RemotePhase;
  /** What the gateway opened the view with, and what the agent says now; view wins. */
  openedAccess: AccessMode | null;
  agentAccess: AccessMode | null;
  monitors: readonly MonitorInfo[];
  monitor: number;
  remoteClipboard: string | null;
  /** Key combinations the agent's system keeps from programs (Ctrl+Alt+Del on Windows). */
  reserved: readonly ReservedCombo[];
  /** A UAC prompt or the lock screen shows on the end user's computer (Windows' secure desktop). */
  secureDesktop: boolean;
  stream: MediaStream | null;
  controlOpen: boolean;
  quality: Quality | null;
};

export type RemoteController = {
  state: RemoteState;
  access: AccessMode | null;
  cursor: Store<RemoteCursor | null>;
  /** Sends on the control channel; nothing leaves a view-only view. */
  send(message: TechnicianControl): void;
  disconnect(): void;
  /** The current peer's `files` channel (file-link.ts), once the agent opened it. */
  files: Store<FileLink | null>;
  /** The view's `screen` link (the lossless overlay), once the agent opened the channel. */
  screen: Store<ScreenLink | null>;
};

export const INITIAL_REMOTE_STATE: RemoteState = {
  phase: { kind: "connecting" },
  openedAccess: null,
  agentAccess: null,
  monitors: [],
  monitor: 0,
  remoteClipboard: null,
  reserved: [],
  secureDesktop: false,
  stream: null,
  controlOpen: false,
  quality: null,
};

export function effectiveAccess(state: Pick<RemoteState, "openedAccess" | "agentAccess">): AccessMode | null {
  if (state.openedAccess === null) return null;
  return state.openedAccess === "view" || state.agentAccess === "view" ? "view" : "control";
}

/**
 * The view's lifecycle. idle: mounted, waiting for the console socket. requesting: a remote.connect
 * is on its way (the gateway first closes our old view as "replaced"). negotiating: the gateway
 * opened the view, the peer answers the agent's offer. open: the peer is connected. recovering: the
 * peer's connection went disconnected or failed; the peer and the last picture stay while the agent
 * restarts ICE (its new offer is answered on the same peer), and it is open again once connected.
 * reconnecting: the socket dropped or the peer could not be used; a new request follows. ended:
 * closed, refused or disconnected (terminal).
 */
export const REMOTE_STATES = [
  "idle",
  "requesting",
  "negotiating",
  "open",
  "recovering",
  "reconnecting",
  "ended",
] as const;
export type RemoteLifecycleState = (typeof REMOTE_STATES)[number];

export const REMOTE_TRANSITIONS: Transitions<RemoteLifecycleState> = {
  idle: ["requesting", "reconnecting", "ended"],
  requesting: ["negotiating", "reconnecting", "ended"],
  negotiating: ["negotiating", "open", "reconnecting", "ended"],
  open: ["negotiating", "recovering", "reconnecting", "ended"],
  recovering: ["open", "reconnecting", "ended"],
  reconnecting: ["requesting", "ended"],
  ended: [],
};

/** The phase shown for each state; requesting keeps the one shown before, ended is told by the caller. */
export const PHASE_OF: Readonly<Record<RemoteLifecycleState, RemotePhase | null>> = {
  idle: { kind: "connecting" },
  requesting: null,
  negotiating: { kind: "connecting" },
  open: { kind: "open" },
  recovering: { kind: "reconnecting" },
  reconnecting: { kind: "reconnecting" },
  ended: null,
};
