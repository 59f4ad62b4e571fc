import type { WebSocket } from "ws";
import type { GatewayToAgent, SessionEndReason } from "../../shared/agent-protocol.ts";
import type { RemoteCloseReason } from "../../shared/console-protocol.ts";
import { PROTOCOL_VERSION } from "../../shared/limits.ts";
import type { ChatLine, PersonRef, Session } from "../../shared/model.ts";
import type { IceServer } from "../../shared/signal.ts";
import { type AccessMode, isLive } from "../../shared/status.ts";
import type { SystemInfo } from "../../shared/system-info.ts";
import { iso } from "../clock.ts";
import type { Cluster } from "../cluster/cluster.ts";
import type { AgentPresence, DomainEvents } from "../domain/events.ts";
import type { Policy } from "../domain/policy.ts";
import type { ViewerPeer } from "../domain/viewer-peers.ts";
import type { Viewing } from "../domain/viewing.ts";
import {
  chatLineView,
  type LiveSession,
  onSessionView,
  sessionView,
  sessionViews,
  technicianView,
} from "../domain/views.ts";
import type { SessionRow, TechnicianRow } from "../store/rows.ts";
import type { Store } from "../store/store.ts";
import { type AgentConnection, Agents, joinMark } from "./agents.ts";
import type { Elsewhere } from "./elsewhere.ts";
import { Routing } from "./routing.ts";
import { CLOSE, send } from "./wire.ts";

/** A signed-in technician's console socket. */
export type ConsoleConnection = {
  readonly socket: WebSocket;
  readonly technicianId: string;
  /** Sessions this console was told about, so it can be told when one leaves its sight. */
  readonly seen: Set<string>;
};

export type { AgentConnection } from "./agents.ts";

export type HubDeps = {
  store: Store;
  policy: Policy;
  organizationName: () => Promise<string>;
  /** Where a fan-out that failed (the store unavailable) is logged. */
  failed: (error: unknown, what: string) => void;
  /** Runs `work` soon, and again with backoff until it succeeds (Jobs.after): the consoles' resync. */
  retry: (job: string, work: () => Promise<void>) => void;
  viewing: Viewing<ConsoleConnection>;
  /** Subscribed after Viewing's own listeners, so views close before an ended session's agent goes. */
  events: DomainEvents;
  /** The other instances on the database (none with SQLite): what this one's events mean for theirs. */
  cluster: Cluster;
};

/**
 * Who is connected right now, and the fan-out of every change to them: it subscribes to the
 * domain's events and viewing's, and translates each into socket messages. Keeps the agent
 * presence the domain reads (agents here, and those other instances hold: Elsewhere).
 *
 * Building a message may read the store (asynchronous), so the fan-out of each event runs in an
 * outbox, one event after the other, in the order they were emitted: a console never gets an older
 * state of a session after a newer one, nor an agent `consent.cancel` before its `consent.request`.
 * Who is present changes at once, when the event is emitted.
 *
 * A step that fails (the store unavailable) is logged and skipped, and consoles may have missed
 * what it was to tell them: every console here is then sent its sessions again (and every agent
 * here who is on its session), in the outbox's order, retried until the store answers.
 *
 * With several instances on one database, each outbox step also publishes what other instances
 * need (cluster.ts) in the same order; what arrives from them (ClusterRelay) is fanned out here
 * through the same outbox. A message for an agent or a view's console on another instance goes
 * over the bus to whichever instance holds it.
 */
export class Hub implements AgentPresence {
  readonly #d: HubDeps;
  readonly #consoles = new Set<ConsoleConnection>();
  readonly #agents: Agents;
  /** Messages for one socket, here or on the instance that holds it. */
  readonly routing: Routing;
  /**
   * The `technicians` lists (JSON) agents were told lately, each once: the agents of one technician's
   * sessions keep one string between them, not one each. Emptied when it reaches 1,000.
   */
  readonly #toldLists = new Map<string, string>();
  /** Set at shutdown: late socket events then touch nothing (the store is closing). */
  #closed = false;
  /** The end of the outbox: the fan-out of the last event emitted. */
  #outbox: Promise<void> = Promise.resolve();
  /** Set when a step failed, until a resync of every console starts: one resync is pending. */
  #behind = false;

