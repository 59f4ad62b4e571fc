import type { WebSocket } from "ws";
import type { SessionEndReason } from "../../shared/agent-protocol.ts";
import type { RemoteCloseReason } from "../../shared/console-protocol.ts";
import { PROTOCOL_VERSION } from "../../shared/limits.ts";
import type { PersonRef, Session } from "../../shared/model.ts";
import type { IceServer } from "../../shared/signal.ts";
import { type AccessMode, isLive } from "../../shared/status.ts";
import type { SystemInfo } from "../../shared/system-info.ts";
import { iso } from "../clock.ts";
import type { AgentPresence, DomainEvents } from "../domain/events.ts";
import type { Policy } from "../domain/policy.ts";
import type { ViewerPeer } from "../domain/viewer-peers.ts";
import type { Viewing } from "../domain/viewing.ts";
import { chatLineView, onSessionView, sessionView, technicianView } from "../domain/views.ts";
import type { ChatLineRow, SessionRow, TechnicianRow } from "../store/rows.ts";
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
  organizationName: () => Promise<string>;
  /** Where a fan-out that failed (the store unavailable) is logged. */
  failed: (error: unknown, what: string) => void;
  viewing: Viewing<ConsoleConnection>;
  /** Subscribed after Viewing's own listeners, so views close before an ended session's agent goes. */
  events: DomainEvents;
};

/**
 * Who is connected right now, and the fan-out of every change to them: it subscribes to the
 * domain's events and viewing's, and translates each into socket messages. Keeps the agent
 * presence the domain reads.
 *
 * Building a message may read the store (asynchronous), so the fan-out of each event runs in an
 * outbox, one event after the other, in the order they were emitted: a console never gets an older
 * state of a session after a newer one, nor an agent `consent.cancel` before its `consent.request`.
 * Who is present changes at once, when the event is emitted.
 */
export class Hub implements AgentPresence {
  readonly #d: HubDeps;
  readonly #consoles = new Set<ConsoleConnection>();
  readonly #agents = new Map<string, AgentConnection>();
  /** The last `technicians` list each agent was sent (JSON): it is sent again only when it changed. */
  readonly #toldAgent = new WeakMap<AgentConnection, string>();
  /** Set at shutdown: late socket events then touch nothing (the store is closing). */
  #closed = false;
  /** The end of the outbox: the fan-out of the last event emitted. */
  #outbox: Promise<void> = Promise.resolve();

