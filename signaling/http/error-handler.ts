import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { hasZodFastifySchemaValidationErrors } from "fastify-type-provider-zod";
import { type ErrorBody, HTTP_STATUS, SosError } from "../../shared/errors.ts";

/** Every refusal over HTTP is `{ error: { code, message, ... } }` with the code's status. */
export function sendError(reply: FastifyReply, error: SosError): FastifyReply {
  if (error.retryAfter !== undefined) reply.header("retry-after", String(error.retryAfter));
  return reply.code(HTTP_STATUS[error.code]).send({ error: error.toBody() satisfies ErrorBody });
}

export function errorHandler(
  error: FastifyError | SosError | Error,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  if (error instanceof SosError) return sendError(reply, error);
  if (hasZodFastifySchemaValidationErrors(error)) {
    const issues = error.validation.map((issue) => ({
      path: [error.validationContext ?? "body", issue.instancePath.replaceAll("/", ".").replace(/^\./, "")]
        .filter((part) => part !== "")
        .join("."),
      message: issue.message ?? "invalid",
    }));
    return sendError(reply, SosError.badRequest("The request does not match the API.", issues));
  }
  const fastifyError = error as Partial<FastifyError>;
  if (fastifyError.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
    return sendError(reply, new SosError("MESSAGE_TOO_LARGE", "The request body is too large."));
  }
  const status = fastifyError.statusCode ?? 500;
  if (status === 429) return sendError(reply, new SosError("RATE_LIMITED", "Too many requests."));
  if (status >= 400 && status < 500) return sendError(reply, SosError.badRequest(error.message));
  request.log.error({ err: error }, "request failed");
  return sendError(reply, new SosError("INTERNAL", "Something went wrong on the gateway."));
}
