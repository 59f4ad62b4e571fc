import type { FastifyDynamicSwaggerOptions } from "@fastify/swagger";
import { jsonSchemaTransform } from "fastify-type-provider-zod";
import { z } from "zod";
import { type ErrorCode, errorBodySchema, errorCodeSchema, HTTP_STATUS } from "../../shared/errors.ts";
import { CSRF_HEADER, changesState, requiresSignIn, SESSION_COOKIE } from "./authenticate.ts";

/**
 * The OpenAPI document's refusals and security, added centrally to every operation (the routes
 * declare only their 200 answer): each operation lists the HTTP statuses it can refuse with, the
 * error body, and exactly the codes of `shared/errors.ts` that status can carry there.
 */

/** The codes an operation's own domain logic can refuse with, beyond the ones every route shares. */
const SESSION_ACTION: readonly ErrorCode[] = [
  "NOT_LICENSED",
  "FORBIDDEN",
  "SESSION_NOT_FOUND",
  "INVALID_TRANSITION",
  "NOT_ON_SESSION",
];
export const OPERATION_ERRORS: Readonly<Record<string, readonly ErrorCode[]>> = {
  "GET /api/setup": [],
  "POST /api/setup": ["ORIGIN_FORBIDDEN", "SETUP_CLOSED", "SETUP_TOKEN_INVALID", "EMAIL_TAKEN"],
  "POST /api/auth/sign-in": ["ORIGIN_FORBIDDEN", "INVALID_CREDENTIALS", "SIGNIN_THROTTLED"],
  "POST /api/auth/sign-out": [],
  "GET /api/me": [],
  "GET /api/organization": [],
  "PATCH /api/organization": ["FORBIDDEN"],
  "GET /api/technicians": ["FORBIDDEN"],
  "POST /api/technicians": ["FORBIDDEN", "EMAIL_TAKEN"],
  "PATCH /api/technicians/:id": ["FORBIDDEN", "TECHNICIAN_NOT_FOUND", "EMAIL_TAKEN"],
  "GET /api/channels": [],
  "POST /api/channels": ["FORBIDDEN", "CHANNEL_NAME_TAKEN", "TECHNICIAN_NOT_FOUND"],
  "PATCH /api/channels/:id": ["FORBIDDEN", "CHANNEL_NOT_FOUND", "CHANNEL_NAME_TAKEN", "TECHNICIAN_NOT_FOUND"],
  "GET /api/builds": ["FORBIDDEN"],
  "GET /api/builds/job": ["FORBIDDEN"],
  "POST /api/builds/job": ["FORBIDDEN", "BUILD_RUNNING"],
  "DELETE /api/builds/job": ["FORBIDDEN", "BUILD_NOT_RUNNING"],
  "GET /api/builds/job/events": ["FORBIDDEN"],
  "GET /api/audit": ["FORBIDDEN"],
  "GET /api/sessions": ["NOT_LICENSED", "FORBIDDEN", "CHANNEL_NOT_FOUND"],
  "POST /api/sessions": ["NOT_LICENSED", "FORBIDDEN", "CHANNEL_NOT_FOUND"],
  "GET /api/sessions/:id": ["NOT_LICENSED", "FORBIDDEN", "SESSION_NOT_FOUND"],
  "GET /api/sessions/:id/chat": ["NOT_LICENSED", "FORBIDDEN", "SESSION_NOT_FOUND"],
  "GET /api/sessions/:id/system-info": ["NOT_LICENSED", "FORBIDDEN", "SESSION_NOT_FOUND"],
  "GET /api/sessions/:id/invitation": [
    "NOT_LICENSED",
    "FORBIDDEN",
    "SESSION_NOT_FOUND",
    "SESSION_CLOSED",
    "SESSION_EXPIRED",
  ],
  "POST /api/sessions/:id/permission": [...SESSION_ACTION, "PERMISSION_PENDING", "AGENT_OFFLINE"],
  "POST /api/sessions/:id/assign": [...SESSION_ACTION, "TECHNICIAN_NOT_FOUND"],
  "POST /api/sessions/:id/transfer": [...SESSION_ACTION, "CHANNEL_NOT_FOUND", "TECHNICIAN_NOT_FOUND"],
  "POST /api/sessions/:id/invite": [
    ...SESSION_ACTION,
    "TECHNICIAN_NOT_FOUND",
    "ALREADY_ON_SESSION",
    "INVITE_LIMIT",
  ],
  "POST /api/sessions/:id/release": SESSION_ACTION,
  "POST /api/sessions/:id/close": SESSION_ACTION,
  "DELETE /api/sessions/:id": SESSION_ACTION,
  "POST /api/sessions/:id/recordings": [
    ...SESSION_ACTION,
    "PERMISSION_NOT_GRANTED",
    "AGENT_OFFLINE",
    "RECORDING_OFF",
  ],
  "GET /api/sessions/:id/recordings": [
    "NOT_LICENSED",
    "FORBIDDEN",
    "SESSION_NOT_FOUND",
    "RECORDINGS_NOT_PERMITTED",
  ],
  "GET /api/recordings/:id": [
    "NOT_LICENSED",
    "FORBIDDEN",
    "SESSION_NOT_FOUND",
    "RECORDING_NOT_FOUND",
    "RECORDINGS_NOT_PERMITTED",
  ],
  "POST /api/recordings/:id/stop": ["RECORDING_NOT_FOUND"],
  "POST /api/recordings/:id/chunks": [
    "MESSAGE_TOO_LARGE",
    "RECORDING_NOT_FOUND",
    "RECORDING_NOT_CONFIRMED",
    "RECORDING_ENDED",
    "RECORDING_OFFSET_MISMATCH",
    "RECORDING_STORAGE_FAILED",
  ],
  "GET /api/recordings/:id/video": [
    "NOT_LICENSED",
    "FORBIDDEN",
    "SESSION_NOT_FOUND",
    "RECORDING_NOT_FOUND",
    "RECORDINGS_NOT_PERMITTED",
    "RECORDING_STORAGE_FAILED",
  ],
};

