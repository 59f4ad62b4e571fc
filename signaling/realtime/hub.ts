import type { WebSocket } from "ws";
import type { SessionEndReason } from "../../shared/agent-protocol.ts";
import type { RemoteCloseReason } from "../../shared/console-protocol.ts";
import { PROTOCOL_VERSION } from "../../shared/limits.ts";
import type { PersonRef } from "../../shared/model.ts";
import type { IceServer } from "../../shared/signal.ts";
import type { AccessMode } from "../../shared/status.ts";
import type { AgentPresence, DomainEvents } from "../domain/events.ts";
import type { Policy } from "../domain/policy.ts";
import type { ViewerPeer } from "../domain/viewer-peers.ts";
import type { Viewing } from "../domain/viewing.ts";
import { sessionView, technicianView } from "../domain/views.ts";
import type { SessionRow, TechnicianRow } from "../store/rows.ts";
import type { Store } from "../store/store.ts";
import { CLOSE, send } from "./wire.ts";

/** A signed-in technician's console socket. */
export type ConsoleConnection = {
  readonly socket: WebSocket;
  readonly technicianId: string;
  /** Sessions this console was told about, so it can be told when one leaves its sight. */
  readonly seen: Set<string>;
};

/** The end user's agent socket, once joined. */
export type AgentConnection = {
  readonly socket: WebSocket;
  readonly sessionId: string;
  readonly address: string;
};

export type HubDeps = {
  store: Store;
  policy: Policy;
  organizationName: () => string;
  viewing: Viewing<ConsoleConnection>;
  /** Subscribed after Viewing's own listeners, so views close before an ended session's agent goes. */
  events: DomainEvents;
};

/**
 * Who is connected right now, and the fan-out of every change to them: it subscribes to the
 * domain's events and viewing's, and translates each into socket messages. Keeps the agent
 * presence the domain reads.
 */
export class Hub implements AgentPresence {
  readonly #d: HubDeps;
  readonly #consoles = new Set<ConsoleConnection>();
  readonly #agents = new Map<string, AgentConnection>();
  /** Set at shutdown: late socket events then touch nothing (the store is closing). */
  #closed = false;

