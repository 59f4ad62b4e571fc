import { useCallback, useEffect, useMemo, useRef, useState } from "preact/hooks";
import type { RemoteCloseReason, RemotePath } from "../../../shared/console-protocol.ts";
import type { AgentControl, MonitorInfo, TechnicianControl } from "../../../shared/control.ts";
import { createLifecycle, type Lifecycle, type Transitions } from "../../../shared/lifecycle.ts";
import type { AccessMode } from "../../../shared/status.ts";
import { refusalText } from "../lib/api.ts";
import { createStore, type Store, useStore } from "../lib/store.ts";
import { listenRemote, type RemoteMessage, sendConsole } from "../state/connection.ts";
import { socketStatus } from "../state/stores.ts";
import { type ControlLink, openControlLink } from "./control-link.ts";
import { type CursorImage, cursorImage } from "./cursor-image.ts";
import { createRemotePeer, type RemotePeer } from "./peer.ts";
import { type Quality, type QualitySample, sampleQuality } from "./quality.ts";

/**
 * One remote view's life: ask the gateway to open it, answer the agent's offer, keep the control
 * channel, say which path the media takes, and come back after a network blip without a new
 * session: the socket reopens (a new peer), or the peer's path breaks (the same peer answers the
 * agent's ICE restart). The lifecycle is data (REMOTE_STATES, one transition table); each request
 * has an id and a superseded peer's events change nothing. Teardown is one function, safe to run
 * twice.
 */

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
};

const INITIAL: RemoteState = {
  phase: { kind: "connecting" },
  openedAccess: null,
  agentAccess: null,
  monitors: [],
  monitor: 0,
  remoteClipboard: null,
  stream: null,
  controlOpen: false,
  quality: null,
};

const MAX_PEER_RETRIES = 3;
const STATS_INTERVAL_MS = 1000;
/**
 * How long a broken path may stay broken before the console gives up on its own. The agent restarts
 * ICE and the gateway closes a view whose path stays dead (with a reason), well before this; the
 * limit only keeps "Reconnecting…" from showing forever when nobody says anything.
 */
const RECOVERY_LIMIT_MS = 60_000;

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
const PHASE_OF: Readonly<Record<RemoteLifecycleState, RemotePhase | null>> = {
  idle: { kind: "connecting" },
  requesting: null,
  negotiating: { kind: "connecting" },
  open: { kind: "open" },
  recovering: { kind: "reconnecting" },
  reconnecting: { kind: "reconnecting" },
  ended: null,
};