/** The names of the security schemes in `components.securitySchemes`. */
export const SECURITY = { cookie: "sessionCookie", csrf: "csrfToken" } as const;

const SECURITY_SCHEMES = {
  [SECURITY.cookie]: {
    type: "apiKey",
    in: "cookie",
    name: SESSION_COOKIE,
    description:
      "Set (httpOnly, SameSite=Strict, Secure on https) by POST /api/auth/sign-in or POST /api/setup; sent back by the client on every request and on the /ws/console upgrade.",
  },
  [SECURITY.csrf]: {
    type: "apiKey",
    in: "header",
    name: CSRF_HEADER,
    description:
      "The csrfToken of the sign-in answer (again from GET /api/me), required on every POST, PATCH and DELETE of a signed-in technician; missing or wrong: 403 CSRF_FAILED. A request that carries an Origin header must carry the gateway's own (403 ORIGIN_FORBIDDEN).",
  },
} as const;

/** Every refusal an operation can answer, by code: the ones all routes share, then its own. */
export function operationErrorCodes(
  method: string,
  url: string,
  signIn: boolean,
): { codes: ErrorCode[]; known: boolean } {
  const own = OPERATION_ERRORS[`${method} ${url}`];
  const codes = new Set<ErrorCode>(["BAD_REQUEST"]);
  if (changesState(method)) codes.add("MESSAGE_TOO_LARGE");
  if (signIn) {
    codes.add("UNAUTHENTICATED");
    if (changesState(method)) {
      codes.add("ORIGIN_FORBIDDEN");
      codes.add("CSRF_FAILED");
    }
  }
  for (const code of own ?? []) codes.add(code);
  for (const code of ["RATE_LIMITED", "INTERNAL", "STORE_UNAVAILABLE"] as const) codes.add(code);
  return { codes: [...codes], known: own !== undefined };
}

const RETRY_AFTER_CODES: ReadonlySet<ErrorCode> = new Set([
  "RATE_LIMITED",
  "SIGNIN_THROTTLED",
  "PIN_RATE_LIMITED",
]);

/** The response schemas (fastify's form: JSON Schema with a description) of some error codes, by status. */
export function errorResponses(codes: readonly ErrorCode[]): Record<string, Record<string, unknown>> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) {
    const status = HTTP_STATUS[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const responses: Record<string, Record<string, unknown>> = {};
  for (const [status, statusCodes] of [...byStatus].sort(([a], [b]) => a - b)) {
    const body = z.object({
      error: errorBodySchema.extend({ code: errorCodeSchema.extract(statusCodes as [ErrorCode]) }),
    });
    const schema = z.toJSONSchema(body, { target: "openapi-3.0", io: "output" });
    delete schema.$schema;
    const retry = statusCodes.some((code) => RETRY_AFTER_CODES.has(code));
    responses[String(status)] = {
      ...schema,
      description: `Refused with error.code ${statusCodes.join(" or ")} (shared/errors.ts).`,
      ...(retry
        ? {
            headers: {
              "retry-after": { type: "integer", description: "Seconds to wait, as error.retryAfter." },
            },
          }
        : {}),
    };
  }
  return responses;
}

type TransformInput = Parameters<NonNullable<FastifyDynamicSwaggerOptions["transform"]>>[0];

/** The zod transform, then this gateway's security and refusals on every documented operation. */
function transform(input: TransformInput) {
  const { schema, url } = jsonSchemaTransform(input) as { schema: Record<string, unknown>; url: string };
  if (schema.hide === true) return { schema, url };
  const method = [input.route.method].flat()[0] ?? "GET";
  const signIn = requiresSignIn(input.route.preHandler);
  const { codes, known } = operationErrorCodes(method, input.route.url, signIn);
  const security = signIn
    ? [changesState(method) ? { [SECURITY.cookie]: [], [SECURITY.csrf]: [] } : { [SECURITY.cookie]: [] }]
    : [];
  return {
    url,
    schema: {
      ...schema,
      security,
      ...(known ? {} : { "x-sos-undocumented-errors": true }),
      response: { ...(schema.response as Record<string, unknown> | undefined), ...errorResponses(codes) },
    },
  };
}

/** The `@fastify/swagger` options: info, the public URL as the server, security schemes, refusals. */
export function swaggerOptions(publicUrl: () => string): FastifyDynamicSwaggerOptions {
  return {
    openapi: {
      info: {
        title: "SOS team gateway",
        version: "1",
        description:
          "The Service Desk API. Every refusal is { error: { code, message, retryAfter?, issues? } } with a stable code from shared/errors.ts; each operation lists the statuses and codes it can answer. Sign in (POST /api/auth/sign-in) sets the sos_session cookie; POST, PATCH and DELETE also need the x-csrf-token header from the sign-in answer or GET /api/me. The sockets (/ws/console, /ws/agent) are described in /api/protocol.json and docs/protocol.md; a walk-through with a complete client is docs/console-client.md.",
      },
      components: { securitySchemes: SECURITY_SCHEMES },
    },
    transform,
    transformObject: (document) => ({
      ...("openapiObject" in document ? document.openapiObject : {}),
      servers: [
        { url: publicUrl().replace(/\/+$/, ""), description: "This gateway's public URL (--public-url)" },
      ],
    }),
  };
}
