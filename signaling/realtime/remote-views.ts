import type { AccessMode } from "../../shared/status.ts";

/** One technician's open remote view of a session: a WebRTC peer pair brokered by the gateway. */
export type RemoteView<C> = {
  peerId: string;
  sessionId: string;
  technicianId: string;
  access: AccessMode;
  /** The console connection the view belongs to; signals go only there. */
  console: C;
};

/** The open remote views, found by peer, by session, by console. */
export class RemoteViews<C> {
  readonly #byPeer = new Map<string, RemoteView<C>>();

  open(
    peerId: string,
    sessionId: string,
    technicianId: string,
    access: AccessMode,
    console: C,
  ): RemoteView<C> {
    const view: RemoteView<C> = { peerId, sessionId, technicianId, access, console };
    this.#byPeer.set(view.peerId, view);
    return view;
  }

  byPeer(peerId: string): RemoteView<C> | undefined {
    return this.#byPeer.get(peerId);
  }

  remove(peerId: string): RemoteView<C> | undefined {
    const view = this.#byPeer.get(peerId);
    this.#byPeer.delete(peerId);
    return view;
  }

  ofSession(sessionId: string): RemoteView<C>[] {
    return [...this.#byPeer.values()].filter((view) => view.sessionId === sessionId);
  }

  ofConsole(console: C): RemoteView<C>[] {
    return [...this.#byPeer.values()].filter((view) => view.console === console);
  }

  ofTechnician(technicianId: string): RemoteView<C>[] {
    return [...this.#byPeer.values()].filter((view) => view.technicianId === technicianId);
  }

  find(sessionId: string, console: C): RemoteView<C> | undefined {
    return [...this.#byPeer.values()].find(
      (view) => view.sessionId === sessionId && view.console === console,
    );
  }

  viewersOf(sessionId: string): string[] {
    return [...new Set(this.ofSession(sessionId).map((view) => view.technicianId))];
  }
}
