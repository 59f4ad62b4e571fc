/**
 * bench:gateway's idle clients, in a process of their own: a process may hold at most its hard
 * descriptor limit of sockets (20,000 here, and only CAP_SYS_RESOURCE raises it), so the bench
 * spreads tens of thousands of idle agents and PeerJS sockets over several of these. Over IPC,
 * one request at a time:
 *   { type: "agents", joins: [{ url, token }], address } -> { opened }  joins them by link, 50 at once
 *   { type: "peerjs", port, ids }                        -> { opened }  registers idle PeerJS clients
 *   { type: "told" }                                     -> { agents }  how many agents got their
 *                                                           first technicians list (their join's
 *                                                           fan-out on the gateway is done)
 *   { type: "open" }                                     -> { agents, peerjs }  still connected now
 *   { type: "close" }                                    -> {}  terminates every socket
 * A failed join or registration fails the request with its reason ({ error }).
 */
import type { WebSocket } from "ws";
import { joinAgent, openPeerjsClient } from "./bench-gateway-clients.ts";

export type IdleRequest =
  | { type: "agents"; joins: Array<{ url: string; token: string }>; address: string }
  | { type: "peerjs"; port: number; ids: string[] }
  | { type: "told" }
  | { type: "open" }
  | { type: "close" };
export type IdleAnswer = { opened?: number; agents?: number; peerjs?: number; error?: string };

const BATCH = 50;
const agents: WebSocket[] = [];
let told = 0;
const peerjs: WebSocket[] = [];
const stillOpen = (sockets: readonly WebSocket[]) =>
  sockets.filter((socket) => socket.readyState === socket.OPEN).length;

async function handle(request: IdleRequest): Promise<IdleAnswer> {
  switch (request.type) {
    case "agents":
      for (let i = 0; i < request.joins.length; i += BATCH) {
        const batch = await Promise.all(
          request.joins
            .slice(i, i + BATCH)
            .map((join) => joinAgent(join.url, { kind: "link", token: join.token }, request.address)),
        );
        for (const joined of batch) {
          agents.push(joined.socket);
          void joined.told.then(() => {
            told += 1;
          });
        }
      }
      return { opened: request.joins.length };
    case "peerjs":
      for (let i = 0; i < request.ids.length; i += BATCH) {
        const batch = await Promise.all(
          request.ids.slice(i, i + BATCH).map((id) => openPeerjsClient(request.port, id)),
        );
        for (const client of batch) peerjs.push(client.socket);
      }
      return { opened: request.ids.length };
    case "told":
      return { agents: told };
    case "open":
      return { agents: stillOpen(agents), peerjs: stillOpen(peerjs) };
    case "close":
      for (const socket of [...agents, ...peerjs]) socket.terminate();
      return {};
  }
}

let queue: Promise<void> = Promise.resolve();
process.on("message", (request: IdleRequest) => {
  queue = queue.then(async () => {
    const answer = await handle(request).catch((error: unknown) => ({
      error: error instanceof Error ? error.message : String(error),
    }));
    process.send?.(answer);
  });
});
// The bench is gone (or done): so is this holder.
process.on("disconnect", () => process.exit(0));
