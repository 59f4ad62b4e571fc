import { newId } from "../auth/tokens.ts";
import type { Cluster } from "./cluster.ts";

/**
 * One gateway alone on its store (SQLite): there is no other instance, so nothing is published
 * anywhere and nobody is ever gone. Every socket is on this instance; the hub reaches it directly.
 */
export function singleCluster(): Cluster {
  const instanceId = newId();
  return {
    instanceId,
    async start() {},
    publish() {},
    agentAttached() {},
    agentDetached() {},
    agentsElsewhere: async () => [],
    async close() {},
  };
}
