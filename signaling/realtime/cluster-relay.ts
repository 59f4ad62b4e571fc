import type { Logger } from "pino";
import type { BusMessage } from "../cluster/bus-messages.ts";
import type { ClusterHandlers } from "../cluster/cluster.ts";
import type { PinGuard } from "../domain/pin-guard.ts";
import type { Technicians } from "../domain/technicians.ts";
import type { Viewing } from "../domain/viewing.ts";
import type { ConsoleConnection, Hub } from "./hub.ts";
import { dispatch, type HandlerMap, send } from "./wire.ts";

export type ClusterRelayDeps = {
  hub: Hub;
  viewing: Viewing<ConsoleConnection>;
  log: Logger;
  /** An instance is gone: sessions whose agent is now nowhere get their resume grace (AgentSockets). */
  orphansMayExist: () => void;
  /** Limits shared across instances: what another one counted, counted here too. */
  pins: Pick<PinGuard, "heard">;
  technicians: Pick<Technicians, "heardSignIn">;
};

/**
 * What other gateway instances publish, for the sockets this one holds: one handler per bus
 * message type, each doing here what the sender's hub did for its own sockets (the hub's fan-out
 * and Viewing's closing of views).
 */
export function clusterRelay(deps: ClusterRelayDeps): ClusterHandlers {
  const { hub, viewing, log } = deps;
  const handlers: HandlerMap<BusMessage, string> = {
    "session.changed": (_from, message) => hub.publishHere(message.sessionId),
    "session.removed": (_from, message) =>
      hub.later("session removed", () => hub.sessionRemovedHere(message.sessionId)),
    "session.ended": (_from, message) => {
      viewing.closeSession(message.sessionId, "session_closed");
      hub.endAgentHere(message.sessionId, message.reason);
    },
    "session.views_closed": (_from, message) => viewing.closeSession(message.sessionId, message.reason),
    "technician.off_session": (_from, message) =>
      viewing.closeSession(message.sessionId, message.reason, message.technicianId),
    "technician.disabled": (_from, message) => {
      viewing.closeTechnician(message.technicianId, "technician_disabled");
      hub.disableHere(message.technicianId);
    },
    "technician.updated": (_from, message) => hub.technicianUpdatedHere(message.technicianId),
    "access.changed": () => hub.accessChangedHere(),
    "agent.attached": (from, message) => hub.agentAttachedElsewhere(message.sessionId, from),
    "agent.detached": (from, message) => hub.elsewhere.agentDetached(message.sessionId, from),
    "agent.resumed": (_from, message) => hub.offerViewsAgain(message.sessionId),
    "agent.send": (_from, message) => hub.toAgentHere(message.sessionId, message.message),
    "views.wanted": () => hub.announceViews(),
    peers: (from, message) => hub.elsewhere.setPeers(from, message.sessionId, message.peers),
    "peer.signal": (_from, message) => {
      const peer = viewing.peers.byPeer(message.peerId);
      if (peer === undefined || peer.sessionId !== message.sessionId) return;
      send(peer.console.socket, { type: "remote.signal", sessionId: message.sessionId, data: message.data });
    },
    "peer.closed": (_from, message) => {
      const peer = viewing.peers.byPeer(message.peerId);
      if (peer !== undefined && peer.sessionId === message.sessionId) viewing.close(peer, message.reason);
    },
    "chat.line": (_from, message) =>
      hub.later("chat line", () => hub.chatLineHere(message.sessionId, message.line)),
    "system.info": (_from, message) =>
      hub.later("system info", () => hub.systemInfoHere(message.sessionId, message.info, message.at)),
    "instance.gone": (_from, message) => instanceGone(message.instanceId),
    "pin.tried": (_from, message) => deps.pins.heard(message.address, message.outcome),
    "sign_in.tried": (_from, message) =>
      deps.technicians.heardSignIn(message.email, message.address, message.outcome),
  };
  const fail = (error: unknown, type: string) => log.error({ err: error, type }, "a bus message failed");
  const instanceGone = (instanceId: string) => {
    hub.instanceGone(instanceId);
    deps.orphansMayExist();
  };
  return {
    message: (message, from) => {
      void dispatch(handlers, from, message, fail);
    },
    instanceGone,
    rejoined: () => {
      hub.rejoined().catch((error: unknown) => fail(error, "rejoined"));
    },
  };
}