  constructor(deps: HubDeps) {
    this.#d = deps;
    const { events } = deps;
    events.on("sessionChanged", (session) => this.sessionChanged(session));
    events.on("sessionRemoved", (session) => this.#sessionRemoved(session));
    events.on("consentRequested", (sessionId, request) => this.#consentRequested(sessionId, request));
    events.on("consentCancelled", (sessionId, requestId) => this.#consentCancelled(sessionId, requestId));
    events.on("sessionEnded", (sessionId, reason) => this.#sessionEnded(sessionId, reason));
    events.on("technicianDisabled", (technicianId) => this.#technicianDisabled(technicianId));
    events.on("technicianUpdated", (technician) => this.#technicianUpdated(technician));
    events.on("accessChanged", () => this.#accessChanged());
    deps.viewing.events.on("opened", (peer, technician, iceServers) =>
      this.#viewerOpened(peer, technician, iceServers),
    );
    deps.viewing.events.on("closed", (peer, reason, tellConsole) =>
      this.#viewerClosed(peer, reason, tellConsole),
    );
  }

  // --- presence ---------------------------------------------------------------------------------

  isConnected(sessionId: string): boolean {
    return this.#agents.has(sessionId);
  }

  agentOf(sessionId: string): AgentConnection | undefined {
    return this.#agents.get(sessionId);
  }

  /** Registers the agent of a session; returns the connection it replaces, if any. */
  attachAgent(agent: AgentConnection): AgentConnection | undefined {
    const previous = this.#agents.get(agent.sessionId);
    this.#agents.set(agent.sessionId, agent);
    return previous;
  }

  /** Forgets the agent if it is still the session's current one; true when it was. */
  detachAgent(agent: AgentConnection): boolean {
    if (this.#closed || this.#agents.get(agent.sessionId) !== agent) return false;
    this.#agents.delete(agent.sessionId);
    return true;
  }

  agentCount(): number {
    return this.#agents.size;
  }

  // --- consoles ---------------------------------------------------------------------------------

  addConsole(connection: ConsoleConnection): void {
    this.#consoles.add(connection);
  }

  removeConsole(connection: ConsoleConnection): void {
    if (this.#closed) return;
    this.#consoles.delete(connection);
    this.#d.viewing.closeConsole(connection);
  }

  consoleCount(): number {
    return this.#consoles.size;
  }

  /** The sessions a console may see, as views, remembered as seen. */
  snapshotFor(connection: ConsoleConnection, sessions: readonly SessionRow[]) {
    for (const session of sessions) connection.seen.add(session.id);
    return sessions.map((session) => this.view(session));
  }

  view(session: SessionRow) {
    return sessionView(this.#d.store, session, {
      agentConnected: this.isConnected(session.id),
      viewers: this.#d.viewing.peers.viewersOf(session.id),
    });
  }

  /** Pushes a session's current state to every console that may see it. */
  publish(sessionId: string): void {
    if (this.#closed) return;
    const session = this.#d.store.getSession(sessionId);
    if (session !== undefined) this.sessionChanged(session);
  }

  // --- remote views -----------------------------------------------------------------------------

  /**
   * A view opened: the console gets its peer id and ICE servers, the agent opens its peer with the
   * same ICE servers. These two sockets are the only ones that see the peer's TURN credential.
   */
  #viewerOpened(peer: ViewerPeer<ConsoleConnection>, technician: PersonRef, iceServers: IceServer[]): void {
    send(peer.console.socket, {
      type: "remote.opened",
      sessionId: peer.sessionId,
      peerId: peer.peerId,
      access: peer.access,
      iceServers,
    });
    const agent = this.#agents.get(peer.sessionId);
    if (agent !== undefined) {
      send(agent.socket, {
        type: "peer.open",
        peerId: peer.peerId,
        technician,
        access: peer.access,
        iceServers,
      });
    }
    this.publish(peer.sessionId);
  }

  /** A view closed: tells the agent (peer.close) and the console (remote.closed). */
  #viewerClosed(peer: ViewerPeer<ConsoleConnection>, reason: RemoteCloseReason, tellConsole: boolean): void {
    const agent = this.#agents.get(peer.sessionId);
    if (agent !== undefined) send(agent.socket, { type: "peer.close", peerId: peer.peerId, reason });
    if (tellConsole) send(peer.console.socket, { type: "remote.closed", sessionId: peer.sessionId, reason });
    this.publish(peer.sessionId);
  }

  // --- desk events ------------------------------------------------------------------------------

  sessionChanged(session: SessionRow): void {
    const view = this.view(session);
    for (const connection of this.#consoles) {
      const account = this.#d.store.getTechnician(connection.technicianId);
      if (account !== undefined && this.#d.policy.canSeeSession(account, session)) {
        connection.seen.add(session.id);
        send(connection.socket, { type: "session.updated", session: view });
      } else if (connection.seen.delete(session.id)) {
        send(connection.socket, { type: "session.removed", sessionId: session.id });
      }
    }
  }

  #sessionRemoved(session: SessionRow): void {
    for (const connection of this.#consoles) {
      if (connection.seen.delete(session.id))
        send(connection.socket, { type: "session.removed", sessionId: session.id });
    }
  }

  #consentRequested(
    sessionId: string,
    request: { requestId: string; technician: PersonRef; access: AccessMode },
  ): void {
    const agent = this.#agents.get(sessionId);
    if (agent === undefined) return;
    send(agent.socket, { type: "consent.request", ...request, organization: this.#d.organizationName() });
  }

  #consentCancelled(sessionId: string, requestId: string): void {
    const agent = this.#agents.get(sessionId);
    if (agent !== undefined) send(agent.socket, { type: "consent.cancel", requestId });
  }

  #sessionEnded(sessionId: string, reason: SessionEndReason): void {
    const agent = this.#agents.get(sessionId);
    if (agent === undefined) return;
    this.#agents.delete(sessionId);
    send(agent.socket, { type: "session.ended", reason });
    agent.socket.close(CLOSE.ended, `session ${reason}`);
  }

  #technicianDisabled(technicianId: string): void {
    for (const connection of [...this.#consoles]) {
      if (connection.technicianId !== technicianId) continue;
      this.#consoles.delete(connection);
      connection.socket.close(CLOSE.unauthenticated, "account disabled");
    }
  }

  /** Tells a technician's consoles their account changed (permissions, name). */
  #technicianUpdated(account: TechnicianRow): void {
    for (const connection of this.#consoles) {
      if (connection.technicianId === account.id) {
        send(connection.socket, { type: "hello", v: PROTOCOL_VERSION, technician: technicianView(account) });
      }
    }
  }

  /** Re-sends every session to every console (after access lists or rights change). */
  #accessChanged(): void {
    for (const session of this.#d.store.listSessions()) this.sessionChanged(session);
  }

  /** Closes every socket (shutdown); events arriving afterwards are ignored. */
  closeAll(): void {
    this.#closed = true;
    for (const connection of this.#consoles) connection.socket.close(1001, "gateway shutting down");
    for (const agent of this.#agents.values()) agent.socket.close(1001, "gateway shutting down");
    this.#consoles.clear();
    this.#agents.clear();
  }

  /** For a console whose account is not loaded: the account, if still active. */
  accountOf(connection: ConsoleConnection): TechnicianRow | undefined {
    const account = this.#d.store.getTechnician(connection.technicianId);
    return account === undefined || account.disabled ? undefined : account;
  }
}
