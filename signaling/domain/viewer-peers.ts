import type { RemotePath } from "../../shared/console-protocol.ts";
import type { PersonRef } from "../../shared/model.ts";
import type { IceServer } from "../../shared/signal.ts";
import type { AccessMode } from "../../shared/status.ts";

/**
 * One technician's open remote view of a session as the gateway brokers it: a WebRTC peer pair
 * between the agent and one console (the console's own RemoteView component is what it shows).
 */
export type ViewerPeer<C> = {
  peerId: string;
  sessionId: string;
  technicianId: string;
  /** Who the agent is told is connecting (again, when its agent moves to another instance). */
  technician: PersonRef;
  access: AccessMode;
  /** The ICE servers last given to the view's agent side (renewed before a relay credential expires). */
  iceServers: IceServer[];
  /** The largest file either side may send on the view's files channel (its session's channel's limit). */
  maxFileBytes: number;
  /** The console asked for a separate files connection (remote.connect), told to the agent in peer.open. */
  filesConnection: boolean;
  /** The console connection the view belongs to; signals go only there. */
  console: C;
  /** The paths the console reported for this view (each is audited once). */
  paths: Set<RemotePath>;
};

/** The open viewer peers, found by peer, by session, by console, by technician. */
export class ViewerPeers<C> {
  readonly #byPeer = new Map<string, ViewerPeer<C>>();

  add(peer: ViewerPeer<C>): void {
    this.#byPeer.set(peer.peerId, peer);
  }

  all(): Iterable<ViewerPeer<C>> {
    return this.#byPeer.values();
  }

  byPeer(peerId: string): ViewerPeer<C> | undefined {
    return this.#byPeer.get(peerId);
  }

  remove(peerId: string): ViewerPeer<C> | undefined {
    const peer = this.#byPeer.get(peerId);
    this.#byPeer.delete(peerId);
    return peer;
  }

  ofSession(sessionId: string): ViewerPeer<C>[] {
    return [...this.#byPeer.values()].filter((peer) => peer.sessionId === sessionId);
  }

  ofConsole(console: C): ViewerPeer<C>[] {
    return [...this.#byPeer.values()].filter((peer) => peer.console === console);
  }

  ofTechnician(technicianId: string): ViewerPeer<C>[] {
    return [...this.#byPeer.values()].filter((peer) => peer.technicianId === technicianId);
  }

  find(sessionId: string, console: C): ViewerPeer<C> | undefined {
    return [...this.#byPeer.values()].find(
      (peer) => peer.sessionId === sessionId && peer.console === console,
    );
  }

  viewersOf(sessionId: string): string[] {
    return [...new Set(this.ofSession(sessionId).map((peer) => peer.technicianId))];
  }
}
