import { z } from "zod";
import { errorBodySchema } from "./errors.ts";
import { chatLineSchema, idSchema, isoDateSchema, sessionSchema, technicianSchema } from "./model.ts";
import { chatTextSchema } from "./plain-text.ts";
import { iceServerSchema, signalDataSchema } from "./signal.ts";
import { accessModeSchema } from "./status.ts";
import { systemInfoSchema } from "./system-info.ts";

/**
 * The console socket (`/ws/console`): a signed-in technician's browser <-> the gateway.
 * Authenticated by the sign-in cookie at upgrade (same Origin only). The gateway pushes every
 * change to the sessions the technician may see; actions go over REST, remote views over here.
 */

/**
 * How a remote view's media flows: straight between the peers (host or STUN-reflexive candidates),
 * or through the TURN relay over UDP, TCP or TLS (the local relay candidate's relay protocol).
 */
export const REMOTE_PATHS = ["direct", "relay-udp", "relay-tcp", "relay-tls"] as const;
export const remotePathSchema = z.enum(REMOTE_PATHS);
export type RemotePath = z.infer<typeof remotePathSchema>;

export const consoleMessageSchema = z.discriminatedUnion("type", [
  /** Open the remote view of a session whose end user granted this technician permission. */
  z.object({
    type: z.literal("remote.connect"),
    sessionId: idSchema,
    filesConnection: z
      .boolean()
      .optional()
      .describe(
        'true: this console answers a separate files connection, whose signals are marked `peer: "files"` (docs/protocol.md); the agent then opens one (when it can) and carries files on it. Absent or false: files go over the `files` channel of the view\'s own connection, and no `peer: "files"` signal comes.',
      ),
  }),
  z.object({ type: z.literal("remote.disconnect"), sessionId: idSchema }),
  /** SDP answer or ICE candidate for the agent, on this socket's open remote view of that session. */
  z.object({ type: z.literal("signal"), sessionId: idSchema, data: signalDataSchema }),
  /**
   * The path this socket's open remote view of that session uses (from getStats' selected
   * candidate pair); the gateway audits each path once per view (`session.remote_path`).
   */
  z.object({ type: z.literal("remote.path"), sessionId: idSchema, path: remotePathSchema }),
  /**
   * A chat line to the session's end user and technicians (the assignee or an invited technician
   * only: else NOT_ON_SESSION; the agent must be connected: else AGENT_OFFLINE). Plain text, one
   * line, at most MAX_CHAT_LINE_CHARS: else BAD_REQUEST; CHAT_FULL past MAX_CHAT_LINES_PER_SESSION;
   * CHAT_TOO_FAST past this technician's rate on the session (CHAT_BURST_LINES, CHAT_LINES_PER_SECOND).
   * The gateway answers with `chat.line` (to this console too) once it is stored.
   */
  z.object({ type: z.literal("chat.send"), sessionId: idSchema, text: chatTextSchema }),
  /**
   * Ask the end user's agent for its computer's facts: only a technician on the session whose
   * permission the end user granted (else NOT_ON_SESSION, PERMISSION_NOT_GRANTED), with the agent
   * connected (AGENT_OFFLINE). The answer comes as `system.info`.
   */
  z.object({ type: z.literal("system.request"), sessionId: idSchema }),
]);
export type ConsoleMessage = z.infer<typeof consoleMessageSchema>;
export type ConsoleMessageType = ConsoleMessage["type"];

export const REMOTE_CLOSE_REASONS = [
  "disconnected",
  "ended_by_user",
  "revoked",
  "session_closed",
  "agent_offline",
  "replaced",
  "removed_from_session",
  "technician_disabled",
  "peer_failed",
  /** The technician's browser did not answer the agent's offer in time. */
  "no_answer",
  /** No path on any transport: direct, STUN, and every TURN transport the gateway handed out. */
  "no_path",
  /** The path went silent for 30 s (RFC 7675 consent expired) and ICE restarts did not bring it back. */
  "path_lost",
] as const;
export const remoteCloseReasonSchema = z.enum(REMOTE_CLOSE_REASONS);
export type RemoteCloseReason = z.infer<typeof remoteCloseReasonSchema>;

/**
 * What the technician is told when the agent closes its peer (`peer.closed.reason`, the agent's
 * words): a failure of the path gets its own reason; anything else is a failed peer.
 */
const PEER_CLOSED_REASONS: Readonly<Record<string, RemoteCloseReason>> = {
  no_answer: "no_answer",
  failed: "no_path",
  consent_expired: "path_lost",
};

export function remoteCloseReasonOf(agentReason: string | undefined): RemoteCloseReason {
  return (agentReason === undefined ? undefined : PEER_CLOSED_REASONS[agentReason]) ?? "peer_failed";
}

export const gatewayToConsoleSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("hello"), v: z.number().int(), technician: technicianSchema }),
  /** The sessions this technician may see, sent once after hello. */
  z.object({ type: z.literal("sessions"), sessions: z.array(sessionSchema) }),
  z.object({ type: z.literal("session.updated"), session: sessionSchema }),
  /** Gone from this technician's view: deleted, or moved where they cannot see it. */
  z.object({ type: z.literal("session.removed"), sessionId: idSchema }),
  /**
   * This console's remote view is open. `iceServers`: the gateway's STUN/TURN URLs and, with a TURN
   * relay, its URLs (UDP, TCP, TLS in that order) with a credential minted for this peer only.
   */
  z.object({
    type: z.literal("remote.opened"),
    sessionId: idSchema,
    peerId: idSchema.describe("The id the gateway issued for this view (the agent gets it in peer.open)."),
    access: accessModeSchema.describe(
      "What the end user granted: control (input applied) or view (input dropped).",
    ),
    iceServers: z
      .array(iceServerSchema)
      .describe(
        "This view's ICE servers: STUN, then the TURN relay's URLs with a credential for this view only.",
      ),
    maxFileBytes: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe(
        "The largest file either way on this view (the session's channel's limit); the agent refuses a larger one.",
      ),
  }),
  /**
   * A fresh TURN credential for this console's open view, sent before the current one expires
   * (at about 80 % of its lifetime) and never once the view has closed. Use it for the next ICE
   * restart (`pc.setConfiguration`); the running connection keeps its allocation.
   */
  z.object({
    type: z.literal("remote.ice"),
    sessionId: idSchema,
    iceServers: z
      .array(iceServerSchema)
      .describe("The view's ICE servers again, the TURN relay's with a newly minted credential."),
  }),
  z.object({ type: z.literal("remote.signal"), sessionId: idSchema, data: signalDataSchema }),
  z.object({ type: z.literal("remote.closed"), sessionId: idSchema, reason: remoteCloseReasonSchema }),
  /**
   * A new line in the chat of a session this technician may see (a technician's, the end user's,
   * or a technician joined or left the session). Earlier lines: `GET /api/sessions/{id}/chat`.
   */
  z.object({ type: z.literal("chat.line"), line: chatLineSchema }),
  /**
   * The end user's computer's facts, as its agent sent them on a technician's request, to every
   * console that may see the session. The last ones: `GET /api/sessions/{id}/system-info`.
   */
  z.object({
    type: z.literal("system.info"),
    sessionId: idSchema,
    info: systemInfoSchema,
    at: isoDateSchema,
  }),
  z.object({ type: z.literal("error"), error: errorBodySchema, inReplyTo: z.string().optional() }),
]);
export type GatewayToConsole = z.infer<typeof gatewayToConsoleSchema>;
