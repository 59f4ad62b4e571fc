import { useCallback, useEffect, useMemo, useRef, useState } from "preact/hooks";
import type { AgentControl, TechnicianControl } from "../../../shared/control.ts";
import { createLifecycle, type Lifecycle } from "../../../shared/lifecycle.ts";
import { MAX_FILE_BYTES } from "../../../shared/limits.ts";
import type { IceServer } from "../../../shared/signal.ts";
import { refusalText } from "../lib/api.ts";
import { createStore, useStore } from "../lib/store.ts";
import { listenRemote, type RemoteMessage, sendConsole } from "../state/connection.ts";
import { socketStatus } from "../state/stores.ts";
import { type ControlLink, openControlLink } from "./control-link.ts";
import { cursorImage } from "./cursor-image.ts";
import { createFileLink, downloadBlob, type FileLink } from "./file-link.ts";
import { createRemotePeer, type RemotePeer } from "./peer.ts";
import {
  effectiveAccess,
  INITIAL_REMOTE_STATE,
  PHASE_OF,
  REMOTE_TRANSITIONS,
  type RemoteController,
  type RemoteCursor,
  type RemoteLifecycleState,
  type RemotePhase,
  type RemoteState,
} from "./remote-state.ts";
import { createScreenLink, type ScreenLink } from "./screen-link.ts";
import { useQualitySampling } from "./use-quality.ts";

export type { RemoteController, RemoteCursor, RemotePhase, RemoteState } from "./remote-state.ts";

/**
 * One remote view's life: ask the gateway to open it, answer the agent's offer, keep the control
 * channel, say which path the media takes, and come back after a network blip without a new
 * session: the socket reopens (a new peer), or the peer's path breaks (the same peer answers the
 * agent's ICE restart). The lifecycle is data (REMOTE_STATES, one transition table); each request
 * has an id and a superseded peer's events change nothing. Teardown is one function, safe to run
 * twice.
 */

const MAX_PEER_RETRIES = 3;
/**
 * How long a broken path may stay broken before the console gives up on its own. The agent restarts
 * ICE and the gateway closes a view whose path stays dead (with a reason), well before this; the
 * limit only keeps "Reconnecting…" from showing forever when nobody says anything.
 */
const RECOVERY_LIMIT_MS = 60_000;

