import t from "tap";
import { type ErrorCode, HTTP_STATUS } from "../../shared/errors.ts";
import { type ApiResponse, errorCode, startTestGateway } from "../helpers/gateway.ts";

t.test("the REST API is published as OpenAPI generated from the shared schemas", async (t) => {
  const gw = await startTestGateway();
  t.teardown(() => gw.close());
  const response = await gw.anonymous().get("/api/openapi.json");
  t.equal(response.status, 200);
  const doc = response.body as {
    openapi: string;
    paths: Record<string, Record<string, { requestBody?: unknown }>>;
  };
  t.match(doc.openapi, /^3\./);
  for (const [path, method] of [
    ["/api/auth/sign-in", "post"],
    ["/api/sessions", "post"],
    ["/api/sessions/{id}/permission", "post"],
    ["/api/sessions/{id}/assign", "post"],
    ["/api/sessions/{id}/transfer", "post"],
    ["/api/sessions/{id}/invite", "post"],
    ["/api/sessions/{id}/release", "post"],
    ["/api/sessions/{id}/close", "post"],
    ["/api/sessions/{id}", "delete"],
    ["/api/sessions/{id}/invitation", "get"],
    ["/api/technicians", "post"],
    ["/api/channels", "post"],
    ["/api/audit", "get"],
  ] as const) {
    t.ok(doc.paths[path]?.[method], `${method.toUpperCase()} ${path} is documented`);
  }
  t.ok(doc.paths["/api/sessions"]?.post?.requestBody, "request bodies come with their schema");
});

t.test("the socket protocol is published as JSON Schema, with the error codes", async (t) => {
  const gw = await startTestGateway();
  t.teardown(() => gw.close());
  const response = await gw.anonymous().get("/api/protocol.json");
  t.equal(response.status, 200);
  const text = JSON.stringify(response.body);
  for (const type of [
    "hello",
    "consent",
    "peer.open",
    "remote.connect",
    "session.updated",
    "pointer",
    "key",
    "file.offer",
    "file.transferred",
    "screen.ready",
    "screen.resync",
  ]) {
    t.ok(text.includes(`"const":"${type}"`), `message type ${type} is described`);
  }
  t.ok(text.includes("PIN_RATE_LIMITED") && text.includes("INVITE_LIMIT"), "stable error codes are listed");
  for (const [what, phrase] of [
    ["normalized coordinates", "divided by width - 1"],
    ["the signal payload's candidate", "RTCIceCandidateInit"],
    ["remote.opened's peerId", "The id the gateway issued for this view"],
    ["remote.opened's iceServers", "a credential for this view only"],
  ] as const) {
    t.ok(text.includes(phrase), `${what} is described`);
  }
  const health = await gw.anonymous().get("/healthz");
  t.equal(health.status, 200);
});

type Schema = { type?: string; enum?: string[]; properties?: Record<string, Schema>; $ref?: string };
type Operation = {
  security?: Record<string, string[]>[];
  parameters?: { in: string; name: string }[];
  responses: Record<string, { description: string; content?: Record<string, { schema: Schema }> }>;
  "x-sos-undocumented-errors"?: boolean;
};
type OpenApi = {
  openapi: string;
  servers?: { url: string }[];
  components: { securitySchemes?: Record<string, { type: string; in: string; name: string }> };
  paths: Record<string, Record<string, Operation>>;
};

/** The codes a documented refusal status of an operation can carry (its error.code enum). */
function documentedCodes(doc: OpenApi, method: string, path: string, status: number): string[] {
  const schema = doc.paths[path]?.[method]?.responses[String(status)]?.content?.["application/json"]?.schema;
  return schema?.properties?.error?.properties?.code?.enum ?? [];
}

