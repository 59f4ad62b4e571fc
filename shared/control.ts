import { z } from "zod";
import { accessModeSchema } from "./status.ts";

/**
 * The `control` data channel between a technician's peer and the agent (reliable, ordered).
 * Coordinates are normalized to the current monitor: 0..1 from its left/top edge.
 */

/** The data channel's label. */
export const CONTROL_CHANNEL_LABEL = "control";

const unit = z.number().finite().min(0).max(1);

export const MOUSE_BUTTONS = ["left", "middle", "right"] as const;

export const technicianControlSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("pointer"), x: unit, y: unit }),
  z.object({ type: z.literal("button"), button: z.enum(MOUSE_BUTTONS), down: z.boolean() }),
  z.object({
    type: z.literal("wheel"),
    dx: z.number().finite().min(-10_000).max(10_000),
    dy: z.number().finite().min(-10_000).max(10_000),
  }),
  /** A physical key by `KeyboardEvent.code` ("KeyA", "Enter", "ControlLeft" ...). */
  z.object({
    type: z.literal("key"),
    code: z
      .string()
      .max(32)
      .regex(/^[A-Za-z0-9]+$/),
    down: z.boolean(),
  }),
  /** Characters the key codes cannot express (composed, other layouts). */
  z.object({ type: z.literal("text"), text: z.string().min(1).max(1_000) }),
  z.object({ type: z.literal("clipboard"), text: z.string().max(60_000) }),
  z.object({ type: z.literal("monitor"), index: z.number().int().min(0).max(32) }),
]);
export type TechnicianControl = z.infer<typeof technicianControlSchema>;

export const monitorInfoSchema = z.object({
  index: z.number().int().min(0),
  name: z.string(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  primary: z.boolean(),
});
export type MonitorInfo = z.infer<typeof monitorInfoSchema>;

export const agentControlSchema = z.discriminatedUnion("type", [
  /** Sent when the channel opens and whenever access or monitors change. */
  z.object({
    type: z.literal("state"),
    access: accessModeSchema,
    monitors: z.array(monitorInfoSchema),
    monitor: z.number().int().min(0),
  }),
  z.object({ type: z.literal("cursor"), x: unit, y: unit, visible: z.boolean() }),
  z.object({ type: z.literal("clipboard"), text: z.string().max(60_000) }),
]);
export type AgentControl = z.infer<typeof agentControlSchema>;
