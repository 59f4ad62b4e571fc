import t from "tap";
import { startTestGateway } from "../helpers/gateway.ts";

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
  ]) {
    t.ok(text.includes(`"const":"${type}"`), `message type ${type} is described`);
  }
  t.ok(text.includes("PIN_RATE_LIMITED") && text.includes("INVITE_LIMIT"), "stable error codes are listed");
  const health = await gw.anonymous().get("/healthz");
  t.equal(health.status, 200);
});
