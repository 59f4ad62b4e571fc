import { SosError } from "../../shared/errors.ts";
import type { App } from "./types.ts";

/**
 * The JSON body parser, as fastify's own (which refuses `__proto__` and `constructor.prototype`
 * keys), except that an empty body is no body: an action without one (release, close, delete) is
 * accepted whether or not the client sent `content-type: application/json`. A route that needs a
 * body still refuses its absence through its schema (BAD_REQUEST); a body that is present must be
 * JSON. An empty body under any other content type is no body too (aiohttp, for one, sends
 * `application/octet-stream` on every POST without data); a non-empty one is refused.
 */
export function acceptEmptyJsonBodies(app: App): void {
  const parseJson = app.getDefaultJsonParser("error", "error");
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) => {
    const text = typeof body === "string" ? body : body.toString("utf8");
    if (text === "") {
      done(null, undefined);
      return;
    }
    parseJson(request, text, done);
  });
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_request, body, done) => {
    if (body.length === 0) {
      done(null, undefined);
      return;
    }
    done(SosError.badRequest("Unsupported content type: send JSON (content-type: application/json)."));
  });
}
