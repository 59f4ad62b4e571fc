import type { FastifyReply, FastifyRequest } from "fastify";
import { SosError } from "../../shared/errors.ts";
import type { Technicians } from "../domain/technicians.ts";
import type { Auth } from "./types.ts";

export const SESSION_COOKIE = "sos_session";
export const CSRF_HEADER = "x-csrf-token";
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Whether a method changes state, and so needs the CSRF token (and a same-site Origin). */
export function changesState(method: string): boolean {
  return !SAFE_METHODS.has(method.toUpperCase());
}

/** The pre-handlers made by `authenticated`, so the OpenAPI document can tell which routes need sign-in. */
const signInGuards = new WeakSet<object>();

/** Whether a route's pre-handler(s) include the sign-in guard. */
export function requiresSignIn(preHandler: unknown): boolean {
  const handlers: unknown[] = Array.isArray(preHandler) ? preHandler : [preHandler];
  return handlers.some((handler) => typeof handler === "function" && signInGuards.has(handler));
}

/** The origins a browser request may come from: the public URL's and the one it addressed. */
export function originAllowed(request: FastifyRequest, publicOrigin: () => string): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  return origin === publicOrigin() || origin === `${request.protocol}://${request.host}`;
}

/** Reads the sign-in cookie; undefined when absent, expired or the account is disabled. */
export async function readAuth(request: FastifyRequest, technicians: Technicians): Promise<Auth | undefined> {
  // The cookie is a 256-bit random token stored hashed; it needs no signature.
  const token = request.cookies[SESSION_COOKIE];
  if (token === undefined || token.length > 128) return undefined;
  return technicians.authenticate(token);
}

/**
 * Pre-handler for routes that need a signed-in technician. State-changing requests also need the
 * CSRF token (header `x-csrf-token`) and, when the browser sends one, a same-site Origin.
 */
export function authenticated(technicians: Technicians, publicOrigin: () => string) {
  const guard = async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const auth = await readAuth(request, technicians);
    if (auth === undefined) throw new SosError("UNAUTHENTICATED", "Sign in first.");
    if (changesState(request.method)) {
      if (!originAllowed(request, publicOrigin))
        throw new SosError("ORIGIN_FORBIDDEN", "Cross-site request refused.");
      if (request.headers[CSRF_HEADER] !== auth.session.csrfToken) {
        throw new SosError("CSRF_FAILED", "Missing or wrong x-csrf-token header.");
      }
    }
    request.auth = auth;
  };
  signInGuards.add(guard);
  return guard;
}

/** The signed-in technician of a route behind `authenticated`. */
export function authOf(request: FastifyRequest): Auth {
  if (request.auth === null) throw new SosError("UNAUTHENTICATED", "Sign in first.");
  return request.auth;
}
