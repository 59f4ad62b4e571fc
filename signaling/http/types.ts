// Brings in the request.cookies / reply.setCookie types.
import type {} from "@fastify/cookie";
import type {} from "@fastify/websocket";
import type {
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import type { Logger } from "pino";
import type { AuthSessionRow, TechnicianRow } from "../store/rows.ts";

/** The fastify instance with zod schemas as its type provider. */
export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  Logger,
  ZodTypeProvider
>;

export type Auth = { account: TechnicianRow; session: AuthSessionRow };

declare module "fastify" {
  interface FastifyRequest {
    /** Set by the `authenticated` pre-handler on routes that need a signed-in technician. */
    auth: Auth | null;
  }
}
