import { z } from "zod";
import { continuationViewSchema } from "./continuation.ts";
import {
  MAX_AGENT_VERSION_LENGTH,
  MAX_DEVICE_FIELD_LENGTH,
  MAX_FILE_SIZE_LIMIT_MB,
  MAX_RECONFIRM_MINUTES,
} from "./limits.ts";
import { channelRecordingSchema } from "./recording.ts";
import { accessModeSchema, permissionStateSchema, sessionStatusSchema } from "./status.ts";

/** Views of the domain as the gateway hands them out, over REST and the console socket. */

export const idSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, "not an id");
export const isoDateSchema = z.iso.datetime();

export const ROLES = ["admin", "technician"] as const;
export const roleSchema = z.enum(ROLES);
export type Role = z.infer<typeof roleSchema>;

export const technicianPermissionsSchema = z.object({
  /** May use the Service Desk (attended access, SOS). */
  attendedAccess: z.boolean(),
  /** May transfer or assign sessions to another technician. */
  shareSessions: z.boolean(),
  /** May list, play and download session recordings (admins always may). */
  viewRecordings: z.boolean().default(false),
});
export type TechnicianPermissions = z.infer<typeof technicianPermissionsSchema>;

export const technicianSchema = z.object({
  id: idSchema,
  email: z.string(),
  name: z.string(),
  role: roleSchema,
  permissions: technicianPermissionsSchema,
  disabled: z.boolean(),
  createdAt: isoDateSchema,
});
export type Technician = z.infer<typeof technicianSchema>;

export const personRefSchema = z.object({ id: idSchema, name: z.string() });
export type PersonRef = z.infer<typeof personRefSchema>;

export const CHANNEL_KINDS = ["home", "private", "team"] as const;
export const channelKindSchema = z.enum(CHANNEL_KINDS);
export type ChannelKind = z.infer<typeof channelKindSchema>;

/** The id of the virtual Home channel: every session assigned to me or that I was invited to. */
export const HOME_CHANNEL_ID = "home";

export const channelSchema = z.object({
  id: idSchema,
  kind: channelKindSchema,
  name: z.string(),
  /** Sessions of this channel expire after this many minutes without an agent. */
  sessionExpiryMinutes: z.number().int().positive(),
  /**
   * After this many minutes of a session with the end user's agent, the end user is asked again
   * whether it may continue (shared/continuation.ts); 0: never.
   */
  reconfirmMinutes: z.number().int().min(0).max(MAX_RECONFIRM_MINUTES),
  /**
   * The largest file a transfer in this channel's sessions may carry, either way, in MiB (the agent
   * is told it with each `peer.open` and refuses a larger file; the console refuses to pick one).
   */
  fileSizeLimitMb: z.number().int().min(1).max(MAX_FILE_SIZE_LIMIT_MB),
  /** Technicians with access (team channels; shown to admins, empty otherwise). */
  access: z.array(idSchema),
  /** Whether and how sessions of this channel are recorded, and for how long recordings are kept. */
  recording: channelRecordingSchema,
  createdAt: isoDateSchema,
});
export type Channel = z.infer<typeof channelSchema>;

/**
 * An agent's computer as stored and shown. What an agent may send is stricter (`helloDeviceSchema`
 * in agent-protocol.ts refuses control characters); this view still reads what older gateways stored.
 */
export const deviceInfoSchema = z.object({
  hostname: z.string().max(MAX_DEVICE_FIELD_LENGTH),
  os: z.string().max(MAX_DEVICE_FIELD_LENGTH),
  user: z.string().max(MAX_DEVICE_FIELD_LENGTH),
  agentVersion: z.string().max(MAX_AGENT_VERSION_LENGTH),
});
export type DeviceInfo = z.infer<typeof deviceInfoSchema>;

export const sessionPermissionSchema = z.object({
  technicianId: idSchema,
  state: permissionStateSchema,
  /** What the end user granted, once granted. */
  access: accessModeSchema.nullable(),
});
export type SessionPermission = z.infer<typeof sessionPermissionSchema>;

export const sessionSchema = z.object({
  id: idSchema,
  channelId: idSchema,
  /** A few words for the table: the customer's name or ticket, typed by the technician. */
  name: z.string(),
  note: z.string(),
  status: sessionStatusSchema,
  assignee: personRefSchema.nullable(),
  invited: z.array(personRefSchema),
  createdBy: personRefSchema,
  createdAt: isoDateSchema,
  lastActivityAt: isoDateSchema,
  /** When a Waiting or Queued session expires. */
  expiresAt: isoDateSchema,
  agent: z.object({ connected: z.boolean(), device: deviceInfoSchema.nullable() }),
  permissions: z.array(sessionPermissionSchema),
  /** Technicians whose remote view is open right now. */
  viewers: z.array(idSchema),
  /** Whether the end user is being asked to let the session continue, and how that ended (null: never joined). */
  continuation: continuationViewSchema.nullable(),
});
export type Session = z.infer<typeof sessionSchema>;

/**
 * One line of a session's chat, as stored and shown: said by a technician (`technician` is who)
 * or by the end user in the agent's terminal, or a technician joined or left the session
 * (`technician` is who; `text` is empty: each side says it in its own language). Text is plain
 * text: one line, no control characters; consoles show it as text, never as markup.
 */
export const CHAT_LINE_KINDS = ["technician", "enduser", "joined", "left"] as const;
export const chatLineKindSchema = z.enum(CHAT_LINE_KINDS);
export type ChatLineKind = z.infer<typeof chatLineKindSchema>;
export const chatLineSchema = z.object({
  id: z.number().int(),
  sessionId: idSchema,
  at: isoDateSchema,
  kind: chatLineKindSchema,
  technician: personRefSchema.nullable(),
  text: z.string(),
});
export type ChatLine = z.infer<typeof chatLineSchema>;

export const invitationSchema = z.object({
  /** `<public-url>/s/<token>`: opens the end user's landing page. */
  link: z.url(),
  /** Nine digits. */
  pin: z.string().regex(/^\d{9}$/),
});
export type Invitation = z.infer<typeof invitationSchema>;

export const organizationSchema = z.object({
  name: z.string(),
  features: z.object({ attendedAccess: z.boolean() }),
});
export type Organization = z.infer<typeof organizationSchema>;

export const AUDIT_ACTOR_KINDS = ["technician", "agent", "system"] as const;
export const auditEntrySchema = z.object({
  id: z.number().int(),
  at: isoDateSchema,
  actor: z.object({
    kind: z.enum(AUDIT_ACTOR_KINDS),
    id: z.string().nullable(),
    name: z.string().nullable(),
  }),
  action: z.string(),
  sessionId: z.string().nullable(),
  detail: z.record(z.string(), z.unknown()),
});
export type AuditEntry = z.infer<typeof auditEntrySchema>;
