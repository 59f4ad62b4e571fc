import type { WebSocket } from "ws";
import type { Cluster } from "../cluster/cluster.ts";
import { Elsewhere } from "./elsewhere.ts";

/** The end user's agent socket, once joined. */
export type AgentConnection = {
  readonly socket: WebSocket;
  readonly sessionId: string;
  readonly address: string;
  /**
   * Which join this is: the start of the session's resume secret hash it joined with (joinMark); a
   * newer join anywhere changes the hash.
   */
  readonly joinedAs: string | null;
  /**
   * The last `technicians` list it was sent (JSON; the hub sends it again only when it changed);
   * null until its `welcome` went out: nothing is told before the welcome (an agent takes any other
   * first message as its hello's refusal), the hello publishes the session once it is welcomed.
   */
  told: string | null | undefined;
};

/**
 * What an agent keeps of its session's resume secret hash to tell its join from a newer one: its
 * first 12 characters (72 bits of the base64url SHA-256). The gateway draws the secrets, so two
 * joins of one session share them only by a 1 in 2^72 chance; and 12 characters are copied, where
 * a longer slice would keep the whole 43-character hash alive (V8 slices strings of 13 or more).
 */
export function joinMark(resumeSecretHash: string | null): string | null {
  return resumeSecretHash === null ? null : resumeSecretHash.slice(0, 12);
}

/**
 * The agents this instance holds, by session, and what it knows of those other instances hold
 * (Elsewhere). Every agent attached or forgotten here is recorded and announced through the cluster.
 */
export class Agents {
  readonly #here = new Map<string, AgentConnection>();
  readonly elsewhere = new Elsewhere();
  readonly #cluster: Cluster;

  constructor(cluster: Cluster) {
    this.#cluster = cluster;
  }

  here(sessionId: string): AgentConnection | undefined {
    return this.#here.get(sessionId);
  }

  /** Whether the session's agent is connected, to this instance or another one. */
  isConnected(sessionId: string): boolean {
    return this.#here.has(sessionId) || this.elsewhere.hasAgent(sessionId);
  }

  /** Registers the agent of a session; returns the connection it replaces here, if any. */
  attach(agent: AgentConnection): AgentConnection | undefined {
    const previous = this.#here.get(agent.sessionId);
    this.#here.set(agent.sessionId, agent);
    this.elsewhere.agentHere(agent.sessionId);
    this.#cluster.agentAttached(agent.sessionId);
    return previous;
  }

  /**
   * Forgets the session's agent here (only if it is `only`, when given) and returns it. `announce`:
   * false when another instance holds the session's agent now (nothing of this one's to remove).
   */
  forget(sessionId: string, only?: AgentConnection, announce = true): AgentConnection | undefined {
    const agent = this.#here.get(sessionId);
    if (agent === undefined || (only !== undefined && agent !== only)) return undefined;
    this.#here.delete(sessionId);
    if (announce) this.#cluster.agentDetached(sessionId);
    return agent;
  }

  count(): number {
    return this.#here.size;
  }

  all(): Iterable<AgentConnection> {
    return this.#here.values();
  }

  clear(): void {
    this.#here.clear();
  }

  /** Reads the presence other instances recorded again, and announces the agents here anew. */
  async reload(): Promise<void> {
    const agents = await this.#cluster.agentsElsewhere();
    this.elsewhere.reloadAgents(agents, (sessionId) => this.#here.has(sessionId));
    for (const sessionId of this.#here.keys()) this.#cluster.agentAttached(sessionId);
  }
}
