import { z } from "zod";
import { continueAnswerSchema } from "./continuation.ts";
import { errorBodySchema } from "./errors.ts";
import { transferredFileSchema } from "./file-transfer.ts";
import {
  MAX_AGENT_FEATURE_LENGTH,
  MAX_AGENT_FEATURES,
  MAX_AGENT_VERSION_LENGTH,
  MAX_DEVICE_FIELD_LENGTH,
  MAX_FILE_BYTES,
} from "./limits.ts";
import { idSchema, isoDateSchema, personRefSchema } from "./model.ts";
import { chatTextSchema, plainText } from "./plain-text.ts";
import { iceServerSchema, signalDataSchema } from "./signal.ts";
import { accessModeSchema, sessionStatusSchema } from "./status.ts";
import { systemInfoSchema } from "./system-info.ts";

/**
 * The agent socket (`/ws/agent`): the SOS agent <-> the gateway.
 * The agent's first message is `hello`; the gateway answers `welcome` or `error` and closes.
 * Every message is one JSON text frame; the gateway stamps identity from the connection.
 */

export const pinSchema = z.string().regex(/^\d{9}$/, "a PIN is nine digits");
export const linkTokenSchema = z.string().regex(/^[A-Za-z0-9_-]{22,64}$/, "not a session link token");

export const joinSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("pin"), pin: pinSchema }),
  z.object({ kind: z.literal("link"), token: linkTokenSchema }),
  /** Reconnect with the secret of the last welcome; each secret works once. */
  z.object({ kind: z.literal("resume"), sessionId: idSchema, secret: z.string().min(16).max(128) }),
]);
export type Join = z.infer<typeof joinSchema>;

/**
 * What an agent says about its computer: one line each, no control or bidi characters (a hello
 * with them is refused with BAD_REQUEST). The stored view is `deviceInfoSchema` in model.ts.
 */
export const helloDeviceSchema = z.object({
  hostname: plainText(MAX_DEVICE_FIELD_LENGTH),
  os: plainText(MAX_DEVICE_FIELD_LENGTH),
  user: plainText(MAX_DEVICE_FIELD_LENGTH),
  agentVersion: plainText(MAX_AGENT_VERSION_LENGTH),
});

/**
 * What an agent can do beyond its protocol version's base, named in its hello, so the gateway never
 * depends on an agent that cannot answer (an SOS executable built before the feature keeps working).
 * `continue`: answers `continue.request` (consent that stays current, shared/continuation.ts).
 * Names this gateway does not know are accepted and ignored (a newer agent).
 */
export const AGENT_FEATURES = ["continue"] as const;
export type AgentFeature = (typeof AGENT_FEATURES)[number];
export const agentFeaturesSchema = z
  .array(z.string().min(1).max(MAX_AGENT_FEATURE_LENGTH))
  .max(MAX_AGENT_FEATURES);

export function hasFeature(features: readonly string[] | undefined, feature: AgentFeature): boolean {
  return features?.includes(feature) ?? false;
}

export const consentDecisionSchema = z.enum(["control", "view", "deny"]);
export type ConsentDecision = z.infer<typeof consentDecisionSchema>;

