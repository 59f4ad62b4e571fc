import type { SessionEndReason } from "../../shared/agent-protocol.ts";
import type { RemoteCloseReason } from "../../shared/console-protocol.ts";
import type { PersonRef } from "../../shared/model.ts";
import type { AccessMode } from "../../shared/status.ts";
import type { SessionRow, TechnicianRow } from "../store/rows.ts";

/**
 * Everything the domain tells the live side, after the change is stored: one typed map of events.
 * Implemented by the realtime hub, which translates each into socket messages; the domain never
 * touches sockets, and no route or socket handler tells the live side itself.
 */
export type DomainEvents = {
  /** Any change to a session's row, assignee, invites or permissions. */
  sessionChanged(session: SessionRow): void;
  /** Deleted: consoles drop the row. */
  sessionRemoved(session: SessionRow): void;
  /** Ask the end user's agent for consent. */
  consentRequested(
    sessionId: string,
    request: { requestId: string; technician: PersonRef; access: AccessMode },
  ): void;
  /** A pending request was withdrawn (the technician left the session): the agent drops the question. */
  consentCancelled(sessionId: string, requestId: string): void;
  /** The session is over on the gateway: tell the agent, close every remote view. */
  sessionEnded(sessionId: string, reason: SessionEndReason): void;
  /** A technician lost their place or permission on the session: close their remote view. */
  technicianOffSession(sessionId: string, technicianId: string, reason: RemoteCloseReason): void;
  /** A technician was disabled or lost the Service Desk: close their sockets and remote views everywhere. */
  technicianDisabled(technicianId: string): void;
  /** A technician's account changed (name, permissions): their consoles get a fresh `hello`. */
  technicianUpdated(account: TechnicianRow): void;
  /** Channel access lists or rights changed: every console gets its sessions re-sent. */
  accessChanged(): void;
};

/** Whether an agent socket is connected for a session; kept by the hub, read by the domain. */
export type AgentPresence = { isConnected(sessionId: string): boolean };
