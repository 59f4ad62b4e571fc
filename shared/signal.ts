import { z } from "zod";

/** WebRTC signaling payloads relayed by the gateway between an agent and one technician. */
export const signalDataSchema = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("description"),
    type: z.enum(["offer", "answer"]),
    sdp: z.string().min(1).max(32_000),
  }),
  z.object({
    kind: z.literal("candidate"),
    candidate: z.string().max(1_000),
    sdpMid: z.string().max(64).nullable(),
    sdpMLineIndex: z.number().int().min(0).max(64).nullable(),
  }),
]);
export type SignalData = z.infer<typeof signalDataSchema>;

/** An ICE server handed to peers (STUN or TURN with short-lived credentials). */
export const iceServerSchema = z.object({
  urls: z.array(z.string().max(512)).min(1),
  username: z.string().max(256).optional(),
  credential: z.string().max(256).optional(),
});
export type IceServer = z.infer<typeof iceServerSchema>;
