import { z } from "zod";

/**
 * Stable error codes. Every refusal by the gateway, over HTTP or a socket, carries one of these.
 * Consoles and agents switch on the code; the message is for people.
 */
export const ERROR_CODES = [
  "BAD_REQUEST",
  "UNSUPPORTED_VERSION",
  "MESSAGE_TOO_LARGE",
  "HEADERS_TOO_LARGE",
  "REQUEST_TIMEOUT",
  "UNAUTHENTICATED",
  "INVALID_CREDENTIALS",
  "SIGNIN_THROTTLED",
  "CSRF_FAILED",
  "ORIGIN_FORBIDDEN",
  "FORBIDDEN",
  "NOT_LICENSED",
  "NOT_FOUND",
  "SETUP_CLOSED",
  "SETUP_TOKEN_INVALID",
  "EMAIL_TAKEN",
  "CHANNEL_NOT_FOUND",
  "CHANNEL_NAME_TAKEN",
  "TECHNICIAN_NOT_FOUND",
  "TECHNICIAN_DISABLED",
  "SESSION_NOT_FOUND",
  "SESSION_CLOSED",
  "SESSION_EXPIRED",
  "INVALID_TRANSITION",
  "INVITE_LIMIT",
  "ALREADY_ON_SESSION",
  "NOT_ON_SESSION",
  "PERMISSION_NOT_GRANTED",
  "PERMISSION_PENDING",
  "AGENT_OFFLINE",
  "AGENT_ALREADY_CONNECTED",
  "RESUME_INVALID",
  "NOT_JOINED",
  "ALREADY_JOINED",
  "PEER_NOT_FOUND",
  "CHAT_FULL",
  "CHAT_TOO_FAST",
  "PIN_RATE_LIMITED",
  "RATE_LIMITED",
  "BUILD_RUNNING",
  "BUILD_NOT_RUNNING",
  "RECORDING_OFF",
  "RECORDING_NOT_FOUND",
  "RECORDING_NOT_CONFIRMED",
  "RECORDING_ENDED",
  "RECORDING_OFFSET_MISMATCH",
  "RECORDING_STORAGE_FAILED",
  "RECORDINGS_NOT_PERMITTED",
  "STORE_UNAVAILABLE",
  "INTERNAL",
] as const;

export const errorCodeSchema = z.enum(ERROR_CODES);

/** Codes that are the gateway's trouble, not the request's: the same request may succeed later. */
export const TRANSIENT_ERROR_CODES: ReadonlySet<string> = new Set([
  "STORE_UNAVAILABLE",
  "RECORDING_STORAGE_FAILED",
  "INTERNAL",
]);
export type ErrorCode = z.infer<typeof errorCodeSchema>;