  constructor(deps: HubDeps) {
    this.#d = deps;
    this.#agents = new Agents(deps.cluster);
    this.routing = new Routing(this.#agents, deps.viewing, deps.cluster);
    const { events } = deps;
    const later = this.later.bind(this);
    const { cluster } = deps;
    events.on("sessionChanged", (session) =>
      later("session changed", () => {
        cluster.publish({ type: "session.changed", sessionId: session.id });
        return this.sessionChanged(session);
      }),
    );
    events.on("sessionRemoved", (session) =>
      later("session removed", () => {
        cluster.publish({ type: "session.removed", sessionId: session.id });
        this.sessionRemovedHere(session.id);
      }),
    );
    // The agent a message goes to is the one connected when the event is emitted (a session that
    // ends right after still gets its consent.cancel before its session.ended).
    events.on("consentRequested", (sessionId, request) => {
      const agent = this.#agents.here(sessionId);
      later("consent requested", () => this.#consentRequested(sessionId, agent, request));
    });
    events.on("consentCancelled", (sessionId, requestId) => {
      const agent = this.#agents.here(sessionId);
      later("consent cancelled", () =>
        this.routing.toAgent(sessionId, agent, { type: "consent.cancel", requestId }),
      );
    });
    events.on("sessionEnded", (sessionId, reason) => {
      later("session ended", () => cluster.publish({ type: "session.ended", sessionId, reason }));
      this.endAgentHere(sessionId, reason);
    });
    events.on("technicianOffSession", (sessionId, technicianId, reason) =>
      later("technician off session", () =>
        cluster.publish({ type: "technician.off_session", sessionId, technicianId, reason }),
      ),
    );
    events.on("technicianDisabled", (technicianId) => {
      later("technician disabled", () => cluster.publish({ type: "technician.disabled", technicianId }));
      this.disableHere(technicianId);
    });
    events.on("technicianUpdated", (technician) =>
      later("technician updated", () => {
        cluster.publish({ type: "technician.updated", technicianId: technician.id });
        this.#technicianUpdated(technician);
      }),
    );
    events.on("accessChanged", () =>
      later("access changed", () => {
        cluster.publish({ type: "access.changed" });
        return this.#accessChanged();
      }),
    );
    events.on("continueRequested", (sessionId, question) => {
      const agent = this.#agents.here(sessionId);
      later("continue requested", () =>
        this.routing.toAgent(sessionId, agent, { type: "continue.request", ...question }),
      );
    });
    events.on("systemInfoRequested", (sessionId, request) => {
      const agent = this.#agents.here(sessionId);
      later("system info requested", () =>
        this.routing.toAgent(sessionId, agent, { type: "system.request", ...request }),
      );
    });
    events.on("recordingStarted", (sessionId, recording) => {
      const agent = this.#agents.here(sessionId);
      later("recording started", () =>
        this.routing.toAgent(sessionId, agent, { type: "recording.start", ...recording }),
      );
    });
    events.on("recordingStopped", (sessionId, recording) => {
      const agent = this.#agents.here(sessionId);
      later("recording stopped", () =>
        this.routing.toAgent(sessionId, agent, { type: "recording.stop", ...recording }),
      );
    });
    events.on("systemInfo", (sessionId, info, at) =>
      later("system info", () => {
        cluster.publish({ type: "system.info", sessionId, info, at });
        return this.systemInfoHere(sessionId, info, at);
      }),
    );
    events.on("chatLine", (row) => {
      const agent = this.#agents.here(row.sessionId);
      later("chat line", () => {
        const line = chatLineView(row);
        if (line.kind === "technician" && line.technician !== null) {
          const message = { type: "chat", from: line.technician, text: line.text, at: line.at } as const;
          this.routing.toAgent(row.sessionId, agent, message);
        }
        cluster.publish({ type: "chat.line", sessionId: row.sessionId, line });
        return this.chatLineHere(row.sessionId, line);
      });
    });
    deps.viewing.events.on("opened", (peer) => {
      const agent = this.#agents.here(peer.sessionId);
      later("viewer opened", () => this.#viewerOpened(peer, agent));
    });
    deps.viewing.events.on("closed", (peer, reason, tellConsole) => {
      const agent = this.#agents.here(peer.sessionId);
      later("viewer closed", () => this.#viewerClosed(peer, agent, reason, tellConsole));
    });
    deps.viewing.events.on("renewed", (peer, iceServers) => {
      const agent = this.#agents.here(peer.sessionId);
      later("viewer renewed", () => this.#viewerRenewed(peer, agent, iceServers));
    });
  }

  /**
   * Queues one event's fan-out behind the ones before it; a failure is logged and skipped, and
   * the consoles resynced once the store answers.
   */
  later(what: string, work: () => void | Promise<void>): void {
    this.#outbox = this.#outbox.then(async () => {
      if (this.#closed) return;
      try {
        await work();
      } catch (error) {
        this.#d.failed(error, what);
        this.#fellBehind();
      }
    });
  }

  #fellBehind(): void {
    if (this.#behind) return;
    this.#behind = true;
    this.#d.retry("console resync", () => this.#resync());
  }

  /** One resync attempt, in the outbox's order; rejects (to be tried again) when the store fails. */
  #resync(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#outbox = this.#outbox.then(async () => {
        // A step failing from now on may come after what this sends: it asks for another resync.
        this.#behind = false;
        try {
          if (!this.#closed) await this.#resendAll();
          resolve();
        } catch (error) {
          this.#behind = true;
          reject(error);
        }
      });
    });
  }

