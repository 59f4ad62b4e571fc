import type { GatewayToAgent } from "../../shared/agent-protocol.ts";
import type { RemoteCloseReason } from "../../shared/console-protocol.ts";
import { SosError } from "../../shared/errors.ts";
import type { SignalData } from "../../shared/signal.ts";
import type { Cluster } from "../cluster/cluster.ts";
import type { Viewing } from "../domain/viewing.ts";
import type { AgentConnection, Agents } from "./agents.ts";
import type { ConsoleConnection } from "./hub.ts";
import { send } from "./wire.ts";

/**
 * Where a message for one socket goes: to the socket if this instance holds it, else over the bus
 * to the instance that does (an agent by its session, a view's console by its peer).
 */
export class Routing {
  readonly #agents: Agents;
  readonly #viewing: Viewing<ConsoleConnection>;
  readonly #cluster: Cluster;

  constructor(agents: Agents, viewing: Viewing<ConsoleConnection>, cluster: Cluster) {
    this.#agents = agents;
    this.#viewing = viewing;
    this.#cluster = cluster;
  }

  /**
   * To the session's agent: `agent` (the one here when the event was emitted), else over the bus
   * to whichever instance holds it; the others drop it. Published even when no instance is known
   * to hold it: one that attached it a moment ago may not have said so yet (its hello read the
   * pending consent requests before this one was stored).
   */
  toAgent(sessionId: string, agent: AgentConnection | undefined, message: GatewayToAgent): void {
    if (agent !== undefined) send(agent.socket, message);
    else this.#cluster.publish({ type: "agent.send", sessionId, message });
  }

  /** A console's signal for its view, to the agent here or on another instance; AGENT_OFFLINE if none. */
  signalToAgent(sessionId: string, peerId: string, data: SignalData): void {
    if (!this.#agents.isConnected(sessionId))
      throw new SosError("AGENT_OFFLINE", "The end user's app is not connected.");
    this.toAgent(sessionId, this.#agents.here(sessionId), { type: "signal", peerId, data });
  }

  /** The agent's signal for a view of its session, to the console here or on another instance. */
  signalToConsole(sessionId: string, peerId: string, data: SignalData): void {
    const peer = this.#viewing.peers.byPeer(peerId);
    if (peer !== undefined && peer.sessionId === sessionId) {
      send(peer.console.socket, { type: "remote.signal", sessionId, data });
    } else if (this.#agents.elsewhere.hasPeer(sessionId, peerId)) {
      this.#cluster.publish({ type: "peer.signal", sessionId, peerId, data });
    } else {
      throw new SosError("PEER_NOT_FOUND", "No such peer on this session.");
    }
  }

  /** The agent closed a view: here, or on the instance its console is on (unknown: ignored). */
  agentClosedPeer(sessionId: string, peerId: string, reason: RemoteCloseReason): void {
    const peer = this.#viewing.peers.byPeer(peerId);
    if (peer !== undefined && peer.sessionId === sessionId) this.#viewing.close(peer, reason);
    else if (this.#agents.elsewhere.hasPeer(sessionId, peerId))
      this.#cluster.publish({ type: "peer.closed", sessionId, peerId, reason });
  }

  /** The technician's open view of the session: its console here or on another instance. */
  viewOf(sessionId: string, technicianId: string): { peerId: string } | undefined {
    return (
      this.#viewing.peers.ofSession(sessionId).find((peer) => peer.technicianId === technicianId) ??
      this.#agents.elsewhere.peerOf(sessionId, technicianId)
    );
  }

  /** The views of a session whose consoles are here, for the other instances. */
  announcePeers(sessionId: string): void {
    const peers = this.#viewing.peers
      .ofSession(sessionId)
      .map((peer) => ({ peerId: peer.peerId, technicianId: peer.technicianId }));
    this.#cluster.publish({ type: "peers", sessionId, peers });
  }
}