  constructor(deps: HubDeps) {
    this.#d = deps;
    const { events } = deps;
    const later = this.#later.bind(this);
    events.on("sessionChanged", (session) => later("session changed", () => this.sessionChanged(session)));
    events.on("sessionRemoved", (session) => later("session removed", () => this.#sessionRemoved(session)));
    // The agent a message goes to is the one connected when the event is emitted (a session that
    // ends right after still gets its consent.cancel before its session.ended).
    events.on("consentRequested", (sessionId, request) => {
      const agent = this.#agents.get(sessionId);
      if (agent !== undefined) later("consent requested", () => this.#consentRequested(agent, request));
    });
    events.on("consentCancelled", (sessionId, requestId) => {
      const agent = this.#agents.get(sessionId);
      if (agent !== undefined) {
        later("consent cancelled", () => send(agent.socket, { type: "consent.cancel", requestId }));
      }
    });
    events.on("sessionEnded", (sessionId, reason) => {
      const agent = this.#agents.get(sessionId);
      if (agent === undefined) return;
      this.#agents.delete(sessionId);
      later("session ended", () => this.#sessionEnded(agent, reason));
    });
    events.on("technicianDisabled", (technicianId) => {
      const gone = [...this.#consoles].filter((connection) => connection.technicianId === technicianId);
      for (const connection of gone) this.#consoles.delete(connection);
      later("technician disabled", () => this.#technicianDisabled(gone));
    });
    events.on("technicianUpdated", (technician) =>
      later("technician updated", () => this.#technicianUpdated(technician)),
    );
    events.on("accessChanged", () => later("access changed", () => this.#accessChanged()));
    events.on("systemInfoRequested", (sessionId, request) => {
      const agent = this.#agents.get(sessionId);
      if (agent !== undefined) {
        later("system info requested", () => send(agent.socket, { type: "system.request", ...request }));
      }
    });
    events.on("systemInfo", (sessionId, info, at) =>
      later("system info", () => this.#systemInfo(sessionId, info, at)),
    );
    events.on("chatLine", (line) => {
      const agent = this.#agents.get(line.sessionId);
      later("chat line", () => this.#chatLine(line, agent));
    });
    deps.viewing.events.on("opened", (peer, technician, iceServers) => {
      const agent = this.#agents.get(peer.sessionId);
      later("viewer opened", () => this.#viewerOpened(peer, agent, technician, iceServers));
    });
    deps.viewing.events.on("closed", (peer, reason, tellConsole) => {
      const agent = this.#agents.get(peer.sessionId);
      later("viewer closed", () => this.#viewerClosed(peer, agent, reason, tellConsole));
    });
    deps.viewing.events.on("renewed", (peer, iceServers) => {
      const agent = this.#agents.get(peer.sessionId);
      later("viewer renewed", () => this.#viewerRenewed(peer, agent, iceServers));
    });
  }

  /** Queues one event's fan-out behind the ones before it; a failure is logged and skipped. */
  #later(what: string, work: () => void | Promise<void>): void {
    this.#outbox = this.#outbox.then(async () => {
      if (this.#closed) return;
      try {
        await work();
      } catch (error) {
        this.#d.failed(error, what);
      }
    });
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

  /**
   * Sends a new console its sessions and registers it for changes, in the outbox's order: it is
   * told every change after that snapshot and none from before. `list` gives the sessions it may
   * see; when it fails, `refused` says whether the console was turned away (else it gets none).
   */
  addConsole(
    connection: ConsoleConnection,
    list: () => Promise<SessionRow[]>,
    refused: (error: unknown) => boolean,
  ): void {
    this.#later("console added", async () => {
      let sessions: Session[] = [];
      try {
        sessions = await this.snapshotFor(connection, await list());
      } catch (error) {
        if (refused(error)) return;
      }
      if (connection.socket.readyState !== connection.socket.OPEN) return;
      this.#consoles.add(connection);
      send(connection.socket, { type: "sessions", sessions });
    });
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
  async snapshotFor(connection: ConsoleConnection, sessions: readonly SessionRow[]) {
    const views = [];
    for (const session of sessions) views.push(await this.view(session));
    for (const session of sessions) connection.seen.add(session.id);
    return views;
  }

  view(session: SessionRow): Promise<Session> {
    return sessionView(this.#d.store, session, {
      agentConnected: this.isConnected(session.id),
      viewers: this.#d.viewing.peers.viewersOf(session.id),
    });
  }

  /** Pushes a session's current state to every console that may see it (in the outbox's order). */
  publish(sessionId: string): void {
    this.#later("publish", () => this.#publishNow(sessionId));
  }

  async #publishNow(sessionId: string): Promise<void> {
    const session = await this.#d.store.getSession(sessionId);
    if (session !== undefined) await this.sessionChanged(session);
  }

  // --- remote views -----------------------------------------------------------------------------

  /**
   * A view opened: the console gets its peer id and ICE servers, the agent opens its peer with the
   * same ICE servers. These two sockets are the only ones that see the peer's TURN credential.
   */
  #viewerOpened(
    peer: ViewerPeer<ConsoleConnection>,
    agent: AgentConnection | undefined,
    technician: PersonRef,
    iceServers: IceServer[],
  ): Promise<void> {
    send(peer.console.socket, {
      type: "remote.opened",
      sessionId: peer.sessionId,
      peerId: peer.peerId,
      access: peer.access,
      iceServers,
    });
    if (agent !== undefined) {
      send(agent.socket, {
        type: "peer.open",
        peerId: peer.peerId,
        technician,
        access: peer.access,
        iceServers,
      });
    }
    return this.#publishNow(peer.sessionId);
  }

  /** A view's fresh TURN credential: to its console and its agent only, like the first one. */
  #viewerRenewed(
    peer: ViewerPeer<ConsoleConnection>,
    agent: AgentConnection | undefined,
    iceServers: IceServer[],
  ): void {
    send(peer.console.socket, { type: "remote.ice", sessionId: peer.sessionId, iceServers });
    if (agent !== undefined) send(agent.socket, { type: "peer.ice", peerId: peer.peerId, iceServers });
  }

  /** A view closed: tells the agent (peer.close) and the console (remote.closed). */
  #viewerClosed(
    peer: ViewerPeer<ConsoleConnection>,
    agent: AgentConnection | undefined,
    reason: RemoteCloseReason,
    tellConsole: boolean,
  ): Promise<void> {
    if (agent !== undefined) send(agent.socket, { type: "peer.close", peerId: peer.peerId, reason });
    if (tellConsole) send(peer.console.socket, { type: "remote.closed", sessionId: peer.sessionId, reason });
    return this.#publishNow(peer.sessionId);
  }

  // --- desk events ------------------------------------------------------------------------------

  async sessionChanged(session: SessionRow): Promise<void> {
    const view = await this.view(session);
    this.#tellAgentWho(view);
    for (const connection of [...this.#consoles]) {
      const account = await this.#d.store.getTechnician(connection.technicianId);
      if (!this.#consoles.has(connection)) continue;
      if (account !== undefined && (await this.#d.policy.canSeeSession(account, session))) {
        connection.seen.add(session.id);
        send(connection.socket, { type: "session.updated", session: view });
      } else if (connection.seen.delete(session.id)) {
        send(connection.socket, { type: "session.removed", sessionId: session.id });
      }
    }
  }

  /** The session's agent is told who is on it, with what rights, when that changed. */
  #tellAgentWho(view: Session): void {
    const agent = this.#agents.get(view.id);
    if (agent === undefined) return;
    const technicians = isLive(view.status) ? onSessionView(view) : [];
    const told = JSON.stringify(technicians);
    if (this.#toldAgent.get(agent) === told) return;
    this.#toldAgent.set(agent, told);
    send(agent.socket, { type: "technicians", technicians });
  }

  /** The end user's computer's facts: to every console that may see the session. */
  async #systemInfo(sessionId: string, info: SystemInfo, at: number): Promise<void> {
    const session = await this.#d.store.getSession(sessionId);
    if (session === undefined) return;
    for (const connection of await this.#seeing(session)) {
      send(connection.socket, { type: "system.info", sessionId, info, at: iso(at) });
    }
  }

  /** The consoles whose technician may see the session now. */
  async #seeing(session: SessionRow): Promise<ConsoleConnection[]> {
    const found: ConsoleConnection[] = [];
    for (const connection of [...this.#consoles]) {
      const account = await this.#d.store.getTechnician(connection.technicianId);
      if (!this.#consoles.has(connection)) continue;
      if (account !== undefined && (await this.#d.policy.canSeeSession(account, session)))
        found.push(connection);
    }
    return found;
  }

  /** A chat line: to every console that may see the session; a technician's to the agent as well. */
  async #chatLine(row: ChatLineRow, agent: AgentConnection | undefined): Promise<void> {
    const session = await this.#d.store.getSession(row.sessionId);
    if (session === undefined) return;
    const line = chatLineView(row);
    for (const connection of await this.#seeing(session))
      send(connection.socket, { type: "chat.line", line });
    if (agent !== undefined && line.kind === "technician" && line.technician !== null) {
      send(agent.socket, { type: "chat", from: line.technician, text: line.text, at: line.at });
    }
  }

  #sessionRemoved(session: SessionRow): void {
    for (const connection of this.#consoles) {
      if (connection.seen.delete(session.id))
        send(connection.socket, { type: "session.removed", sessionId: session.id });
    }
  }

  async #consentRequested(
    agent: AgentConnection,
    request: { requestId: string; technician: PersonRef; access: AccessMode },
  ): Promise<void> {
    const organization = await this.#d.organizationName();
    send(agent.socket, { type: "consent.request", ...request, organization });
  }

  #sessionEnded(agent: AgentConnection, reason: SessionEndReason): void {
    send(agent.socket, { type: "session.ended", reason });
    agent.socket.close(CLOSE.ended, `session ${reason}`);
  }

  #technicianDisabled(consoles: readonly ConsoleConnection[]): void {
    for (const connection of consoles) connection.socket.close(CLOSE.unauthenticated, "account disabled");
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
  async #accessChanged(): Promise<void> {
    for (const session of await this.#d.store.listSessions()) await this.sessionChanged(session);
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
  async accountOf(connection: ConsoleConnection): Promise<TechnicianRow | undefined> {
    const account = await this.#d.store.getTechnician(connection.technicianId);
    return account === undefined || account.disabled ? undefined : account;
  }
}
