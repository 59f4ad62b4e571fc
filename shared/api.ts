import { z } from "zod";
import { BUILD_TARGETS, buildConfigSchema, buildTargetSchema } from "./build-config.ts";
import { MAX_FILE_SIZE_LIMIT_MB, MAX_NAME_LENGTH, MAX_NOTE_LENGTH, MAX_RECONFIRM_MINUTES } from "./limits.ts";
import {
  auditEntrySchema,
  channelSchema,
  chatLineSchema,
  idSchema,
  invitationSchema,
  isoDateSchema,
  organizationSchema,
  sessionSchema,
  technicianPermissionsSchema,
  technicianSchema,
} from "./model.ts";
import { plainText } from "./plain-text.ts";
import { channelRecordingSchema, recordingSchema } from "./recording.ts";
import { accessModeSchema } from "./status.ts";
import { systemInfoSchema } from "./system-info.ts";

/** Request and response bodies of the gateway's REST API (`/api/...`), published as OpenAPI. */

export const emailSchema = z
  .email()
  .max(254)
  .transform((value) => value.toLowerCase());
export const passwordSchema = z.string().min(10, "at least 10 characters").max(200);
/** A technician's, channel's or organization's name: one line, no control or bidi characters. */
export const displayNameSchema = plainText(MAX_NAME_LENGTH).min(1);

export const setupStateSchema = z.object({ open: z.boolean() });

export const setupRequestSchema = z.object({
  token: z.string().min(16).max(128),
  email: emailSchema,
  name: displayNameSchema,
  password: passwordSchema,
});

export const signInRequestSchema = z.object({
  email: emailSchema,
  password: z.string().min(1).max(200),
});

export const meResponseSchema = z.object({
  technician: technicianSchema,
  organization: organizationSchema,
  /** Send it back as the `x-csrf-token` header on every state-changing request. */
  csrfToken: z.string(),
});
export type MeResponse = z.infer<typeof meResponseSchema>;

export const createTechnicianRequestSchema = z.object({
  email: emailSchema,
  name: displayNameSchema,
  password: passwordSchema,
  role: z.enum(["admin", "technician"]).default("technician"),
  permissions: technicianPermissionsSchema.default({
    attendedAccess: true,
    shareSessions: false,
    viewRecordings: false,
  }),
});

export const updateTechnicianRequestSchema = z
  .object({
    name: displayNameSchema.optional(),
    password: passwordSchema.optional(),
    permissions: technicianPermissionsSchema.partial().optional(),
    disabled: z.boolean().optional(),
  })
  .refine((body) => Object.keys(body).length > 0, "nothing to change");

export const technicianListSchema = z.object({ technicians: z.array(technicianSchema) });

export const expiryMinutesSchema = z
  .number()
  .int()
  .min(1)
  .max(60 * 24 * 365);

/** A channel's re-confirmation interval in minutes; 0: the end user is never asked again. */
export const reconfirmMinutesSchema = z.number().int().min(0).max(MAX_RECONFIRM_MINUTES);

/** A channel's file size limit in MiB (DEFAULT_FILE_SIZE_LIMIT_MB when absent). */
export const fileSizeLimitMbSchema = z.number().int().min(1).max(MAX_FILE_SIZE_LIMIT_MB);

export const createChannelRequestSchema = z.object({
  name: displayNameSchema,
  sessionExpiryMinutes: expiryMinutesSchema.optional(),
  /** Off with DEFAULT_RECORDING_RETENTION_DAYS when absent. */
  recording: channelRecordingSchema.partial().optional(),
  reconfirmMinutes: reconfirmMinutesSchema.optional(),
  fileSizeLimitMb: fileSizeLimitMbSchema.optional(),
  access: z.array(idSchema).max(1000).default([]),
});

export const updateChannelRequestSchema = z
  .object({
    name: displayNameSchema.optional(),
    sessionExpiryMinutes: expiryMinutesSchema.optional(),
    recording: channelRecordingSchema.partial().optional(),
    reconfirmMinutes: reconfirmMinutesSchema.optional(),
    fileSizeLimitMb: fileSizeLimitMbSchema.optional(),
    access: z.array(idSchema).max(1000).optional(),
  })
  .refine((body) => Object.keys(body).length > 0, "nothing to change");

export const channelListSchema = z.object({ channels: z.array(channelSchema) });

export const createSessionRequestSchema = z.object({
  /** A team channel, the technician's private channel, or "home" (= the private channel). */
  channelId: idSchema,
  name: plainText(MAX_NAME_LENGTH).default(""),
  /** Multi-line: line feeds and tabs are allowed (the console shows the note as text). */
  note: plainText(MAX_NOTE_LENGTH, { multiline: true }).default(""),
});

export const createSessionResponseSchema = z.object({
  session: sessionSchema,
  invitation: invitationSchema,
});

export const sessionListQuerySchema = z.object({ channelId: idSchema.optional() });
export const sessionListSchema = z.object({ sessions: z.array(sessionSchema) });
export const sessionResponseSchema = z.object({ session: sessionSchema });

