import type { SessionEndReason } from "../../shared/agent-protocol.ts";
import type { RemoteCloseReason } from "../../shared/console-protocol.ts";
import type { PersonRef } from "../../shared/model.ts";
import type { AccessMode } from "../../shared/status.ts";
import type { SystemInfo } from "../../shared/system-info.ts";
import type { ChatLineRow, SessionRow, TechnicianRow } from "../store/rows.ts";
import { TypedEvents } from "./typed-events.ts";

/**
 * Everything the domain tells the live side, after the change is stored: one typed map of events.
 * The domain emits; the realtime hub translates each into socket messages and Viewing closes the
 * remote views they end. The domain never touches sockets, and no route or socket handler tells
 * the live side itself.
 */
export type DomainEventMap = {
  /** Any change to a session's row, assignee, invites or permissions. */
  sessionChanged: [session: SessionRow];
  /** Deleted: consoles drop the row. */
  sessionRemoved: [session: SessionRow];
  /** Ask the end user's agent for consent. */
  consentRequested: [
    sessionId: string,
    request: { requestId: string; technician: PersonRef; access: AccessMode },
  ];
  /** A pending request was withdrawn (the technician left the session): the agent drops the question. */
  consentCancelled: [sessionId: string, requestId: string];
  /** Ask the end user whether the session may continue (shared/continuation.ts). */
  continueRequested: [sessionId: string, question: { requestId: string; minutes: number; seconds: number }];
  /** A chat line was stored: the consoles that may see the session show it, the agent prints a technician's. */
  chatLine: [line: ChatLineRow];
  /** Ask the session's agent for its computer's facts (a technician with consent asked). */
  systemInfoRequested: [sessionId: string, request: { requestId: string; technician: PersonRef }];
  /** The agent's computer's facts arrived and were stored: the consoles that may see the session show them. */
  systemInfo: [sessionId: string, info: SystemInfo, at: number];
  /** A technician started recording the session: the agent tells the end user, then confirms. */
  recordingStarted: [sessionId: string, recording: { recordingId: string; technician: PersonRef }];
  /** That recording ended (stopped, or its view closed): the agent tells the end user. */
  recordingStopped: [sessionId: string, recording: { recordingId: string; technician: PersonRef }];
  /** A channel's recording mode was set to off: recordings running in its sessions end. */
  channelRecordingOff: [channelId: string];
  /** The session is over on the gateway: every remote view closes, the agent is told why. */
  sessionEnded: [sessionId: string, reason: SessionEndReason];
  /** A technician lost their place or permission on the session: their remote view closes. */
  technicianOffSession: [sessionId: string, technicianId: string, reason: RemoteCloseReason];
  /** A technician was disabled or lost the Service Desk: their sockets and remote views close. */
  technicianDisabled: [technicianId: string];
  /** A technician's account changed (name, permissions): their consoles get a fresh `hello`. */
  technicianUpdated: [technician: TechnicianRow];
  /** Channel access lists or rights changed: every console gets its sessions re-sent. */
  accessChanged: [];
  /** An agent's join by PIN was refused: a wrong or dead PIN, or its address is held back (metrics). */
  pinRefused: [reason: "wrong" | "rate_limited"];
  /** A sign-in was refused: wrong email or password (or a disabled account), or throttled (metrics). */
  signInRefused: [reason: "invalid_credentials" | "throttled"];
  /** A PIN was tried from an address: other gateway instances count it in their PIN guard too. */
  pinTried: [address: string, outcome: "wrong" | "right"];
  /** A sign-in was tried: other gateway instances count it in their sign-in throttle too. */
  signInTried: [email: string, address: string, outcome: "failed" | "succeeded"];
};

export type DomainEvents = TypedEvents<DomainEventMap>;

export function domainEvents(): DomainEvents {
  return new TypedEvents<DomainEventMap>();
}

/** Whether an agent socket is connected for a session; kept by the hub, read by the domain. */
export type AgentPresence = { isConnected(sessionId: string): boolean };
