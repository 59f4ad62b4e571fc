import { z } from "zod";
import {
  auditListSchema,
  buildListSchema,
  channelListSchema,
  createSessionResponseSchema,
  meResponseSchema,
  okSchema,
  organizationResponseSchema,
  sessionListSchema,
  sessionResponseSchema,
  setupStateSchema,
  technicianListSchema,
} from "../../../shared/api.ts";
import { decodeMessage } from "../../../shared/decode.ts";
import { errorBodySchema, SosError } from "../../../shared/errors.ts";
import { channelSchema, invitationSchema, technicianSchema } from "../../../shared/model.ts";
import { t } from "./i18n.ts";

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

async function call<S extends z.ZodType>(
  method: Method,
  path: string,
  schema: S,
  body?: unknown,
): Promise<z.infer<S>> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (method !== "GET") headers["x-csrf-token"] = csrfToken;
  const init: RequestInit = { method, headers, credentials: "same-origin" };
  if (body !== undefined) {
    headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response: Response;
  try {
    response = await fetch(path, init);
  } catch (cause) {
    throw new SosError("INTERNAL", t("error.unreachable"), { cause });
  }
  const text = await response.text();
  if (!response.ok) {
    const refused = decodeMessage(errorAnswerSchema, text);
    if (!refused.ok) {
      throw new SosError("INTERNAL", t("error.unexpected", { status: response.status }));
    }
    const { code, message, retryAfter, issues } = refused.value.error;
    const options: ConstructorParameters<typeof SosError>[2] = {};
    if (retryAfter !== undefined) options.retryAfter = retryAfter;
    if (issues !== undefined) options.issues = issues;
    throw new SosError(code, message, options);
  }
  const decoded = decodeMessage(schema, text);
  if (!decoded.ok) throw decoded.error;
  return decoded.value;
}

/** The text to show for a refused or failed request: the gateway's message, plus when to retry. */
export function errorText(error: unknown): string {
  if (error instanceof SosError) {
    return error.retryAfter === undefined
      ? error.message
      : `${error.message} ${t("error.retryAfter", { seconds: error.retryAfter })}`;
  }
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
  setup: (body: { token: string; email: string; name: string; password: string }) =>
    call("POST", "/api/setup", z.unknown(), body),
  signIn: (body: { email: string; password: string }) =>
    call("POST", "/api/auth/sign-in", meResponseSchema, body),
  signOut: () => call("POST", "/api/auth/sign-out", z.unknown()),
  me: () => call("GET", "/api/me", meResponseSchema),
  updateOrganization: (name: string) =>
    call("PATCH", "/api/organization", organizationResponseSchema, { name }),

  technicians: () => call("GET", "/api/technicians", technicianListSchema),
  createTechnician: (body: {
    email: string;
    name: string;
    password: string;
    role: "admin" | "technician";
    permissions: { attendedAccess: boolean; shareSessions: boolean };
  }) => call("POST", "/api/technicians", technicianAnswerSchema, body),
  updateTechnician: (
    id: string,
    body: {
      name?: string;
      password?: string;
      permissions?: { attendedAccess?: boolean; shareSessions?: boolean };
      disabled?: boolean;
    },
  ) => call("PATCH", `/api/technicians/${enc(id)}`, technicianAnswerSchema, body),

  channels: () => call("GET", "/api/channels", channelListSchema),
  createChannel: (body: { name: string; sessionExpiryMinutes?: number; access: string[] }) =>
    call("POST", "/api/channels", channelAnswerSchema, body),
  updateChannel: (id: string, body: { name?: string; sessionExpiryMinutes?: number; access?: string[] }) =>
    call("PATCH", `/api/channels/${enc(id)}`, channelAnswerSchema, body),

  sessions: (channelId: string) =>
    call("GET", `/api/sessions?channelId=${enc(channelId)}`, sessionListSchema),
  createSession: (body: { channelId: string; name: string; note: string }) =>
    call("POST", "/api/sessions", createSessionResponseSchema, body),
  invitation: (id: string) => call("GET", `/api/sessions/${enc(id)}/invitation`, invitationSchema),
  requestPermission: (id: string) =>
    call("POST", `/api/sessions/${enc(id)}/permission`, sessionResponseSchema),
  assign: (id: string, technicianId: string) =>
    call("POST", `/api/sessions/${enc(id)}/assign`, sessionResponseSchema, { technicianId }),
  transfer: (id: string, target: { technicianId: string } | { channelId: string }) =>
    call("POST", `/api/sessions/${enc(id)}/transfer`, sessionResponseSchema, target),
  invite: (id: string, technicianIds: string[]) =>
    call("POST", `/api/sessions/${enc(id)}/invite`, sessionResponseSchema, { technicianIds }),
  release: (id: string) => call("POST", `/api/sessions/${enc(id)}/release`, sessionResponseSchema),
  close: (id: string) => call("POST", `/api/sessions/${enc(id)}/close`, sessionResponseSchema),
  deleteSession: (id: string) => call("DELETE", `/api/sessions/${enc(id)}`, okSchema),

  audit: (filter: AuditFilter) => call("GET", auditQuery(filter, "json"), auditListSchema),

  builds: () => call("GET", "/api/builds", buildListSchema),
};