/** The end user's computer's facts as last received (null before any), and when. */
export const systemInfoResponseSchema = z.object({
  info: systemInfoSchema.nullable(),
  at: isoDateSchema.nullable(),
});

/** A session's chat, oldest line first (at most MAX_CHAT_LINES_PER_SESSION). */
export const chatHistorySchema = z.object({ lines: z.array(chatLineSchema) });

/**
 * `GET /api/sessions/:id/invitation?for=link|pin`: Copy link and Show PIN answer the same
 * invitation; the audit says which the technician used (`session.link_copied`, `session.pin_shown`).
 */
export const invitationQuerySchema = z.object({ for: z.enum(["link", "pin"]).default("pin") });

/**
 * Start remote session: what the technician asks the end user for. No body (or no `access`) asks
 * for control, as before; `view` asks to see the screen only, and the agent then grants no more.
 */
export const permissionRequestSchema = z
  .object({ access: accessModeSchema.default("control") })
  .strict()
  .nullish(); // fastify hands a request without a body over as null
export type PermissionRequest = z.infer<typeof permissionRequestSchema>;

export const assignRequestSchema = z.object({ technicianId: idSchema });
export const transferRequestSchema = z.union([
  z.object({ technicianId: idSchema }).strict(),
  z.object({ channelId: idSchema }).strict(),
]);
export const inviteRequestSchema = z.object({ technicianIds: z.array(idSchema).min(1).max(2) });

export const auditQuerySchema = z.object({
  sessionId: idSchema.optional(),
  actorId: idSchema.optional(),
  action: z.string().max(64).optional(),
  before: z.coerce.number().int().positive().optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
  format: z.enum(["json", "csv"]).default("json"),
});
export const auditListSchema = z.object({ entries: z.array(auditEntrySchema) });

export const updateOrganizationRequestSchema = z.object({ name: displayNameSchema });
export const organizationResponseSchema = z.object({ organization: organizationSchema });

export const buildListSchema = z.object({
  /** Where the gateway looks for builds (`build:sos --out <this folder>`). */
  downloadsDir: z.string(),
  builds: z.array(
    z.object({
      target: buildTargetSchema,
      file: z.string(),
      size: z.number().int().nonnegative(),
      modifiedAt: z.iso.datetime(),
      /** The file's SHA-256 (hex), for the admin to compare with what the end user got. */
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
    }),
  ),
});

/**
 * An SOS build started from the console (`POST /api/builds/job`): what `build:sos` takes, checked
 * by the same rules as the baked configuration (shared/build-config.ts). The gateway bakes in its
 * own public address.
 */
export const startBuildRequestSchema = z.strictObject({
  brand: buildConfigSchema.shape.brand,
  supportMessage: buildConfigSchema.shape.supportMessage,
  primaryColor: buildConfigSchema.shape.colors.unwrap().shape.primary,
  targets: z
    .array(buildTargetSchema)
    .min(1)
    .max(BUILD_TARGETS.length)
    .refine((targets) => new Set(targets).size === targets.length, "each target once"),
});

export const BUILD_JOB_STATES = ["running", "succeeded", "failed", "cancelled"] as const;

/** The gateway's current (or last) SOS build: its progress lines so far and, once done, its files. */
export const buildJobSchema = z.object({
  id: z.string(),
  state: z.enum(BUILD_JOB_STATES),
  brand: z.string(),
  targets: z.array(buildTargetSchema),
  startedAt: z.iso.datetime(),
  endedAt: z.iso.datetime().optional(),
  progress: z.array(z.string()),
  built: z.array(
    z.object({
      target: buildTargetSchema,
      file: z.string(),
      size: z.number().int().nonnegative(),
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
    }),
  ),
  failed: z.array(z.object({ target: buildTargetSchema, reason: z.string() })),
});
export const buildJobResponseSchema = z.object({ job: buildJobSchema.nullable() });

export const okSchema = z.object({ ok: z.literal(true) });

export const idParamsSchema = z.object({ id: idSchema });

/** A session's recordings, newest first (admins and technicians with "view recordings" only). */
export const recordingListSchema = z.object({ recordings: z.array(recordingSchema) });
export const recordingResponseSchema = z.object({ recording: recordingSchema });

/**
 * `POST /api/recordings/:id/chunks?offset=N`, body: the next bytes of the WebM file as
 * `application/octet-stream` (1 to MAX_RECORDING_CHUNK_BYTES). `offset` must be the recording's
 * size on the gateway (else RECORDING_OFFSET_MISMATCH and nothing is written), so a chunk sent twice
 * is never appended twice.
 */
export const recordingChunkQuerySchema = z.object({
  offset: z.coerce.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
});

/** Stop: how long the console recorded, when it knows. */
export const stopRecordingRequestSchema = z
  .object({
    durationMs: z
      .number()
      .int()
      .nonnegative()
      .max(366 * 24 * 3600 * 1000)
      .optional(),
  })
  .strict()
  .nullish();

/** `GET /api/recordings/:id/video?download=1`: as an attachment (audited as downloaded, else watched). */
export const recordingVideoQuerySchema = z.object({ download: z.enum(["0", "1"]).default("0") });