export const agentMessageSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("hello"),
    v: z.number().int(),
    join: joinSchema,
    device: helloDeviceSchema,
    /** AGENT_FEATURES this agent has; absent: none (an agent built before features were named). */
    features: agentFeaturesSchema.optional(),
  }),
  /** The end user's answer to a consent request. */
  z.object({ type: z.literal("consent"), requestId: idSchema, decision: consentDecisionSchema }),
  /** The end user withdraws consent: from one technician, or from all when technicianId is absent. */
  z.object({ type: z.literal("revoke"), technicianId: idSchema.optional() }),
  /** SDP or ICE for the technician peer `peerId`. */
  z.object({ type: z.literal("signal"), peerId: idSchema, data: signalDataSchema }),
  /**
   * The agent closed its side of a peer (failure or the user's choice), and why (PEER_CLOSED_REASONS;
   * any other short word is accepted and reported as a failed peer).
   */
  z.object({ type: z.literal("peer.closed"), peerId: idSchema, reason: z.string().max(64).optional() }),
  /** The end user stopped the session. */
  z.object({ type: z.literal("end") }),
  /**
   * A chat line the end user typed, to every technician on the session (stored with it). Plain
   * text, one line, at most MAX_CHAT_LINE_CHARS: else BAD_REQUEST; CHAT_FULL past the session's
   * MAX_CHAT_LINES_PER_SESSION; CHAT_TOO_FAST past the end user's rate (CHAT_BURST_LINES, then
   * CHAT_LINES_PER_SECOND).
   */
  z.object({ type: z.literal("chat"), text: chatTextSchema }),
  /**
   * The answer to `system.request`: this computer's facts. Only for a request the gateway sent
   * (else NOT_FOUND), once; an invalid `info` is BAD_REQUEST.
   */
  z.object({ type: z.literal("system.info"), requestId: idSchema, info: systemInfoSchema }),
  /**
   * The end user was told about the recording `recording.start` announced (the notice is on the
   * terminal). Until this arrives the gateway takes no chunk of it (RECORDING_NOT_CONFIRMED). An
   * unknown or ended recording is NOT_FOUND.
   */
  z.object({ type: z.literal("recording.confirm"), recordingId: idSchema }),
  /**
   * The end user's answer to `continue.request`: yes keeps the session (the clock starts again),
   * no ends it. Only for the question open now (else NOT_FOUND).
   */
  z.object({ type: z.literal("continue"), requestId: idSchema, answer: continueAnswerSchema }),
  /**
   * A file that moved whole between the end user and the technician `technicianId` over that
   * technician's `files` channel (saved here, or saved by the technician's console: `file.saved`):
   * audited as `session.file` with the agent as the actor. The file never passes the gateway; the
   * agent moved its bytes, so its report is the audit's (a console's is not taken). Taken only for a
   * technician with an open view of the session (else PEER_NOT_FOUND), within the session's file
   * limit (else BAD_REQUEST), RATE_LIMITED past that technician's rate on the session
   * (FILE_REPORT_BURST, FILE_REPORTS_PER_SECOND). A refused report is not audited.
   */
  transferredFileSchema.extend({ type: z.literal("file.transferred"), technicianId: idSchema }),
]);
export type AgentMessage = z.infer<typeof agentMessageSchema>;
export type AgentMessageType = AgentMessage["type"];

/**
 * declined: the end user answered no to `continue.request`. unconfirmed: they did not answer in
 * time (shared/continuation.ts).
 */
export const SESSION_END_REASONS = [
  "closed",
  "expired",
  "deleted",
  "replaced",
  "declined",
  "unconfirmed",
] as const;
export const sessionEndReasonSchema = z.enum(SESSION_END_REASONS);
export type SessionEndReason = z.infer<typeof sessionEndReasonSchema>;

