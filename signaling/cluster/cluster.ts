import type { BusMessage } from "./bus-messages.ts";

/** What a cluster tells the instance it serves. */
export type ClusterHandlers = {
  /** A message from another instance, in the order that instance sent it (already decoded). */
  message(message: BusMessage, from: string): void;
  /** Another instance is gone (stopped, or missed its heartbeats): forget what it held. */
  instanceGone(instanceId: string): void;
  /**
   * The bus may have missed messages (its connection was lost and is back, or this instance had
   * been declared gone and registered again): reload presence and announce what this one holds.
   */
  rejoined(): void;
};

/**
 * The gateway instances that share one database, as one of them sees it: a bus to the others
 * (ordered per sender), the agents each holds, and who is still alive. Two adapters: the
 * single-instance one for SQLite (single-cluster.ts: nobody else, today's behaviour) and the
 * PostgreSQL one (postgres-cluster.ts: LISTEN/NOTIFY, heartbeats). Chosen with the store in main.ts.
 */
export type Cluster = {
  /** This instance's id, new at every start. */
  readonly instanceId: string;
  /** Registers this instance and starts delivering to `handlers`. */
  start(handlers: ClusterHandlers): Promise<void>;
  /** Sends to every other instance; messages arrive in the order they were published. */
  publish(message: BusMessage): void;
  /** This instance holds the session's agent now (recorded, then announced: in publish order). */
  agentAttached(sessionId: string): void;
  /** This instance no longer holds the session's agent. */
  agentDetached(sessionId: string): void;
  /** The agents other live instances hold (read at start, and after the bus reconnects). */
  agentsElsewhere(): Promise<Array<{ sessionId: string; instanceId: string }>>;
  /** Stops heartbeats and the bus; the others are told this instance is gone. Safe to call twice. */
  close(): Promise<void>;
};
