import type { FastifyReply, FastifyRequest } from "fastify";
import {
  meResponseSchema,
  okSchema,
  setupRequestSchema,
  setupStateSchema,
  signInRequestSchema,
} from "../../../shared/api.ts";
import { SosError } from "../../../shared/errors.ts";
import type { Technicians } from "../../domain/technicians.ts";
import { technicianView } from "../../domain/views.ts";
import type { AuthSessionRow, TechnicianRow } from "../../store/rows.ts";
import { authenticated, authOf, originAllowed, SESSION_COOKIE } from "../authenticate.ts";
import type { App } from "../types.ts";

export type AuthRoutesDeps = {
  technicians: Technicians;
  publicOrigin: () => string;
  secureCookies: () => boolean;
};

/** Setup of the first admin, sign-in, sign-out, and who am I. */
export function authRoutes(app: App, deps: AuthRoutesDeps): void {
  const { technicians, publicOrigin } = deps;
  const auth = authenticated(technicians, publicOrigin);
  const me = async (account: TechnicianRow, session: AuthSessionRow) => ({
    technician: technicianView(account),
    organization: await technicians.organization(),
    csrfToken: session.csrfToken,
  });

  const sameSite = (request: FastifyRequest) => {
    if (!originAllowed(request, publicOrigin))
      throw new SosError("ORIGIN_FORBIDDEN", "Cross-site request refused.");
  };
  /** Signs in, sets the httpOnly session cookie, answers who is signed in. */
  const signInWithCookie = async (
    request: FastifyRequest,
    reply: FastifyReply,
    credentials: { email: string; password: string },
  ) => {
    const { account, token, session } = await technicians.signIn(
      credentials.email,
      credentials.password,
      request.ip,
    );
    setCookie(reply, token, session.expiresAt, deps.secureCookies());
    return me(account, session);
  };

  app.get(
    "/api/setup",
    {
      schema: {
        summary: "Whether first-admin setup is open",
        tags: ["auth"],
        response: { 200: setupStateSchema },
      },
    },
    async () => ({ open: await technicians.setupOpen() }),
  );

  app.post(
    "/api/setup",
    {
      schema: {
        summary: "Create the first admin with the one-time setup token printed at first start",
        tags: ["auth"],
        body: setupRequestSchema,
        response: { 200: meResponseSchema },
      },
      config: { rateLimit: { max: 10, timeWindow: "1 minute" } },
    },
    async (request, reply) => {
      sameSite(request);
      await technicians.completeSetup(request.body);
      return signInWithCookie(request, reply, request.body);
    },
  );

  app.post(
    "/api/auth/sign-in",
    {
      schema: {
        summary: "Sign in with email and password; sets the session cookie",
        tags: ["auth"],
        body: signInRequestSchema,
        response: { 200: meResponseSchema },
      },
      config: { rateLimit: { max: 30, timeWindow: "1 minute" } },
    },
    async (request, reply) => {
      sameSite(request);
      return signInWithCookie(request, reply, request.body);
    },
  );

  app.post(
    "/api/auth/sign-out",
    { schema: { summary: "Sign out", tags: ["auth"], response: { 200: okSchema } }, preHandler: auth },
    async (request, reply) => {
      const { account, session } = authOf(request);
      await technicians.signOut(account, session);
      reply.clearCookie(SESSION_COOKIE, { path: "/" });
      return { ok: true as const };
    },
  );

  app.get(
    "/api/me",
    {
      schema: { summary: "The signed-in technician", tags: ["auth"], response: { 200: meResponseSchema } },
      preHandler: auth,
    },
    async (request) => {
      const { account, session } = authOf(request);
      return me(account, session);
    },
  );
}

function setCookie(reply: FastifyReply, token: string, expiresAt: number, secure: boolean): void {
  reply.setCookie(SESSION_COOKIE, token, {
    path: "/",
    httpOnly: true,
    sameSite: "strict",
    secure,
    expires: new Date(expiresAt),
  });
}
