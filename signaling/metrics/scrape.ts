import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { inspect } from "node:util";
import { type ErrorBody, HTTP_STATUS, SosError } from "../../shared/errors.ts";
import type { GatewayMetrics } from "./gateway-metrics.ts";

const digest = (value: string): Buffer => createHash("sha256").update(value).digest();

/** The bearer token a scraper sends; kept as its digest, never logged or serialized. */
export class MetricsToken {
  readonly #digest: Buffer;

  constructor(value: string) {
    this.#digest = digest(value);
  }

  /** Whether an Authorization header carries this token (`Bearer <token>`), in constant time. */
  allows(authorization: string | undefined): boolean {
    const match = /^Bearer +(\S+) *$/i.exec(authorization ?? "");
    return match?.[1] !== undefined && timingSafeEqual(digest(match[1]), this.#digest);
  }

  toJSON(): string {
    return "[redacted]";
  }

  toString(): string {
    return "[redacted]";
  }

  [inspect.custom](): string {
    return "MetricsToken [redacted]";
  }
}

/** A scrape's answer: the exposition, or a refusal with the documented error body. */
export type ScrapeAnswer = {
  status: number;
  headers: Record<string, string>;
  body: string;
};

function refusal(error: SosError, headers: Record<string, string> = {}): ScrapeAnswer {
  return {
    status: HTTP_STATUS[error.code],
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
    body: JSON.stringify({ error: error.toBody() satisfies ErrorBody }),
  };
}

/**
 * Answers `GET /metrics`: 401 UNAUTHENTICATED without the token when one is required, the
 * exposition otherwise. Both listeners (the gateway's and `--metrics-listen`) answer through this.
 */
export async function answerScrape(
  metrics: GatewayMetrics,
  token: MetricsToken | undefined,
  authorization: string | undefined,
): Promise<ScrapeAnswer> {
  if (token !== undefined && !token.allows(authorization)) {
    return refusal(new SosError("UNAUTHENTICATED", "A metrics token is required."), {
      "www-authenticate": 'Bearer realm="sos-metrics"',
    });
  }
  const { contentType, body } = await metrics.scrape();
  return { status: 200, headers: { "content-type": contentType, "cache-control": "no-store" }, body };
}

/**
 * The metrics-only listener (`--metrics-listen host:port`): `GET /metrics` and nothing else, for a
 * scraper on a private address. Resolves with its URL once listening.
 */
export async function listenForScrapes(
  metrics: GatewayMetrics,
  token: MetricsToken | undefined,
  at: { host: string; port: number },
): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? "").split("?")[0];
    const answer: Promise<ScrapeAnswer> =
      path === "/metrics" && (request.method === "GET" || request.method === "HEAD")
        ? answerScrape(metrics, token, request.headers.authorization)
        : Promise.resolve(refusal(new SosError("NOT_FOUND", "Only GET /metrics is served here.")));
    answer
      .catch(() => refusal(new SosError("INTERNAL", "The metrics could not be collected.")))
      .then((ready) => {
        response.writeHead(ready.status, { ...ready.headers, "x-content-type-options": "nosniff" });
        response.end(request.method === "HEAD" ? undefined : ready.body);
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(at.port, at.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = at.host.includes(":") ? `[${at.host}]` : at.host;
  return {
    url: `http://${host}:${port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
