import { z } from "zod";
import {
  type assignRequestSchema,
  auditListSchema,
  buildJobResponseSchema,
  buildListSchema,
  channelListSchema,
  chatHistorySchema,
  type createChannelRequestSchema,
  type createSessionRequestSchema,
  createSessionResponseSchema,
  type createTechnicianRequestSchema,
  type inviteRequestSchema,
  meResponseSchema,
  okSchema,
  organizationResponseSchema,
  type permissionRequestSchema,
  recordingListSchema,
  recordingResponseSchema,
  sessionListSchema,
  sessionResponseSchema,
  type setupRequestSchema,
  setupStateSchema,
  type signInRequestSchema,
  type startBuildRequestSchema,
  type stopRecordingRequestSchema,
  systemInfoResponseSchema,
  technicianListSchema,
  type transferRequestSchema,
  type updateChannelRequestSchema,
  type updateOrganizationRequestSchema,
  type updateTechnicianRequestSchema,
} from "../../../shared/api.ts";
import { decodeMessage } from "../../../shared/decode.ts";
import { type ErrorBody, type ErrorCode, errorBodySchema, SosError } from "../../../shared/errors.ts";
import { channelSchema, invitationSchema, technicianSchema } from "../../../shared/model.ts";
import type { AccessMode } from "../../../shared/status.ts";
import { language, t } from "./i18n.ts";

/**
 * The gateway's REST API as the console uses it. Every answer is decoded with the shared schema;
 * every refusal becomes a SosError carrying the gateway's code and message.
 */

const errorAnswerSchema = z.object({ error: errorBodySchema });
const technicianAnswerSchema = z.object({ technician: technicianSchema });
const channelAnswerSchema = z.object({ channel: channelSchema });

let csrfToken = "";

/** The token from sign-in or /api/me, sent back on every state-changing request. */
export function setCsrfToken(token: string): void {
  csrfToken = token;
}

type Method = "GET" | "POST" | "PATCH" | "DELETE";

/** A request body as the gateway's schema takes it (shared/api.ts): one definition for both ends. */
type Body<S extends z.ZodType> = z.input<S>;

async function call<S extends z.ZodType>(
  method: Method,
  path: string,
  schema: S,
  body?: unknown,
): Promise<z.infer<S>> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (method !== "GET") headers["x-csrf-token"] = csrfToken;
  const init: RequestInit = { method, headers, credentials: "same-origin" };
  if (body instanceof Blob) {
    headers["content-type"] = "application/octet-stream";
    init.body = body;
  } else if (body !== undefined) {
    headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response: Response;
  try {
    response = await fetch(path, init);
  } catch (cause) {
    throw new Error(t("error.unreachable"), { cause });
  }
  const text = await response.text();
  if (!response.ok) {
    const refused = decodeMessage(errorAnswerSchema, text);
    if (!refused.ok) throw new Error(t("error.unexpected", { status: response.status }));
    const { code, message, retryAfter, issues } = refused.value.error;
    logRefusal(code, message, `${method} ${path}`);
    const options: ConstructorParameters<typeof SosError>[2] = {};
    if (retryAfter !== undefined) options.retryAfter = retryAfter;
    if (issues !== undefined) options.issues = issues;
    throw new SosError(code, message, options);
  }
  const decoded = decodeMessage(schema, text);
  if (!decoded.ok) throw decoded.error;
  return decoded.value;
}

/** The gateway's own words for a refusal go to the browser's log, whatever the page shows. */
export function logRefusal(code: ErrorCode, message: string, about: string | undefined): void {
  console.info("gateway refused:", code, message, about ?? "");
}

/**
 * The text to show for a refusal by the gateway: its code's text in the console's language, plus
 * when to retry. The gateway writes its messages in English and they are more specific than the
 * code (FORBIDDEN has several reasons), so an English console shows the gateway's own message.
 */
export function refusalText(refusal: Pick<ErrorBody, "code" | "message" | "retryAfter">): string {
  const text =
    language.get() === "en" && refusal.message !== "" ? refusal.message : t(`error.${refusal.code}`);
  return refusal.retryAfter === undefined
    ? text
    : `${text} ${t("error.retryAfter", { seconds: refusal.retryAfter })}`;
}

/** The text to show for a refused or failed request. */
export function errorText(error: unknown): string {
  if (error instanceof SosError) return refusalText(error);
  return error instanceof Error ? error.message : String(error);
}

export function isUnauthenticated(error: unknown): boolean {
  return error instanceof SosError && error.code === "UNAUTHENTICATED";
}

const enc = encodeURIComponent;

export type AuditFilter = {
  sessionId?: string;
  actorId?: string;
  action?: string;
  before?: number;
  limit?: number;
};

/** The query string of an audit request; also used for the CSV download link. */
export function auditQuery(filter: AuditFilter, format: "json" | "csv"): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(filter)) {
    if (value !== undefined && value !== "") query.set(key, String(value));
  }
  query.set("format", format);
  return `/api/audit?${query.toString()}`;
}

