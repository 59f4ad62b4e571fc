import type { RefObject } from "preact";
import { useEffect } from "preact/hooks";
import type { RemotePath } from "../../../shared/console-protocol.ts";
import type { Lifecycle } from "../../../shared/lifecycle.ts";
import type { Store } from "../lib/store.ts";
import { sendConsole } from "../state/connection.ts";
import type { RemotePeer } from "./peer.ts";
import { type QualitySample, sampleQuality } from "./quality.ts";
import type { RemoteLifecycleState, RemoteState } from "./remote-state.ts";
import type { ScreenLink } from "./screen-link.ts";

const STATS_INTERVAL_MS = 1000;

/**
 * The remote view's quality line, sampled every second from the current peer's getStats() (and the
 * `screen` link's byte count), and the path told to the gateway (`remote.path`) when first known
 * on a peer and whenever it changes, while the view is open on that peer.
 */
export function useQualitySampling(
  sessionId: string,
  peer: RefObject<RemotePeer | null>,
  life: RefObject<Lifecycle<RemoteLifecycleState> | null>,
  screen: Store<ScreenLink | null>,
  setState: (update: (state: RemoteState) => RemoteState) => void,
): void {
  useEffect(() => {
    let previous: QualitySample | null = null;
    let busy = false;
    /** The path last told to the gateway, and for which peer (a new peer tells its own). */
    let told: { peer: RemotePeer; path: RemotePath } | null = null;
    const timer = setInterval(() => {
      const current = peer.current;
      if (current === null || busy) return;
      busy = true;
      sampleQuality(current.connection, previous, screen.get()?.counts.bytes ?? null)
        .then((sample) => {
          previous = sample;
          setState((state) => ({ ...state, quality: sample.quality }));
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
  }, [sessionId, peer, life, screen, setState]);
}