export function useRemote(sessionId: string): RemoteController {
  const [state, setState] = useState<RemoteState>(INITIAL_REMOTE_STATE);
  const cursor = useMemo(() => createStore<RemoteCursor | null>(null), []);
  const files = useMemo(() => createStore<FileLink | null>(null), []);
  const screen = useMemo(() => createStore<ScreenLink | null>(null), []);
  const status = useStore(socketStatus);
  const peer = useRef<RemotePeer | null>(null);
  /**
   * The view's separate files connection, asked for in remote.connect and made when the agent
   * offers one (`peer: "files"`); an agent that cannot (or an older one) sends files on the view's
   * own connection instead.
   */
  const filesPeer = useRef<RemotePeer | null>(null);
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
    // Files over a connection of their own when the agent can make one (`peer: "files"` signals).
    if (!sendConsole({ type: "remote.connect", sessionId, filesConnection: true })) return;
    attempt.current += 1;
    view.set("requesting");
  }, [sessionId]);
  const access = effectiveAccess(state);
  const accessRef = useRef(access);
  accessRef.current = access;
  /**
   * Closes the current peer and its control channel; safe to call twice. The file transfers stay
   * (paused): the next peer's files channel takes them up (file-link.ts).
   */
  const dropPeer = useCallback((): void => {
    if (recovery.current !== null) clearTimeout(recovery.current);
    recovery.current = null;
    control.current?.close();
    control.current = null;
    filesPeer.current?.close();
    filesPeer.current = null;
    peer.current?.close();
    peer.current = null;
  }, [files]);
  /** Ends the view for good; tells the gateway when the view was still wanted and `tell` is set. */
  const end = useCallback(
    (tell: boolean): void => {
      const view = life.current;
      if (view === null || view.state === "ended") return;
      if (tell) sendConsole({ type: "remote.disconnect", sessionId });
      attempt.current += 1;
      view.set("ended");
      // Before the peers close: the file link tells the agent its transfers are over.
      files.get()?.close();
      files.set(null);
      screen.get()?.close();
      screen.set(null);
      dropPeer();
    },
    [sessionId, dropPeer, files, screen],
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
          patch({
            agentAccess: message.access,
            monitors: message.monitors,
            monitor: message.monitor,
            reserved: message.reserved ?? [],
          });
          return;
        case "desktop":
          patch({ secureDesktop: message.secure });
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
    /** The view's ICE servers as last given (remote.opened, then remote.ice). */
    let iceServers: readonly IceServer[] = [];
    /** Makes the files connection of the view opened last (set at remote.opened). */
    let openFilesPeer: () => RemotePeer = () => {
      throw new Error("a files connection before the view opened");
    };
    const onMessage = (message: RemoteMessage): void => {
      switch (message.type) {
        case "remote.opened": {
          if (!view.can("negotiating")) return;
          const id = attempt.current;
          dropPeer();
          view.set("negotiating");
          const maxFileBytes = message.maxFileBytes ?? MAX_FILE_BYTES;
          const openFiles = (channel: RTCDataChannel): void => {
            let link = files.get();
            if (link === null) {
              // No report of the files for the audit: the agent, which moved them, makes it.
              link = createFileLink(maxFileBytes, downloadBlob);
              files.set(link);
            }
            // A files channel of a new connection (or a new view): transfers broken off go on on it.
            link.attach(channel);
          };
          iceServers = message.iceServers;
          // The agent's files connection (node-datachannel) is answered like the view's own, with
          // the freshest TURN credential (it is made again when it fails).
          openFilesPeer = () =>
            createRemotePeer(iceServers, {
              signal: (data) => sendConsole({ type: "signal", sessionId, data: { ...data, peer: "files" } }),
              video: () => undefined,
              control: () => undefined,
              files: (channel) => {
                if (id === attempt.current) openFiles(channel);
              },
              state: () => undefined,
              failed: (reason) => console.warn("remote view: the files connection failed:", reason),
            });
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
            files: (channel) => {
              if (id === attempt.current) openFiles(channel);
            },
            screen: (channel) => {
              if (id !== attempt.current) return;
              // One link for the view: a new peer's channel starts a new stream on it.
              let link = screen.get();
              if (link === null) {
                link = createScreenLink();
                screen.set(link);
              }
              link.attach(channel);
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
          if (message.data.peer !== "files") {
            peer.current?.handleSignal(message.data);
            return;
          }
          if (peer.current === null) return;
          // Each offer is a new files connection: the agent made it again after the last one failed.
          if (message.data.kind === "description" && message.data.type === "offer") {
            filesPeer.current?.close();
            filesPeer.current = null;
          }
          filesPeer.current ??= openFilesPeer();
          filesPeer.current.handleSignal(message.data);
          return;
        case "remote.ice":
          iceServers = message.iceServers;
          peer.current?.setIceServers(message.iceServers);
          filesPeer.current?.setIceServers(message.iceServers);
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
  }, [sessionId, cursor, screen, request, dropPeer, end]);

  // Open the view whenever the console socket is (again) open: after a drop the gateway has
  // forgotten the old view, and the agent makes a new offer.
  useEffect(() => {
    const view = life.current;
    if (view === null) return;
    if (status === "open") request();
    else if (status === "closed" && view.can("reconnecting")) view.set("reconnecting");
  }, [status, request]);

  useQualitySampling(sessionId, peer, life, screen, setState);

  // Stable across renders: input capture holds on to `send`.
  const send = useCallback((message: TechnicianControl): void => {
    if (accessRef.current === "control") control.current?.send(message);
  }, []);
  const disconnect = useCallback((): void => end(true), [end]);

  return { state, access, cursor, send, disconnect, files, screen };
}