export const api = {
  setupState: () => call("GET", "/api/setup", setupStateSchema),
  setup: (body: Body<typeof setupRequestSchema>) => call("POST", "/api/setup", z.unknown(), body),
  signIn: (body: Body<typeof signInRequestSchema>) =>
    call("POST", "/api/auth/sign-in", meResponseSchema, body),
  signOut: () => call("POST", "/api/auth/sign-out", z.unknown()),
  me: () => call("GET", "/api/me", meResponseSchema),
  updateOrganization: (name: string) =>
    call("PATCH", "/api/organization", organizationResponseSchema, {
      name,
    } satisfies Body<typeof updateOrganizationRequestSchema>),

  technicians: () => call("GET", "/api/technicians", technicianListSchema),
  createTechnician: (body: Body<typeof createTechnicianRequestSchema>) =>
    call("POST", "/api/technicians", technicianAnswerSchema, body),
  updateTechnician: (id: string, body: Body<typeof updateTechnicianRequestSchema>) =>
    call("PATCH", `/api/technicians/${enc(id)}`, technicianAnswerSchema, body),

  channels: () => call("GET", "/api/channels", channelListSchema),
  createChannel: (body: Body<typeof createChannelRequestSchema>) =>
    call("POST", "/api/channels", channelAnswerSchema, body),
  updateChannel: (id: string, body: Body<typeof updateChannelRequestSchema>) =>
    call("PATCH", `/api/channels/${enc(id)}`, channelAnswerSchema, body),

  sessions: (channelId: string) =>
    call("GET", `/api/sessions?channelId=${enc(channelId)}`, sessionListSchema),
  createSession: (body: Body<typeof createSessionRequestSchema>) =>
    call("POST", "/api/sessions", createSessionResponseSchema, body),
  /** The PIN and link; `for` says which one the technician is about to show or copy (audited). */
  invitation: (id: string, purpose: "pin" | "link" = "pin") =>
    call(
      "GET",
      `/api/sessions/${enc(id)}/invitation${purpose === "link" ? "?for=link" : ""}`,
      invitationSchema,
    ),
  /** The session's chat so far (new lines come over the console socket). */
  chat: (id: string) => call("GET", `/api/sessions/${enc(id)}/chat`, chatHistorySchema),
  /** The end user's computer's facts as last received (ask over the socket: system.request). */
  systemInfo: (id: string) => call("GET", `/api/sessions/${enc(id)}/system-info`, systemInfoResponseSchema),
  /** Start remote session: ask the end user for control (the default) or for view only. */
  requestPermission: (id: string, access: AccessMode = "control") =>
    call("POST", `/api/sessions/${enc(id)}/permission`, sessionResponseSchema, {
      access,
    } satisfies Body<typeof permissionRequestSchema>),
  assign: (id: string, technicianId: string) =>
    call("POST", `/api/sessions/${enc(id)}/assign`, sessionResponseSchema, {
      technicianId,
    } satisfies Body<typeof assignRequestSchema>),
  transfer: (id: string, target: Body<typeof transferRequestSchema>) =>
    call("POST", `/api/sessions/${enc(id)}/transfer`, sessionResponseSchema, target),
  invite: (id: string, technicianIds: string[]) =>
    call("POST", `/api/sessions/${enc(id)}/invite`, sessionResponseSchema, {
      technicianIds,
    } satisfies Body<typeof inviteRequestSchema>),
  release: (id: string) => call("POST", `/api/sessions/${enc(id)}/release`, sessionResponseSchema),
  close: (id: string) => call("POST", `/api/sessions/${enc(id)}/close`, sessionResponseSchema),
  deleteSession: (id: string) => call("DELETE", `/api/sessions/${enc(id)}`, okSchema),

  /** Start recording: the end user's agent is told, then confirms (`confirmedAt`); only then upload. */
  startRecording: (sessionId: string) =>
    call("POST", `/api/sessions/${enc(sessionId)}/recordings`, recordingResponseSchema),
  recording: (id: string) => call("GET", `/api/recordings/${enc(id)}`, recordingResponseSchema),
  stopRecording: (id: string, durationMs: number | undefined) =>
    call("POST", `/api/recordings/${enc(id)}/stop`, recordingResponseSchema, {
      ...(durationMs === undefined ? {} : { durationMs }),
    } satisfies Body<typeof stopRecordingRequestSchema>),
  /** The next bytes of a recording, at the offset the gateway counts (raw body, not JSON). */
  recordingChunk: (id: string, offset: number, bytes: Blob) =>
    call("POST", `/api/recordings/${enc(id)}/chunks?offset=${offset}`, recordingResponseSchema, bytes),
  recordings: (sessionId: string) =>
    call("GET", `/api/sessions/${enc(sessionId)}/recordings`, recordingListSchema),

  audit: (filter: AuditFilter) => call("GET", auditQuery(filter, "json"), auditListSchema),

  builds: () => call("GET", "/api/builds", buildListSchema),
  buildJob: () => call("GET", "/api/builds/job", buildJobResponseSchema),
  startBuild: (body: Body<typeof startBuildRequestSchema>) =>
    call("POST", "/api/builds/job", buildJobResponseSchema, body),
  cancelBuild: () => call("DELETE", "/api/builds/job", buildJobResponseSchema),
};

/** Where a recording plays (a <video>'s src, with HTTP Range) or downloads from. */
export function recordingVideoUrl(id: string, download = false): string {
  return `/api/recordings/${enc(id)}/video${download ? "?download=1" : ""}`;
}
