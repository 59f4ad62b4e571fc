import { z } from "zod";

/** WebRTC signaling payloads relayed by the gateway between an agent and one technician. */
export const signalDataSchema = z
  .discriminatedUnion("kind", [
    z
      .object({
        kind: z.literal("description"),
        type: z.enum(["offer", "answer"]).describe("The agent sends the offer; the console the answer."),
        sdp: z
          .string()
          .min(1)
          .max(32_000)
          .describe("The session description (SDP) as createOffer/createAnswer give it."),
        peer: z
          .literal("files")
          .optional()
          .describe(
            "Which of the view's connections: absent, the view's own (video, control); `files`, the agent's separate files connection (node-datachannel).",
          ),
      })
      .describe("An SDP offer or answer."),
    z
      .object({
        kind: z.literal("candidate"),
        candidate: z
          .string()
          .max(1_000)
          .describe(
            'One trickled ICE candidate line without "a=" ("candidate:... typ host ..."), as RTCIceCandidate.candidate.',
          ),
        sdpMid: z.string().max(64).nullable().describe("The media section's mid, as RTCIceCandidate.sdpMid."),
        sdpMLineIndex: z
          .number()
          .int()
          .min(0)
          .max(64)
          .nullable()
          .describe("The media section's index, as RTCIceCandidate.sdpMLineIndex."),
        peer: z
          .literal("files")
          .optional()
          .describe(
            "Which of the view's connections: absent, the view's own (video, control); `files`, the agent's separate files connection (node-datachannel).",
          ),
      })
      .describe("An ICE candidate, in RTCIceCandidateInit form."),
  ])
  .describe(
    "The WebRTC signaling payload, relayed unchanged by the gateway between a technician's console and the agent.",
  );
export type SignalData = z.infer<typeof signalDataSchema>;

/** An ICE server handed to peers (STUN or TURN with short-lived credentials). */
export const iceServerSchema = z
  .object({
    urls: z.array(z.string().max(512)).min(1).describe("stun:, turn: or turns: URLs."),
    username: z.string().max(256).optional().describe("TURN only: <unix expiry>:<peerId>."),
    credential: z.string().max(256).optional().describe("TURN only: the credential minted for this peer."),
  })
  .describe("An ICE server in RTCIceServer form.");
export type IceServer = z.infer<typeof iceServerSchema>;