export const gatewayToAgentSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("welcome"),
    v: z.number().int(),
    session: z.object({ id: idSchema, name: z.string(), status: sessionStatusSchema }),
    organization: z.object({ name: z.string() }),
    /** Present the secret once, with kind "resume", to come back after a drop. */
    resume: z.object({ sessionId: idSchema, secret: z.string() }),
    /** The gateway's STUN/TURN URLs (`--ice-url`); never a TURN credential (those come per peer). */
    iceServers: z.array(iceServerSchema),
    /**
     * Every recording of the session running now (each also announced by `recording.start`). After
     * a resume the agent drops its reminder of any recording not listed: it ended while the agent
     * was away. Absent from a gateway older than this field: nothing to drop.
     */
    recordings: z.array(z.object({ recordingId: idSchema, technician: personRefSchema })).optional(),
  }),
  /** A technician clicked "Start remote session": ask the end user. */
  z.object({
    type: z.literal("consent.request"),
    requestId: idSchema,
    technician: personRefSchema,
    organization: z.string(),
    access: accessModeSchema,
  }),
  /** The request is void (the technician left the session, or it was released). */
  z.object({ type: z.literal("consent.cancel"), requestId: idSchema }),
  /**
   * A consented technician connects: create a peer and send it an offer. `iceServers` (gateways
   * with a TURN relay) are this peer's own: the welcome's list plus the relay's URLs with a
   * credential minted for this peer only (username `<unix expiry>:<peerId>`), TURN URLs ordered
   * UDP, TCP, TLS. Use them instead of the welcome's for this peer; absent, use the welcome's.
   * `maxFileBytes`: the session's channel's file size limit; the agent refuses a larger file either
   * way on this peer (TOO_LARGE). Absent (an older gateway): MAX_FILE_BYTES.
   * `filesConnection`: the technician's console asked for a separate files connection
   * (`remote.connect`): the agent may offer one (signals marked `peer: "files"`) and carry files on
   * it. Absent: files go over the `files` channel of the view's own connection only.
   */
  z.object({
    type: z.literal("peer.open"),
    peerId: idSchema,
    technician: personRefSchema,
    access: accessModeSchema,
    iceServers: z.array(iceServerSchema).optional(),
    maxFileBytes: z.number().int().min(0).max(MAX_FILE_BYTES).optional(),
    filesConnection: z.boolean().optional(),
  }),
  /**
   * A fresh TURN credential for an open peer, sent before its current one expires (at about 80 % of
   * its lifetime) and never once the peer has closed: the same list as `peer.open`'s with a newly
   * minted credential. Use it for the peer's next ICE restart.
   */
  z.object({ type: z.literal("peer.ice"), peerId: idSchema, iceServers: z.array(iceServerSchema) }),
  z.object({ type: z.literal("peer.close"), peerId: idSchema, reason: z.string().max(64) }),
  z.object({ type: z.literal("signal"), peerId: idSchema, data: signalDataSchema }),
  /**
   * A technician's chat line. `text` is plain text, but the agent makes it (and the name) inert
   * before printing it all the same.
   */
  z.object({ type: z.literal("chat"), from: personRefSchema, text: z.string(), at: isoDateSchema }),
  /**
   * Who is with the end user now and with what rights, sent after the welcome and again on every
   * change: the technicians on the session (its assignee and invited ones), each with what the end
   * user granted (`access`, null while nothing is granted: chat only) and whether their remote view
   * is open (`viewing`). An empty list: no technician is on the session any more.
   */
  z.object({
    type: z.literal("technicians"),
    technicians: z.array(
      personRefSchema.extend({ access: accessModeSchema.nullable(), viewing: z.boolean() }),
    ),
  }),
  /**
   * A technician the end user allowed to see the screen asks for this computer's facts
   * (systemInfoSchema). The agent answers with `system.info` only if it allowed that technician
   * itself, and tells the end user.
   */
  z.object({ type: z.literal("system.request"), requestId: idSchema, technician: personRefSchema }),
  /**
   * A technician starts recording the session (what their console receives of the screen). The
   * agent tells the end user first, then answers `recording.confirm`; the console records only
   * after that.
   */
  z.object({ type: z.literal("recording.start"), recordingId: idSchema, technician: personRefSchema }),
  /** That recording ended (stopped, or its view closed). */
  z.object({ type: z.literal("recording.stop"), recordingId: idSchema, technician: personRefSchema }),
  /**
   * The session has run for the channel's interval: ask the end user whether it may continue.
   * `minutes`: how long since they joined or last said yes; `seconds`: how long they have to answer
   * (the gateway keeps the deadline: no answer by then ends the session with `unconfirmed`). Sent
   * again with the same id after a reconnect while the question is open.
   */
  z.object({
    type: z.literal("continue.request"),
    requestId: idSchema,
    minutes: z.number().int().min(0),
    seconds: z.number().int().min(0),
  }),
  /** The session ended on the gateway; the agent should stop. */
  z.object({ type: z.literal("session.ended"), reason: sessionEndReasonSchema }),
  z.object({ type: z.literal("error"), error: errorBodySchema, inReplyTo: z.string().optional() }),
]);
export type GatewayToAgent = z.infer<typeof gatewayToAgentSchema>;
