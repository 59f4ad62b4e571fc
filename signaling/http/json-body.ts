import type { App } from "./types.ts";

/**
 * The JSON body parser, as fastify's own (which refuses `__proto__` and `constructor.prototype`
 * keys), except that an empty body is no body: an action without one (release, close, delete) is
 * accepted whether or not the client sent `content-type: application/json`. A route that needs a
 * body still refuses its absence through its schema (BAD_REQUEST); a body that is present must be
 * JSON.
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
}
