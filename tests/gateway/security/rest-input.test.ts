import t from "tap";
import { errorCode, startTestGateway } from "../../helpers/gateway.ts";
import { json, rawRequest } from "../../helpers/security.ts";

/**
 * Bad input over REST: malformed, wrongly typed, oversize or hostile bodies get a 4xx with a stable
 * error code, never a 500 or a stack trace, and change nothing.
 */

t.test(
  "malformed, wrongly typed and oversize REST bodies get 400/413 with codes and change nothing",
  async (t) => {
    const gw = await startTestGateway();
    t.teardown(() => gw.close());
    const tech = await gw.technician("Rita Rest");
    const headers = {
      cookie: tech.client.cookie ?? "",
      "x-csrf-token": tech.client.csrfToken ?? "",
      origin: gw.url,
    };
    const before = await tech.client.get("/api/sessions");

    const cases: Array<[string, string, number, string, Record<string, string>?]> = [
      ["malformed JSON", '{"channelId":"home",', 400, "BAD_REQUEST"],
      ["not an object", "[1,2,3]", 400, "BAD_REQUEST"],
      ["a number for the channel", '{"channelId":42}', 400, "BAD_REQUEST"],
      ["a path for the channel", '{"channelId":"../../etc"}', 400, "BAD_REQUEST"],
      [
        "an over-long name",
        JSON.stringify({ channelId: "home", name: "n".repeat(5_000) }),
        400,
        "BAD_REQUEST",
      ],
      ["a __proto__ key", '{"channelId":"home","__proto__":{"polluted":true}}', 400, "BAD_REQUEST"],
      [
        "a constructor.prototype key",
        '{"channelId":"home","constructor":{"prototype":{"polluted":true}}}',
        400,
        "BAD_REQUEST",
      ],
      ["deeply nested JSON", `{"channelId":${"[".repeat(50_000)}${"]".repeat(50_000)}}`, 400, "BAD_REQUEST"],
      [
        "a body above the limit",
        JSON.stringify({ channelId: "home", note: "x".repeat(300 * 1024) }),
        413,
        "MESSAGE_TOO_LARGE",
      ],
      [
        "a form body",
        "channelId=home",
        400,
        "BAD_REQUEST",
        { "content-type": "application/x-www-form-urlencoded" },
      ],
      ["a text body", "home", 400, "BAD_REQUEST", { "content-type": "text/plain" }],
    ];
    for (const [what, body, status, code, extra] of cases) {
      const response = await rawRequest(gw.url, "POST", "/api/sessions", {
        body,
        headers: { ...headers, ...extra },
      });
      t.equal(response.status, status, `${what}: ${status}`);
      t.equal(errorCode(json(response.body)), code, `${what}: ${code}`);
      t.notMatch(response.body, /\bat .*\.ts:\d+|node_modules/, `${what}: no stack trace in the answer`);
    }
    t.equal(
      Object.getOwnPropertyDescriptor(Object.prototype, "polluted"),
      undefined,
      "no prototype was polluted",
    );

    const query = await tech.client.get("/api/sessions?channelId=%00%01");
    t.equal(errorCode(query.body), "BAD_REQUEST", "a control character in a query id: BAD_REQUEST");
    const audit = await gw.admin.get("/api/audit?limit=lots");
    t.equal(errorCode(audit.body), "BAD_REQUEST", "a word for a number in the query: BAD_REQUEST");
    const param = await rawRequest(gw.url, "GET", `/api/sessions/${"a".repeat(500)}`, { headers });
    t.equal(param.status, 400);
    t.equal(errorCode(json(param.body)), "BAD_REQUEST", "an over-long id in the path: BAD_REQUEST");
    const badEscape = await rawRequest(gw.url, "GET", "/api/sessions/%E0%A4%A", { headers });
    t.equal(badEscape.status, 400);
    t.equal(errorCode(json(badEscape.body)), "BAD_REQUEST", "a broken %-escape in the path: BAD_REQUEST");
    const traversal = await rawRequest(gw.url, "GET", "/api/sessions/..%2F..%2Fsetup", { headers });
    t.equal(errorCode(json(traversal.body)), "BAD_REQUEST", "an encoded ../ in an id: BAD_REQUEST");
    const unknownRoute = await rawRequest(gw.url, "POST", "/api/nothing-here", { body: "{}", headers });
    t.equal(unknownRoute.status, 404);
    t.equal(errorCode(json(unknownRoute.body)), "NOT_FOUND", "an unknown API route: NOT_FOUND");

    t.same((await tech.client.get("/api/sessions")).body, before.body, "no session was created or changed");
    const health = await gw.anonymous().get("/healthz");
    t.match(health.body, { ok: true }, "the gateway is up");
  },
);