/** HTTP status for each code, used by the gateway's REST error handler. */
export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  BAD_REQUEST: 400,
  UNSUPPORTED_VERSION: 400,
  MESSAGE_TOO_LARGE: 413,
  HEADERS_TOO_LARGE: 431,
  REQUEST_TIMEOUT: 408,
  UNAUTHENTICATED: 401,
  INVALID_CREDENTIALS: 401,
  SIGNIN_THROTTLED: 429,
  CSRF_FAILED: 403,
  ORIGIN_FORBIDDEN: 403,
  FORBIDDEN: 403,
  NOT_LICENSED: 403,
  NOT_FOUND: 404,
  SETUP_CLOSED: 404,
  SETUP_TOKEN_INVALID: 403,
  EMAIL_TAKEN: 409,
  CHANNEL_NOT_FOUND: 404,
  CHANNEL_NAME_TAKEN: 409,
  TECHNICIAN_NOT_FOUND: 404,
  TECHNICIAN_DISABLED: 409,
  SESSION_NOT_FOUND: 404,
  SESSION_CLOSED: 410,
  SESSION_EXPIRED: 410,
  INVALID_TRANSITION: 409,
  INVITE_LIMIT: 409,
  ALREADY_ON_SESSION: 409,
  NOT_ON_SESSION: 409,
  PERMISSION_NOT_GRANTED: 409,
  PERMISSION_PENDING: 409,
  AGENT_OFFLINE: 409,
  AGENT_ALREADY_CONNECTED: 409,
  RESUME_INVALID: 401,
  NOT_JOINED: 409,
  ALREADY_JOINED: 409,
  PEER_NOT_FOUND: 404,
  /** The session holds MAX_CHAT_LINES_PER_SESSION chat lines: no more are taken. */
  CHAT_FULL: 409,
  /** The sender said CHAT_BURST_LINES lines at once, then more than CHAT_LINES_PER_SECOND: wait `retryAfter` s. */
  CHAT_TOO_FAST: 429,
  PIN_RATE_LIMITED: 429,
  RATE_LIMITED: 429,
  /** An SOS build is already running on this gateway (one at a time). */
  BUILD_RUNNING: 409,
  /** Cancel asked with no SOS build running. */
  BUILD_NOT_RUNNING: 409,
  /** The session's channel does not record (its recording mode is off). */
  RECORDING_OFF: 409,
  RECORDING_NOT_FOUND: 404,
  /** The end user's agent has not confirmed it told the end user about the recording yet: no chunk before. */
  RECORDING_NOT_CONFIRMED: 409,
  /** The recording was stopped: no more chunks. */
  RECORDING_ENDED: 409,
  /** A chunk's `offset` is not the recording's size on the gateway (`GET /api/recordings/{id}` says its bytes: send from there). */
  RECORDING_OFFSET_MISMATCH: 409,
  /** The gateway could not write or read the recording's file (disk full, read-only, gone): nothing was stored. */
  RECORDING_STORAGE_FAILED: 503,
  /** Only admins and technicians with the "view recordings" permission list, play or download recordings. */
  RECORDINGS_NOT_PERMITTED: 403,
  /** The gateway's database refused a write or read (locked, read-only, full, failing disk): try again. */
  STORE_UNAVAILABLE: 503,
  INTERNAL: 500,
};

/** The body of every error answer, and the `error` of every socket error message. */
export const errorBodySchema = z.object({
  code: errorCodeSchema,
  message: z.string(),
  /** Seconds to wait before trying again, on rate-limit codes. */
  retryAfter: z.number().int().nonnegative().optional(),
  /** Validation details, on BAD_REQUEST. */
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;

/** The one error class of the product: a stable code, a message for people, an optional cause. */
export class SosError extends Error {
  readonly code: ErrorCode;
  readonly retryAfter: number | undefined;
  readonly issues: ErrorBody["issues"];

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; retryAfter?: number; issues?: ErrorBody["issues"] } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "SosError";
    this.code = code;
    this.retryAfter = options.retryAfter;
    this.issues = options.issues;
  }

  static badRequest(message: string, issues?: ErrorBody["issues"]): SosError {
    return new SosError("BAD_REQUEST", message, issues === undefined ? {} : { issues });
  }

  static forbidden(message = "You are not allowed to do that."): SosError {
    return new SosError("FORBIDDEN", message);
  }

  static sessionNotFound(): SosError {
    return new SosError("SESSION_NOT_FOUND", "No such session.");
  }

  toBody(): ErrorBody {
    const body: ErrorBody = { code: this.code, message: this.message };
    if (this.retryAfter !== undefined) body.retryAfter = this.retryAfter;
    if (this.issues !== undefined) body.issues = this.issues;
    return body;
  }
}

/** Turns zod issues into the flat `issues` list of an error body. */
export function flattenIssues(issues: readonly z.core.$ZodIssue[]): NonNullable<ErrorBody["issues"]> {
  return issues.slice(0, 20).map((issue) => ({
    path: issue.path.map(String).join(".") || "(root)",
    message: issue.message,
  }));
}