  /** Every console here gets the sessions it may see, every agent here who is on its session. */
  async #resendAll(): Promise<void> {
    const { store, policy } = this.#d;
    const all = await store.listSessions();
    // Views do not depend on who sees them: built once (a few batched reads), then filtered.
    const views = new Map((await this.views(all)).map((view) => [view.id, view]));
    for (const connection of [...this.#consoles]) {
      const account = await store.getTechnician(connection.technicianId);
      if (!this.#consoles.has(connection)) continue;
      // As the first snapshot (Desk.list): nothing without the attended-access permission.
      const desk = account !== undefined && policy.isLicensed() && policy.canUseDesk(account);
      const visible = desk ? all.filter(await policy.sessionsVisibleTo(account)) : [];
      if (!this.#consoles.has(connection)) continue;
      const sessions = visible.flatMap((session) => views.get(session.id) ?? []);
      connection.seen.clear();
      for (const session of visible) connection.seen.add(session.id);
      send(connection.socket, { type: "sessions", sessions });
    }
    await this.#tellEveryAgent(views);
  }

  /** Every agent here is told who is on its session, from the views of every session. */
  async #tellEveryAgent(views: ReadonlyMap<string, Session>): Promise<void> {
    const agents = [...this.#agents.all()];
    if (agents.length === 0) return;
    // One read of the accounts for every agent here, not one per technician per session.
    const disabled = new Set(
      (await this.#d.store.listTechnicians()).filter((a) => a.disabled).map((a) => a.id),
    );
    for (const agent of agents) {
      const view = views.get(agent.sessionId);
      if (view !== undefined) this.#tellAgentWho(view, (id) => !disabled.has(id));
    }
  }

  // --- presence ---------------------------------------------------------------------------------

  /** Whether the session's agent is connected, to this instance or another one. */
  isConnected(sessionId: string): boolean {
    return this.#agents.isConnected(sessionId);
  }

  /** What other instances hold (ClusterRelay keeps it). */
  get elsewhere(): Elsewhere {
    return this.#agents.elsewhere;
  }

  /** Registers the agent of a session; returns the connection it replaces, if any. */
  attachAgent(agent: AgentConnection): AgentConnection | undefined {
    return this.#agents.attach(agent);
  }

  /** Forgets the agent if it is still the session's current one; true when it was. */
  detachAgent(agent: AgentConnection): boolean {
    return !this.#closed && this.#agents.forget(agent.sessionId, agent) !== undefined;
  }

  /**
   * The session is over: its agent here (if any) is forgotten at once, then told why and closed
   * (in the outbox's order). On the instance where it ended and on every other one.
   */
  endAgentHere(sessionId: string, reason: SessionEndReason): void {
    const agent = this.#agents.forget(sessionId);
    if (agent === undefined) return;
    this.later("session ended", () => this.#sessionEnded(agent, reason));
  }

  /**
   * Another instance says it holds the session's agent now. When this one holds an agent of the
   * session too (it rejoined elsewhere right after joining here), the newer join stays: the one
   * whose resume secret the session holds; the older one is told it was replaced and closed.
   */
  agentAttachedElsewhere(sessionId: string, instanceId: string): void {
    const agent = this.#agents.here(sessionId);
    if (agent === undefined) {
      this.#agents.elsewhere.agentAttached(sessionId, instanceId);
      return;
    }
    this.later("agent attached elsewhere", async () => {
      const session = await this.#d.store.getSession(sessionId);
      if (session !== undefined && joinMark(session.resumeSecretHash) === agent.joinedAs) return;
      if (this.#agents.forget(sessionId, agent, false) === undefined) return;
      this.#agents.elsewhere.agentAttached(sessionId, instanceId);
      send(agent.socket, { type: "session.ended", reason: "replaced" });
      agent.socket.close(CLOSE.replaced, "replaced by a newer connection");
    });
  }

  /** Closes every view of the session, here and (over the bus) on every other instance. */
  closeViews(sessionId: string, reason: RemoteCloseReason): void {
    this.#d.viewing.closeSession(sessionId, reason);
    this.later("views closed", () =>
      this.#d.cluster.publish({ type: "session.views_closed", sessionId, reason }),
    );
  }

  /** A message for the session's agent, from another instance: sent if the agent is here. */
  toAgentHere(sessionId: string, message: GatewayToAgent): void {
    const agent = this.#agents.here(sessionId);
    if (agent !== undefined) this.later("for the agent", () => send(agent.socket, message));
  }

  /**
   * Another instance is gone: its agents are no longer connected, and the agents here are told
   * that its consoles' views closed; consoles here see the sessions without them.
   */
  instanceGone(instanceId: string): void {
    const views = this.#agents.elsewhere.dropInstance(instanceId);
    this.later("instance gone", async () => {
      for (const [sessionId, peers] of views) {
        const agent = this.#agents.here(sessionId);
        for (const { peerId } of peers) {
          if (agent !== undefined) send(agent.socket, { type: "peer.close", peerId, reason: "disconnected" });
        }
        await this.#publishHereNow(sessionId);
      }
    });
  }

  /**
   * The bus may have missed messages: presence elsewhere is read again, and what this instance
   * holds (agents, views) is announced again.
   */
  async rejoined(): Promise<void> {
    await this.#agents.reload();
    this.announceViews();
    // Views are not in the database: the others tell theirs again (for a start, or what was missed).
    this.#d.cluster.publish({ type: "views.wanted" });
  }

  /**
   * The session's agent resumed (here or, over the bus, on another instance): the views of it
   * whose consoles are here are offered to it again. A view opened while the agent was moving
   * (its instance dead but not yet declared gone) had its `peer.open` lost; the agent ignores a
   * view it already has.
   */
  offerViewsAgain(sessionId: string): void {
    const agent = this.#agents.here(sessionId);
    this.later("views offered again", () => {
      for (const peer of this.#d.viewing.peers.ofSession(sessionId)) {
        this.routing.toAgent(sessionId, agent, peerOpen(peer));
      }
    });
  }

  /** The agent resumed here: views here and on every other instance are offered to it again. */
  agentResumed(sessionId: string): void {
    this.offerViewsAgain(sessionId);
    this.later("agent resumed", () => this.#d.cluster.publish({ type: "agent.resumed", sessionId }));
  }

  /** Tells the other instances every view whose console is here. */
  announceViews(): void {
    const viewed = new Set([...this.#d.viewing.peers.all()].map((peer) => peer.sessionId));
    for (const sessionId of viewed) this.routing.announcePeers(sessionId);
  }

  agentCount(): number {
    return this.#agents.count();
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
    this.later("console added", async () => {
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
    const views = await this.views(sessions);
    for (const session of sessions) connection.seen.add(session.id);
    return views;
  }

  view(session: SessionRow): Promise<Session> {
    return sessionView(this.#d.store, session, this.#live(session.id));
  }

  /** Many sessions' views from a few store reads (a console's snapshot, a listing). */
  views(sessions: readonly SessionRow[]): Promise<Session[]> {
    return sessionViews(this.#d.store, sessions, (id) => this.#live(id));
  }

  #live(sessionId: string): LiveSession {
    const viewers = [
      ...new Set([
        ...this.#d.viewing.peers.viewersOf(sessionId),
        ...this.#agents.elsewhere.viewersOf(sessionId),
      ]),
    ];
    return { agentConnected: this.isConnected(sessionId), viewers };
  }

  /** Pushes a session's current state to every console that may see it (in the outbox's order). */
  publish(sessionId: string): void {
    this.later("publish", () => this.#publishNow(sessionId));
  }

  /** Another instance says a session changed: consoles here get its current state. */
  publishHere(sessionId: string): void {
    this.later("publish", () => this.#publishHereNow(sessionId));
  }

  /** To consoles here and, over the bus, to those of every other instance. */
  #publishNow(sessionId: string): Promise<void> {
    this.#d.cluster.publish({ type: "session.changed", sessionId });
    return this.#publishHereNow(sessionId);
  }

  async #publishHereNow(sessionId: string): Promise<void> {
    if (!this.#anyoneToTell(sessionId)) return;
    const session = await this.#d.store.getSession(sessionId);
    if (session !== undefined) await this.sessionChanged(session);
  }

  /** Another instance says a technician's account changed: their consoles here get a fresh hello. */
  technicianUpdatedHere(technicianId: string): void {
    this.later("technician updated", async () => {
      const account = await this.#d.store.getTechnician(technicianId);
      if (account !== undefined) this.#technicianUpdated(account);
    });
  }

  /** Another instance says access lists changed: every console here gets its sessions again. */
  accessChangedHere(): void {
    this.later("access changed", () => this.#accessChanged());
  }

  // --- remote views -----------------------------------------------------------------------------

  /**
   * A view opened: the console gets its peer id and ICE servers, the agent opens its peer with the
   * same ICE servers. These two sockets are the only ones that see the peer's TURN credential.
   */
  #viewerOpened(peer: ViewerPeer<ConsoleConnection>, agent: AgentConnection | undefined): Promise<void> {
    send(peer.console.socket, {
      type: "remote.opened",
      sessionId: peer.sessionId,
      peerId: peer.peerId,
      access: peer.access,
      iceServers: peer.iceServers,
      maxFileBytes: peer.maxFileBytes,
    });
    // Announced before the agent hears of it: the agent's instance knows where its answer goes
    // (one sender's messages arrive in order).
    this.routing.announcePeers(peer.sessionId);
    this.routing.toAgent(peer.sessionId, agent, peerOpen(peer));
    return this.#publishNow(peer.sessionId);
  }

  /** A view's fresh TURN credential: to its console and its agent only, like the first one. */
  #viewerRenewed(
    peer: ViewerPeer<ConsoleConnection>,
    agent: AgentConnection | undefined,
    iceServers: IceServer[],
  ): void {
    send(peer.console.socket, { type: "remote.ice", sessionId: peer.sessionId, iceServers });
    this.routing.toAgent(peer.sessionId, agent, { type: "peer.ice", peerId: peer.peerId, iceServers });
  }

  /** A view closed: tells the agent (peer.close) and the console (remote.closed). */
  #viewerClosed(
    peer: ViewerPeer<ConsoleConnection>,
    agent: AgentConnection | undefined,
    reason: RemoteCloseReason,
    tellConsole: boolean,
  ): Promise<void> {
    this.routing.toAgent(peer.sessionId, agent, { type: "peer.close", peerId: peer.peerId, reason });
    if (tellConsole) send(peer.console.socket, { type: "remote.closed", sessionId: peer.sessionId, reason });
    this.routing.announcePeers(peer.sessionId);
    return this.#publishNow(peer.sessionId);
  }

  // --- desk events ------------------------------------------------------------------------------

  async sessionChanged(session: SessionRow): Promise<void> {
    if (!this.#anyoneToTell(session.id)) return;
    const view = await this.view(session);
    if (this.#agents.here(session.id) !== undefined) this.#tellAgentWho(view, await this.#canAct(view));
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

  /**
   * Whether a change of the session concerns a socket here: a console (it may see the session), or
   * the session's agent. When none does (an instance without consoles hearing of the other
   * instances' sessions, agents joining before any technician signed in), the fan-out reads
   * nothing: its store reads would only make the outbox lag behind the changes, holding every
   * queued step meanwhile.
   */
  #anyoneToTell(sessionId: string): boolean {
    return this.#consoles.size > 0 || this.#agents.here(sessionId) !== undefined;
  }

  /**
   * The session's agent is told who is on it, with what rights, when that changed. A technician
   * whose account is disabled (or gone) may stay the session's assignee or invited but can do
   * nothing on it (no chat, no view, no permission): the end user is not shown them as with them
   * (`canAct`), and sees them again if the account is enabled again.
   */
  #tellAgentWho(view: Session, canAct: (technicianId: string) => boolean): void {
    const agent = this.#agents.here(view.id);
    if (agent === undefined || agent.told === null) return;
    const technicians = isLive(view.status) ? onSessionView(view).filter((x) => canAct(x.id)) : [];
    const told = JSON.stringify(technicians);
    if (agent.told === told) return;
    agent.told = this.#sharedList(told);
    send(agent.socket, { type: "technicians", technicians });
  }

  /** Which of the technicians on the session have an enabled account (a read of each, at most a few). */
  async #canAct(view: Session): Promise<(technicianId: string) => boolean> {
    const people = view.assignee === null ? view.invited : [view.assignee, ...view.invited];
    const accounts = await Promise.all(people.map((person) => this.#d.store.getTechnician(person.id)));
    const enabled = new Set(accounts.flatMap((a) => (a === undefined || a.disabled ? [] : [a.id])));
    return (technicianId) => enabled.has(technicianId);
  }

  #sharedList(told: string): string {
    const known = this.#toldLists.get(told);
    if (known !== undefined) return known;
    if (this.#toldLists.size >= 1_000) this.#toldLists.clear();
    this.#toldLists.set(told, told);
    return told;
  }

  /** The end user's computer's facts: to every console here that may see the session. */
  async systemInfoHere(sessionId: string, info: SystemInfo, at: number): Promise<void> {
    if (this.#consoles.size === 0) return;
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

  /** A chat line: to every console here that may see the session. */
  async chatLineHere(sessionId: string, line: ChatLine): Promise<void> {
    if (this.#consoles.size === 0) return;
    const session = await this.#d.store.getSession(sessionId);
    if (session === undefined) return;
    for (const connection of await this.#seeing(session))
      send(connection.socket, { type: "chat.line", line });
  }

  /** Consoles here drop a deleted session (in the outbox, after the changes before it). */
  sessionRemovedHere(sessionId: string): void {
    for (const connection of this.#consoles) {
      if (connection.seen.delete(sessionId)) send(connection.socket, { type: "session.removed", sessionId });
    }
  }

  async #consentRequested(
    sessionId: string,
    agent: AgentConnection | undefined,
    request: { requestId: string; technician: PersonRef; access: AccessMode },
  ): Promise<void> {
    const organization = await this.#d.organizationName();
    this.routing.toAgent(sessionId, agent, { type: "consent.request", ...request, organization });
  }

  #sessionEnded(agent: AgentConnection, reason: SessionEndReason): void {
    send(agent.socket, { type: "session.ended", reason });
    agent.socket.close(CLOSE.ended, `session ${reason}`);
  }

  /** The technician's consoles here are forgotten at once and closed in the outbox's order. */
  disableHere(technicianId: string): void {
    const gone = [...this.#consoles].filter((connection) => connection.technicianId === technicianId);
    for (const connection of gone) this.#consoles.delete(connection);
    this.later("technician disabled", () => {
      for (const connection of gone) connection.socket.close(CLOSE.unauthenticated, "account disabled");
    });
  }

  /** Tells a technician's consoles their account changed (permissions, name). */
  #technicianUpdated(account: TechnicianRow): void {
    for (const connection of this.#consoles) {
      if (connection.technicianId === account.id) {
        send(connection.socket, { type: "hello", v: PROTOCOL_VERSION, technician: technicianView(account) });
      }
    }
  }

  /**
   * Re-sends every session to every console (after access lists or rights change): as
   * sessionChanged would for each session, from the reads of one resync (the views once, then
   * per console its account and one look at its channels), not several reads per session per
   * console (a desk keeps its Closed and Expired sessions until they are deleted).
   */
  async #accessChanged(): Promise<void> {
    const { store, policy } = this.#d;
    if (this.#consoles.size === 0 && this.#agents.count() === 0) return;
    const all = await store.listSessions();
    const views = new Map((await this.views(all)).map((view) => [view.id, view]));
    for (const connection of [...this.#consoles]) {
      const account = await store.getTechnician(connection.technicianId);
      if (!this.#consoles.has(connection)) continue;
      const visible = account === undefined ? () => false : await policy.sessionsVisibleTo(account);
      if (!this.#consoles.has(connection)) continue;
      for (const session of all) {
        const view = views.get(session.id);
        if (view !== undefined && visible(session)) {
          connection.seen.add(session.id);
          send(connection.socket, { type: "session.updated", session: view });
        } else if (connection.seen.delete(session.id)) {
          send(connection.socket, { type: "session.removed", sessionId: session.id });
        }
      }
    }
    await this.#tellEveryAgent(views);
  }

  /** Closes every socket (shutdown); events arriving afterwards are ignored. */
  closeAll(): void {
    this.#closed = true;
    for (const connection of this.#consoles) connection.socket.close(1001, "gateway shutting down");
    for (const agent of this.#agents.all()) agent.socket.close(1001, "gateway shutting down");
    this.#consoles.clear();
    this.#agents.clear();
  }

  /** For a console whose account is not loaded: the account, if still active. */
  async accountOf(connection: ConsoleConnection): Promise<TechnicianRow | undefined> {
    const account = await this.#d.store.getTechnician(connection.technicianId);
    return account === undefined || account.disabled ? undefined : account;
  }
}

/** What the agent is told of a view: the same whether it opens now or is offered again after a resume. */
function peerOpen(peer: ViewerPeer<ConsoleConnection>): GatewayToAgent {
  return {
    type: "peer.open",
    peerId: peer.peerId,
    technician: peer.technician,
    access: peer.access,
    iceServers: peer.iceServers,
    maxFileBytes: peer.maxFileBytes,
    ...(peer.filesConnection ? { filesConnection: true } : {}),
  };
}