export function useRemote(sessionId: string): RemoteController {
  const [state, setState] = useState<RemoteState>(INITIAL);
  const cursor = useMemo(() => createStore<RemoteCursor | null>(null), []);
  const status = useStore(socketStatus);
  const peer = useRef<RemotePeer | null>(null);
  const control = useRef<ControlLink | null>(null);
  /** The view's lifecycle, one per session id (made by the effect below). */
  const life = useRef<Lifecycle<RemoteLifecycleState> | null>(null);
  /**
   * The id of the current request. A peer keeps the id it was made for; its events after a newer
   * request (a retry, a reconnect) change nothing.
   */
  const attempt = useRef(0);
  const retries = useRef(0);
  /** Runs out while the peer's path is broken (RECOVERY_LIMIT_MS); cleared when it connects again. */
  const recovery = useRef<ReturnType<typeof setTimeout> | null>(null);
  /** Asks the gateway to open the view, when the socket can carry the request. */
  const request = useCallback((): void => {
    const view = life.current;
    if (view === null || !view.can("requesting")) return;
    if (!sendConsole({ type: "remote.connect", sessionId })) return;
    attempt.current += 1;
    view.set("requesting");
  }, [sessionId]);
  const access = effectiveAccess(state);
  const accessRef = useRef(access);
  accessRef.current = access;
  /** Closes the current peer and its control channel; safe to call twice. */
  const dropPeer = useCallback((): void => {
    if (recovery.current !== null) clearTimeout(recovery.current);
    recovery.current = null;
    control.current?.close();
    control.current = null;
    peer.current?.close();
    peer.current = null;
  }, []);
  /** Ends the view for good; tells the gateway when the view was still wanted and `tell` is set. */
  const end = useCallback(
    (tell: boolean): void => {
      const view = life.current;
      if (view === null || view.state === "ended") return;
      if (tell) sendConsole({ type: "remote.disconnect", sessionId });
      attempt.current += 1;
      view.set("ended");
      dropPeer();
    },
    [sessionId, dropPeer],
  );

  useEffect(() => {
    retries.current = 0;
    const patch = (change: Partial<RemoteState>): void => setState((current) => ({ ...current, ...change }));
    const view = createLifecycle<RemoteLifecycleState>({
      name: "remote view",
      initial: "idle",
      transitions: REMOTE_TRANSITIONS,
      changed: (to) => {
        const phase = PHASE_OF[to];
        if (phase !== null) patch({ phase });
      },
    });
    life.current = view;
    const endWith = (phase: RemotePhase): void => {
      end(false);
      patch({ phase, stream: null, controlOpen: false });
    };
    const onAgent = (message: AgentControl): void => {
      switch (message.type) {
        case "state":
          patch({ agentAccess: message.access, monitors: message.monitors, monitor: message.monitor });
          return;
        case "cursor":
          cursor.set({
            x: message.x,
            y: message.y,
            visible: message.visible,
            image: cursor.get()?.image ?? null,
          });
          return;
        case "cursorShape": {
          const image = cursorImage(message);
          const at = cursor.get() ?? { x: 0, y: 0, visible: false };
          cursor.set({ ...at, image });
          return;
        }
        case "clipboard":
          patch({ remoteClipboard: message.text });
          return;
      }
    };
    /** The peer of request `id` failed: request again, a few times. */
    const retry = (id: number): void => {
      if (id !== attempt.current || !view.can("reconnecting")) return;
      if (retries.current >= MAX_PEER_RETRIES) {
        endWith({ kind: "closed", reason: "peer_failed" });
        return;
      }
      retries.current += 1;
      dropPeer();
      view.set("reconnecting");
      patch({ controlOpen: false });
      request();
    };
    const stopRecovery = (): void => {
      if (recovery.current !== null) clearTimeout(recovery.current);
      recovery.current = null;
    };
    /** The path broke: unless it connects again in time, the view ends (and the gateway is told). */
    const startRecovery = (id: number): void => {
      if (recovery.current !== null) return;
      recovery.current = setTimeout(() => {
        recovery.current = null;
        if (id !== attempt.current) return;
        end(true);
        patch({ phase: { kind: "closed", reason: "peer_failed" }, stream: null, controlOpen: false });
      }, RECOVERY_LIMIT_MS);
    };
    const onMessage = (message: RemoteMessage): void => {
      switch (message.type) {
        case "remote.opened": {
          if (!view.can("negotiating")) return;
          const id = attempt.current;
          dropPeer();
          view.set("negotiating");
          peer.current = createRemotePeer(message.iceServers, {
            signal: (data) => sendConsole({ type: "signal", sessionId, data }),
            video: (stream) => {
              if (id === attempt.current) patch({ stream });
            },
            control: (channel) => {
              if (id !== attempt.current) return;
              control.current?.close();
              control.current = openControlLink(channel, {
                message: onAgent,
                open: () => patch({ controlOpen: true }),
                closed: () => patch({ controlOpen: false }),
              });
            },
            state: (connection) => {
              if (id !== attempt.current) return;
              if (connection === "connected") {
                stopRecovery();
                if (view.can("open")) {
                  retries.current = 0;
                  view.set("open");
                }
              } else if (connection === "disconnected" || connection === "failed") {
                // Keep the peer: the agent restarts ICE and its new offer comes as a signal.
                if (view.state === "open") view.set("recovering");
                startRecovery(id);
              }
            },
            failed: () => retry(id),
          });
          patch({ openedAccess: message.access });
          return;
        }
        case "remote.signal":
          peer.current?.handleSignal(message.data);
          return;
        case "remote.closed":
          if (message.reason === "replaced" && view.state === "requesting") return;
          endWith({ kind: "closed", reason: message.reason });
          return;
        case "error":
          if (peer.current === null) endWith({ kind: "refused", message: refusalText(message.error) });
          return;
      }
    };
    const stopListening = listenRemote(sessionId, onMessage);
    return () => {
      stopListening();
      end(true);
    };
  }, [sessionId, cursor, request, dropPeer, end]);

  // Open the view whenever the console socket is (again) open: after a drop the gateway has
  // forgotten the old view, and the agent makes a new offer.
  useEffect(() => {
    const view = life.current;
    if (view === null) return;
    if (status === "open") request();
    else if (status === "closed" && view.can("reconnecting")) view.set("reconnecting");
  }, [status, request]);

  useEffect(() => {
    let previous: QualitySample | null = null;
    let busy = false;
    /** The path last told to the gateway, and for which peer (a new peer tells its own). */
    let told: { peer: RemotePeer; path: RemotePath } | null = null;
    const timer = setInterval(() => {
      const current = peer.current;
      if (current === null || busy) return;
      busy = true;
      sampleQuality(current.connection, previous)
        .then((sample) => {
          previous = sample;
          setState((state) => ({ ...state, quality: sample.quality }));
          // Told when first known and whenever it changes, while the view is open on this peer.
          const path = sample.quality.path;
          if (path === null || life.current?.state !== "open" || peer.current !== current) return;
          if (told?.peer === current && told.path === path) return;
          if (sendConsole({ type: "remote.path", sessionId, path })) told = { peer: current, path };
        })
        .catch(() => undefined)
        .finally(() => {
          busy = false;
        });
    }, STATS_INTERVAL_MS);
    return () => clearInterval(timer);
  }, [sessionId]);

  // Stable across renders: input capture holds on to `send`.
  const send = useCallback((message: TechnicianControl): void => {
    if (accessRef.current === "control") control.current?.send(message);
  }, []);
  const disconnect = useCallback((): void => end(true), [end]);

  return { state, access, cursor, send, disconnect };
}