t.test(
  "every operation documents its refusals, the sign-in cookie and CSRF schemes, and the server",
  async (t) => {
    const gw = await startTestGateway({ config: { publicUrl: "https://support.example.test/" } });
    t.teardown(() => gw.close());
    const doc = (await gw.anonymous().get("/api/openapi.json")).body as OpenApi;

    t.same(
      doc.servers?.map((s) => s.url),
      ["https://support.example.test"],
      "servers is the public URL",
    );
    t.match(doc.components.securitySchemes, {
      sessionCookie: { type: "apiKey", in: "cookie", name: "sos_session" },
      csrfToken: { type: "apiKey", in: "header", name: "x-csrf-token" },
    });

    // Structural checks of OpenAPI 3.0 (no validator in node_modules): every $ref resolves, every
    // path template parameter is declared, every response has a description and a status key.
    const text = JSON.stringify(doc);
    for (const [, ref] of text.matchAll(/"\$ref":"#\/([^"]+)"/g)) {
      let node: unknown = doc;
      for (const part of (ref ?? "").split("/")) node = (node as Record<string, unknown> | undefined)?.[part];
      t.ok(node !== undefined, `$ref #/${ref} resolves`);
    }
    const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({ path, method, op })),
    );
    t.ok(operations.length >= 25, `${operations.length} operations`);
    for (const { path, method, op } of operations) {
      const name = `${method.toUpperCase()} ${path}`;
      for (const [, param] of path.matchAll(/\{([^}]+)\}/g)) {
        t.ok(
          op.parameters?.some((p) => p.in === "path" && p.name === param),
          `${name} declares {${param}}`,
        );
      }
      t.notOk(
        op["x-sos-undocumented-errors"],
        `${name} has its own refusals listed (signaling/http/openapi.ts)`,
      );
      for (const status of [400, 429, 500, 503]) {
        t.ok(op.responses[String(status)], `${name} documents ${status}`);
      }
      for (const [status, response] of Object.entries(op.responses)) {
        t.match(status, /^[1-5]\d\d$/, `${name}: a status code`);
        t.ok(response.description.length > 0, `${name} ${status} has a description`);
        if (Number(status) < 400) continue;
        const codes = documentedCodes(doc, method, path, Number(status));
        t.ok(codes.length > 0, `${name} ${status} names its codes`);
        for (const code of codes) {
          t.equal(HTTP_STATUS[code as ErrorCode], Number(status), `${name}: ${code} is a ${status}`);
        }
      }
    }

    const sessions = doc.paths["/api/sessions"];
    t.same(sessions?.get?.security, [{ sessionCookie: [] }], "a read needs the cookie");
    t.same(
      sessions?.post?.security,
      [{ sessionCookie: [], csrfToken: [] }],
      "a change needs cookie and CSRF",
    );
    t.same(doc.paths["/api/auth/sign-in"]?.post?.security, [], "sign-in needs nothing");
  },
);

t.test("the refusals the gateway really answers are the ones documented", async (t) => {
  const gw = await startTestGateway();
  t.teardown(() => gw.close());
  const doc = (await gw.anonymous().get("/api/openapi.json")).body as OpenApi;
  const { client } = await gw.technician("Tess");
  const session = await gw.newSession(client);
  const unknownId = "00000000-0000-4000-8000-000000000000";
  const cases: [string, string, () => Promise<ApiResponse>][] = [
    ["get", "/api/sessions", () => gw.anonymous().get("/api/sessions")],
    ["post", "/api/auth/sign-in", () => gw.anonymous().signIn("nobody@example.test", "wrong-password")],
    ["post", "/api/auth/sign-in", () => gw.anonymous().post("/api/auth/sign-in", { email: 1 })],
    [
      "post",
      "/api/sessions",
      () =>
        client.request("POST", "/api/sessions", { channelId: "x", name: "n" }, { "x-csrf-token": "wrong" }),
    ],
    [
      "post",
      "/api/sessions/{id}/close",
      () =>
        client.request("POST", `/api/sessions/${session.id}/close`, undefined, {
          origin: "https://evil.test",
        }),
    ],
    ["post", "/api/sessions/{id}/permission", () => client.post(`/api/sessions/${unknownId}/permission`)],
    ["post", "/api/sessions/{id}/permission", () => client.post(`/api/sessions/${session.id}/permission`)],
    ["get", "/api/audit", () => client.get("/api/audit")],
  ];
  for (const [method, path, send] of cases) {
    const response = await send();
    const code = errorCode(response.body) ?? "(none)";
    t.ok(
      documentedCodes(doc, method, path, response.status).includes(code),
      `${method.toUpperCase()} ${path} answered ${response.status} ${code}, which is documented`,
    );
  }
});
