import t from "tap";
import { startTestGateway } from "../../helpers/gateway.ts";
import { documentedError, httpText, rawHttp } from "../../helpers/security.ts";

/**
 * Every refusal carries the documented body `{ "error": { code, message } }` with a stable code,
 * including those answered before fastify sees a request: Node's HTTP parser (malformed requests,
 * headers too large, broken chunked bodies), the WebSocket handshake, and a plain GET on a socket
 * path.
 */

const UPGRADE = {
  connection: "Upgrade",
  upgrade: "websocket",
  "sec-websocket-version": "13",
  "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
};

t.test("requests the HTTP parser refuses answer with the documented error body", async (t) => {
  const gw = await startTestGateway();
  t.teardown(() => gw.close());
  const malformed: Array<[what: string, text: string]> = [
    ["not HTTP at all", "GARBAGE\r\n\r\n"],
    ["an invalid method", "G@T / HTTP/1.1\r\nHost: x\r\n\r\n"],
    ["a header without a colon", "GET /api/me HTTP/1.1\r\nHost: x\r\nnocolon\r\n\r\n"],
    [
      "two Content-Length headers that disagree",
      httpText("POST", "/api/auth/sign-in", { headers: { "content-length": "2, 3" }, body: "{}" }),
    ],
    ["an unknown HTTP version", "GET /api/me HTTP/7.1\r\nHost: x\r\n\r\n"],
    [
      "a chunked body with a bad chunk size",
      httpText("POST", "/api/auth/sign-in", {
        headers: { "transfer-encoding": "chunked", "content-type": "application/json" },
        body: "zz\r\nabc\r\n0\r\n\r\n",
      }),
    ],
  ];
  for (const [what, text] of malformed) {
    const answer = await rawHttp(gw.url, text);
    t.equal(answer.status, 400, `${what}: 400`);
    t.equal(documentedError(answer), "BAD_REQUEST", `${what}: BAD_REQUEST in the documented body`);
  }
  const huge = await rawHttp(
    gw.url,
    httpText("GET", "/api/me", { headers: { "x-big": "a".repeat(20_000) } }),
  );
  t.equal(huge.status, 431, "headers above Node's limit: 431");
  t.equal(documentedError(huge), "HEADERS_TOO_LARGE", "with its own code in the documented body");
});

t.test("a refused WebSocket handshake answers with the documented error body", async (t) => {
  const gw = await startTestGateway();
  t.teardown(() => gw.close());
  const handshakes: Array<[what: string, headers: Record<string, string>]> = [
    ["a malformed Sec-WebSocket-Key", { ...UPGRADE, "sec-websocket-key": "bad" }],
    ["no Sec-WebSocket-Key", { connection: "Upgrade", upgrade: "websocket", "sec-websocket-version": "13" }],
    ["an unknown Sec-WebSocket-Version", { ...UPGRADE, "sec-websocket-version": "99" }],
    ["an Upgrade other than websocket", { ...UPGRADE, upgrade: "h2c" }],
    ["a malformed Sec-WebSocket-Protocol", { ...UPGRADE, "sec-websocket-protocol": "a,,b" }],
  ];
  for (const [what, headers] of handshakes) {
    const answer = await rawHttp(gw.url, httpText("GET", "/ws/agent", { headers }));
    t.equal(answer.status, 400, `${what}: 400`);
    t.equal(documentedError(answer), "BAD_REQUEST", `${what}: BAD_REQUEST in the documented body`);
  }
});

t.test("a plain GET on a socket path answers with the documented error body", async (t) => {
  const gw = await startTestGateway();
  t.teardown(() => gw.close());
  const agent = await rawHttp(gw.url, httpText("GET", "/ws/agent"));
  t.equal(agent.status, 404);
  t.equal(documentedError(agent), "NOT_FOUND", "GET /ws/agent without an upgrade");
  const cookie = gw.admin.cookie ?? "";
  const signedIn = await rawHttp(
    gw.url,
    httpText("GET", "/ws/console", { headers: { cookie, origin: gw.url, host: new URL(gw.url).host } }),
  );
  t.equal(signedIn.status, 404);
  t.equal(documentedError(signedIn), "NOT_FOUND", "GET /ws/console without an upgrade, signed in");
});
