import { SosError } from "../../../shared/errors.ts";
import type { ScrapeAnswer } from "../../metrics/scrape.ts";
import { sendError } from "../error-handler.ts";
import type { App } from "../types.ts";

/**
 * `GET /metrics` on the gateway's own listener: served only with a metrics token (`--metrics-token`),
 * answered by `scrape`; without one it is not found here (the console's pages never answer it).
 */
export function metricsRoutes(
  app: App,
  scrape: ((authorization: string | undefined) => Promise<ScrapeAnswer>) | undefined,
): void {
  app.get("/metrics", { schema: { hide: true } }, async (request, reply) => {
    if (scrape === undefined) {
      return sendError(
        reply,
        new SosError(
          "NOT_FOUND",
          "Metrics are served here only with --metrics-token (or on --metrics-listen).",
        ),
      );
    }
    const answer = await scrape(request.headers.authorization);
    return reply.code(answer.status).headers(answer.headers).send(answer.body);
  });
}
