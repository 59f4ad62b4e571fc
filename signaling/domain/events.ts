import type { SessionEndReason } from "../../shared/agent-protocol.ts";
import type { RemoteCloseReason } from "../../shared/console-protocol.ts";
import type { PersonRef } from "../../shared/model.ts";
import type { AccessMode } from "../../shared/status.ts";
import type { SessionRow } from "../store/rows.ts";

/**
 * What the desk tells the live side (the realtime hub) after each change is stored.
 * Implemented by the hub; the desk never touches sockets itself.
 */
export type DeskEvents = {
  /** Any change to a session's row, assignee, invites or permissions. */
  sessionChanged(session: SessionRow): void;
  /** Deleted: consoles drop the row. */
  sessionRemoved(session: SessionRow): void;
  /** Ask the end user's agent for consent. */
  consentRequested(
    sessionId: string,
    request: { requestId: string; technician: PersonRef; access: AccessMode },
  ): void;
  consentCancelled(sessionId: string, requestId: string): void;
  /** The session is over on the gateway: tell the agent, close every remote view. */
  sessionEnded(sessionId: string, reason: SessionEndReason): void;
  /** A technician lost their place or permission on the session: close their remote view. */
  technicianOffSession(sessionId: string, technicianId: string, reason: RemoteCloseReason): void;
  /** A technician was disabled: close their sockets and remote views everywhere. */
  technicianDisabled(technicianId: string): void;
};

/** Whether an agent socket is connected for a session; kept by the hub, read by the desk. */
export type AgentPresence = { isConnected(sessionId: string): boolean };
