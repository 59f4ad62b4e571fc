/** A remote view whose console is on another instance. */
export type RemotePeer = { peerId: string; technicianId: string };

/**
 * What the other gateway instances on the database hold, as this one learned it from the bus:
 * which instance holds each session's agent, and the remote views whose consoles are there. Empty
 * when the gateway is alone (SQLite).
 */
export class Elsewhere {
  /** Session id → the instance holding its agent (one string per instance: see #instance). */
  readonly #agents = new Map<string, string>();
  /** The instance ids heard of, each once: thousands of agents' entries share their instance's. */
  readonly #instances = new Map<string, string>();
  /** Instance id → session id → its views of that session. */
  readonly #peers = new Map<string, Map<string, RemotePeer[]>>();

  hasAgent(sessionId: string): boolean {
    return this.#agents.has(sessionId);
  }

  agentAttached(sessionId: string, instanceId: string): void {
    this.#agents.set(sessionId, this.#instance(instanceId));
  }

  /** The one copy of an instance id (each bus message decodes a copy of its own). */
  #instance(instanceId: string): string {
    const known = this.#instances.get(instanceId);
    if (known !== undefined) return known;
    this.#instances.set(instanceId, instanceId);
    return instanceId;
  }

  /** Only the instance that holds the agent can say it left (a newer one elsewhere stays). */
  agentDetached(sessionId: string, instanceId: string): void {
    if (this.#agents.get(sessionId) === instanceId) this.#agents.delete(sessionId);
  }

  /** The agent is on this instance now. */
  agentHere(sessionId: string): void {
    this.#agents.delete(sessionId);
  }

  /** Replaces every remote agent (presence read again from the database). */
  reloadAgents(
    agents: ReadonlyArray<{ sessionId: string; instanceId: string }>,
    here: (id: string) => boolean,
  ) {
    this.#agents.clear();
    this.#instances.clear();
    for (const { sessionId, instanceId } of agents)
      if (!here(sessionId)) this.#agents.set(sessionId, this.#instance(instanceId));
  }

  setPeers(instanceId: string, sessionId: string, peers: readonly RemotePeer[]): void {
    let sessions = this.#peers.get(instanceId);
    if (sessions === undefined) {
      sessions = new Map();
      this.#peers.set(instanceId, sessions);
    }
    if (peers.length === 0) sessions.delete(sessionId);
    else sessions.set(sessionId, [...peers]);
  }

  hasPeer(sessionId: string, peerId: string): boolean {
    for (const sessions of this.#peers.values()) {
      if (sessions.get(sessionId)?.some((peer) => peer.peerId === peerId) === true) return true;
    }
    return false;
  }

  /** A view of the technician on the session whose console is on another instance. */
  peerOf(sessionId: string, technicianId: string): RemotePeer | undefined {
    for (const sessions of this.#peers.values()) {
      const peer = sessions.get(sessionId)?.find((view) => view.technicianId === technicianId);
      if (peer !== undefined) return peer;
    }
    return undefined;
  }

  viewersOf(sessionId: string): string[] {
    const viewers: string[] = [];
    for (const sessions of this.#peers.values()) {
      for (const peer of sessions.get(sessionId) ?? []) viewers.push(peer.technicianId);
    }
    return viewers;
  }

  /** Forgets a gone instance; returns the views it held, by session. */
  dropInstance(instanceId: string): Map<string, RemotePeer[]> {
    for (const [sessionId, holder] of [...this.#agents]) {
      if (holder === instanceId) this.#agents.delete(sessionId);
    }
    this.#instances.delete(instanceId);
    const peers = this.#peers.get(instanceId) ?? new Map<string, RemotePeer[]>();
    this.#peers.delete(instanceId);
    return peers;
  }
}
