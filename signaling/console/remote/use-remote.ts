import { useCallback, useEffect, useMemo, useRef, useState } from "preact/hooks";
import type { RemoteCloseReason } from "../../../shared/console-protocol.ts";
import type { AgentControl, MonitorInfo, TechnicianControl } from "../../../shared/control.ts";
import type { AccessMode } from "../../../shared/status.ts";
import { createStore, type Store, useStore } from "../lib/store.ts";
import { listenRemote, type RemoteMessage, sendConsole } from "../state/connection.ts";
import { socketStatus } from "../state/stores.ts";
import { type ControlLink, openControlLink } from "./control-link.ts";
import { type CursorImage, cursorImage } from "./cursor-image.ts";
import { createRemotePeer, type RemotePeer } from "./peer.ts";
import { type Quality, type QualitySample, sampleQuality } from "./quality.ts";

/**
 * One remote view's life: ask the gateway to open it, answer the agent's offer, keep the control
 * channel, and come back after a network blip (the socket reopens, or the peer fails) without a
 * new session. Teardown is one function, safe to run twice.
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

export function effectiveAccess(state: Pick<RemoteState, "openedAccess" | "agentAccess">): AccessMode | null {
  if (state.openedAccess === null) return null;
  return state.openedAccess === "view" || state.agentAccess === "view" ? "view" : "control";
}

export function useRemote(sessionId: string): RemoteController {
  const [state, setState] = useState<RemoteState>(INITIAL);
  const cursor = useMemo(() => createStore<RemoteCursor | null>(null), []);
  const status = useStore(socketStatus);
  const peer = useRef<RemotePeer | null>(null);
  const control = useRef<ControlLink | null>(null);
  /** False once the view has ended for good: no reconnecting after that. */
  const wanted = useRef(true);
  const retries = useRef(0);
  /** A remote.connect is on its way: the gateway first closes our old view as "replaced". */
  const connecting = useRef(false);
  const connect = useCallback((): void => {
    connecting.current = sendConsole({ type: "remote.connect", sessionId });
  }, [sessionId]);
  const access = effectiveAccess(state);
  const accessRef = useRef(access);
  accessRef.current = access;
  /** Closes the current peer and its control channel; safe to call twice. */
  const dropPeer = useCallback((): void => {
    control.current?.close();
    control.current = null;
    peer.current?.close();
    peer.current = null;
  }, []);

  useEffect(() => {
    wanted.current = true;
    retries.current = 0;
    const patch = (change: Partial<RemoteState>): void => setState((current) => ({ ...current, ...change }));
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
    const retry = (): void => {
      if (!wanted.current || retries.current >= MAX_PEER_RETRIES) {
        wanted.current = false;
        dropPeer();
        patch({ phase: { kind: "closed", reason: "peer_failed" }, stream: null });
        return;
      }
      retries.current += 1;
      dropPeer();
      patch({ phase: { kind: "reconnecting" }, controlOpen: false });
      connect();
    };
    const onMessage = (message: RemoteMessage): void => {
      switch (message.type) {
        case "remote.opened":
          connecting.current = false;
          dropPeer();
          peer.current = createRemotePeer(message.iceServers, {
            signal: (data) => sendConsole({ type: "signal", sessionId, data }),
            video: (stream) => patch({ stream }),
            control: (channel) => {
              control.current?.close();
              control.current = openControlLink(channel, {
                message: onAgent,
                open: () => patch({ controlOpen: true }),
                closed: () => patch({ controlOpen: false }),
              });
            },
            state: (connection) => {
              if (connection === "connected") {
                retries.current = 0;
                patch({ phase: { kind: "open" } });
              } else if (connection === "failed") {
                retry();
              }
            },
            failed: () => retry(),
          });
          patch({ openedAccess: message.access, phase: { kind: "connecting" } });
          return;
        case "remote.signal":
          peer.current?.handleSignal(message.data);
          return;
        case "remote.closed":
          if (message.reason === "replaced" && connecting.current) return;
          wanted.current = false;
          dropPeer();
          patch({ phase: { kind: "closed", reason: message.reason }, stream: null, controlOpen: false });
          return;
        case "error":
          connecting.current = false;
          if (peer.current === null) {
            wanted.current = false;
            patch({ phase: { kind: "refused", message: message.error.message } });
          }
          return;
      }
    };
    const stopListening = listenRemote(sessionId, onMessage);
    return () => {
      stopListening();
      if (wanted.current) sendConsole({ type: "remote.disconnect", sessionId });
      wanted.current = false;
      dropPeer();
    };
  }, [sessionId, cursor, connect, dropPeer]);

  // Open the view whenever the console socket is (again) open: after a drop the gateway has
  // forgotten the old view, and the agent makes a new offer.
  useEffect(() => {
    if (status === "open" && wanted.current) connect();
    else if (status === "closed" && wanted.current)
      setState((current) => ({ ...current, phase: { kind: "reconnecting" } }));
  }, [status, connect]);

  useEffect(() => {
    let previous: QualitySample | null = null;
    let busy = false;
    const timer = setInterval(() => {
      const connection = peer.current?.connection;
      if (connection === undefined || busy) return;
      busy = true;
      sampleQuality(connection, previous)
        .then((sample) => {
          previous = sample;
          setState((current) => ({ ...current, quality: sample.quality }));
        })
        .catch(() => undefined)
        .finally(() => {
          busy = false;
        });
    }, STATS_INTERVAL_MS);
    return () => clearInterval(timer);
  }, []);

  // Stable across renders: input capture holds on to `send`.
  const send = useCallback((message: TechnicianControl): void => {
    if (accessRef.current === "control") control.current?.send(message);
  }, []);
  const disconnect = useCallback((): void => {
    if (wanted.current) sendConsole({ type: "remote.disconnect", sessionId });
    wanted.current = false;
    dropPeer();
  }, [sessionId, dropPeer]);

  return { state, access, cursor, send, disconnect };
}
