import { z } from "zod";
import { gatewayToAgentSchema, sessionEndReasonSchema } from "../../shared/agent-protocol.ts";
import { remoteCloseReasonSchema } from "../../shared/console-protocol.ts";
import { MAX_TECHNICIANS_PER_SESSION } from "../../shared/limits.ts";
import { chatLineSchema } from "../../shared/model.ts";
import { signalDataSchema } from "../../shared/signal.ts";
import { systemInfoSchema } from "../../shared/system-info.ts";

const id = z.string().min(1).max(128);

/**
 * What one gateway instance tells the others over the bus (cluster.ts): the live side of a change
 * made on one instance, for the sockets another one holds. Decoded on arrival like any other input;
 * a message that does not decode is dropped and logged.
 */
export const busMessageSchema = z.discriminatedUnion("type", [
  /** A session's row, assignee, invites, permissions, presence or viewers changed: consoles refresh it. */
  z.object({ type: z.literal("session.changed"), sessionId: id }),
  z.object({ type: z.literal("session.removed"), sessionId: id }),
  /** The session is over: views of it close everywhere, its agent (wherever) is told and closed. */
  z.object({ type: z.literal("session.ended"), sessionId: id, reason: sessionEndReasonSchema }),
  /** Every view of the session closes (its agent is new, or was lost). */
  z.object({ type: z.literal("session.views_closed"), sessionId: id, reason: remoteCloseReasonSchema }),
  z.object({
    type: z.literal("technician.off_session"),
    sessionId: id,
    technicianId: id,
    reason: remoteCloseReasonSchema,
  }),
  /** The technician's consoles close and their views end, on every instance. */
  z.object({ type: z.literal("technician.disabled"), technicianId: id }),
  z.object({ type: z.literal("technician.updated"), technicianId: id }),
  z.object({ type: z.literal("access.changed") }),
  /** The sender holds the session's agent socket now (a newer one elsewhere is replaced). */
  z.object({ type: z.literal("agent.attached"), sessionId: id }),
  z.object({ type: z.literal("agent.detached"), sessionId: id }),
  /** The session's agent resumed on the sender and was welcomed: views elsewhere are offered again. */
  z.object({ type: z.literal("agent.resumed"), sessionId: id }),
  /** For the agent of the session, on whichever instance holds it. */
  z.object({ type: z.literal("agent.send"), sessionId: id, message: gatewayToAgentSchema }),
  /** The remote views the sender holds for a session now (their consoles are on the sender). */
  z.object({
    type: z.literal("peers"),
    sessionId: id,
    peers: z.array(z.object({ peerId: id, technicianId: id })).max(MAX_TECHNICIANS_PER_SESSION),
  }),
  /** The sender started or missed messages: every instance announces its views again ("peers"). */
  z.object({ type: z.literal("views.wanted") }),
  /** The agent's signal for a view whose console is on another instance. */
  z.object({ type: z.literal("peer.signal"), sessionId: id, peerId: id, data: signalDataSchema }),
  /** The agent closed a view whose console is on another instance. */
  z.object({ type: z.literal("peer.closed"), sessionId: id, peerId: id, reason: remoteCloseReasonSchema }),
  /** A PIN tried on the sender: every instance's PIN guard counts it (shared limits). */
  z.object({
    type: z.literal("pin.tried"),
    address: z.string().max(100),
    outcome: z.enum(["wrong", "right"]),
  }),
  /** A sign-in tried on the sender: every instance's sign-in throttle counts it. */
  z.object({
    type: z.literal("sign_in.tried"),
    email: z.string().max(320),
    address: z.string().max(100),
    outcome: z.enum(["failed", "succeeded"]),
  }),
  /** A stored chat line of the session, for the consoles that may see it (the agent's copy goes by agent.send). */
  z.object({ type: z.literal("chat.line"), sessionId: id, line: chatLineSchema }),
  /** The end user's computer's facts, for the consoles that may see the session. */
  z.object({ type: z.literal("system.info"), sessionId: id, info: systemInfoSchema, at: z.number().int() }),
  /** An instance stopped (or missed its heartbeats): what it held is gone. */
  z.object({ type: z.literal("instance.gone"), instanceId: id }),
]);
export type BusMessage = z.infer<typeof busMessageSchema>;

/** A message as it travels: who sent it. */
export const busEnvelopeSchema = z.object({ from: id, message: busMessageSchema });
export type BusEnvelope = z.infer<typeof busEnvelopeSchema>;
