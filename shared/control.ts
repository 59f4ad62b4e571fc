import { z } from "zod";
import { MAX_CLIPBOARD_CHARS, MAX_DEVICE_FIELD_LENGTH } from "./limits.ts";
import { accessModeSchema } from "./status.ts";

/**
 * The `control` data channel between a technician's peer and the agent (reliable, ordered).
 * Coordinates are normalized to the current monitor: 0..1 from its left/top edge.
 */

/** The data channel's label. */
export const CONTROL_CHANNEL_LABEL = "control";

/** Most monitors the agent describes (the first ones the system lists), and the largest index. */
export const MAX_MONITORS = 32;
/** Largest monitor side in pixels an agent may report (16K is 15360). */
export const MAX_MONITOR_SIDE = 65_536;

const unit = z
  .number()
  .finite()
  .min(0)
  .max(1)
  .describe(
    "0..1 across the shown monitor from its left (top) edge, divided by width - 1 (height - 1): the pixel is round(value * (width - 1)).",
  );

export const MOUSE_BUTTONS = ["left", "middle", "right"] as const;

/**
 * How the agent applies a technician's keys. `position`: the physical key is pressed, and the end
 * user's layout decides what it types (shortcuts and games work the same on any layout).
 * `character`: the character the technician's keyboard produced is typed exactly, whatever the end
 * user's layout; keys that produce no character, and shortcuts, still go by key.
 */
export const KEYBOARD_MODES = ["position", "character"] as const;
export type KeyboardMode = (typeof KEYBOARD_MODES)[number];
export const DEFAULT_KEYBOARD_MODE: KeyboardMode = "position";

/** One character (one code point, not a control character), as `KeyboardEvent.key` gives it. */
const typedChar = z
  .string()
  .min(1)
  .max(2)
  .refine((text) => [...text].length === 1 && !/\p{Cc}/u.test(text), {
    message: "not a single printable character",
  });

export const technicianControlSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("pointer"), x: unit, y: unit }),
  z.object({ type: z.literal("button"), button: z.enum(MOUSE_BUTTONS), down: z.boolean() }),
  z.object({
    type: z.literal("wheel"),
    dx: z.number().finite().min(-10_000).max(10_000),
    dy: z.number().finite().min(-10_000).max(10_000),
  }),
  /**
   * A physical key by `KeyboardEvent.code` ("KeyA", "Enter", "ControlLeft" ...), with the character
   * it produced on the technician's keyboard (`KeyboardEvent.key`, when that is one character) and
   * the keyboard mode. Without `mode` (older consoles), `position`.
   */
  z.object({
    type: z.literal("key"),
    code: z
      .string()
      .max(32)
      .regex(/^[A-Za-z0-9]+$/),
    down: z.boolean(),
    key: typedChar.optional(),
    mode: z.enum(KEYBOARD_MODES).optional(),
  }),
  /** Text typed exactly as given: an input method's composition, characters without a key code. */
  z.object({ type: z.literal("text"), text: z.string().min(1).max(1_000) }),
  z.object({ type: z.literal("clipboard"), text: z.string().max(MAX_CLIPBOARD_CHARS) }),
  z.object({ type: z.literal("monitor"), index: z.number().int().min(0).max(MAX_MONITORS) }),
]);
export type TechnicianControl = z.infer<typeof technicianControlSchema>;

/** A monitor as the agent describes it (its name as the system gives it, made inert by the agent). */
export const monitorInfoSchema = z.object({
  index: z.number().int().min(0).max(MAX_MONITORS),
  name: z.string().max(MAX_DEVICE_FIELD_LENGTH),
  width: z.number().int().positive().max(MAX_MONITOR_SIDE),
  height: z.number().int().positive().max(MAX_MONITOR_SIDE),
  primary: z.boolean(),
});
export type MonitorInfo = z.infer<typeof monitorInfoSchema>;

/** Largest cursor image sent, per side (the agent cuts larger ones around their hotspot). */
export const MAX_CURSOR_SIDE = 96;

/**
 * The pointer's look: straight (not premultiplied) RGBA rows, base64, and the hotspot (the pixel
 * that is the pointer's position). Sent where the agent can read it (XFixes on X11).
 */
export const cursorShapeSchema = z
  .object({
    type: z.literal("cursorShape"),
    width: z.number().int().min(1).max(MAX_CURSOR_SIDE),
    height: z.number().int().min(1).max(MAX_CURSOR_SIDE),
    hotX: z.number().int().min(0),
    hotY: z.number().int().min(0),
    rgba: z.base64().max(Math.ceil((MAX_CURSOR_SIDE * MAX_CURSOR_SIDE * 4) / 3) * 4),
  })
  .refine((shape) => shape.hotX < shape.width && shape.hotY < shape.height, {
    message: "the hotspot is outside the image",
  })
  .refine((shape) => base64Bytes(shape.rgba) === shape.width * shape.height * 4, {
    message: "the image is not width * height RGBA pixels",
  });
export type CursorShape = z.infer<typeof cursorShapeSchema>;

function base64Bytes(text: string): number {
  const padding = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
  return (text.length / 4) * 3 - padding;
}

/**
 * Key combinations the end user's system keeps from every program, named by the agent in its state
 * so that the console says so instead of sending them. `ctrlAltDel`: Windows' secure attention
 * sequence, which SendInput cannot produce (only the keyboard, or a service with SAS rights, can).
 */
export const RESERVED_COMBOS = ["ctrlAltDel"] as const;
export type ReservedCombo = (typeof RESERVED_COMBOS)[number];

export const agentControlSchema = z.discriminatedUnion("type", [
  /** Sent when the channel opens and whenever access or monitors change. */
  z.object({
    type: z.literal("state"),
    access: accessModeSchema,
    monitors: z.array(monitorInfoSchema).max(MAX_MONITORS),
    monitor: z.number().int().min(0).max(MAX_MONITORS),
    /** Combinations this agent cannot send (absent: none, or an older agent). */
    reserved: z.array(z.enum(RESERVED_COMBOS)).max(RESERVED_COMBOS.length).optional(),
  }),
  /**
   * Whether Windows shows its secure desktop (a UAC prompt, the lock screen, the Ctrl+Alt+Del
   * screen): a program that is not elevated can neither see nor control it, so the end user must
   * answer it. Sent when the channel opens (Windows agents) and at each change.
   */
  z.object({ type: z.literal("desktop"), secure: z.boolean() }),
  z.object({ type: z.literal("cursor"), x: unit, y: unit, visible: z.boolean() }),
  cursorShapeSchema,
  z.object({ type: z.literal("clipboard"), text: z.string().max(MAX_CLIPBOARD_CHARS) }),
]);
export type AgentControl = z.infer<typeof agentControlSchema>;
