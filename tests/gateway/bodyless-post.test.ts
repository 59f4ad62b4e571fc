import t from "tap";
import { errorCode, field, startTestGateway } from "../helpers/gateway.ts";

/**
 * A third-party client often sends `content-type: application/json` on every request, also on
 * actions that take no body (release, close, delete). The gateway accepts those with or without
 * the header; a body that is present must still be valid JSON.
 */
t.test("body-less actions are accepted with or without a JSON content type", async (t) => {
  const gw = await startTestGateway();
  t.teardown(() => gw.close());
  const json = { "content-type": "application/json" };

  await t.test("release and close without a body, sent with content-type: application/json", async (t) => {
    const session = await gw.newSession(gw.admin);
    const taken = await gw.admin.post(`/api/sessions/${session.id}/assign`, {
      technicianId: field((await gw.admin.get("/api/me")).body, "technician", "id"),
    });
    t.equal(taken.status, 200, "the admin takes the session");
    const released = await gw.admin.request("POST", `/api/sessions/${session.id}/release`, undefined, json);
    t.equal(released.status, 200, JSON.stringify(released.body));
    t.equal(field(released.body, "session", "status"), "Queued");
    const closed = await gw.admin.request("POST", `/api/sessions/${session.id}/close`, undefined, json);
    t.equal(closed.status, 200, JSON.stringify(closed.body));
    t.equal(field(closed.body, "session", "status"), "Closed");
    const removed = await gw.admin.request("DELETE", `/api/sessions/${session.id}`, undefined, json);
    t.equal(removed.status, 200, JSON.stringify(removed.body));
  });

  await t.test("also with a charset parameter on the content type", async (t) => {
    const session = await gw.newSession(gw.admin);
    const closed = await gw.admin.request("POST", `/api/sessions/${session.id}/close`, undefined, {
      "content-type": "application/json; charset=utf-8",
    });
    t.equal(closed.status, 200, JSON.stringify(closed.body));
  });

  await t.test("and without any content type, as before", async (t) => {
    const session = await gw.newSession(gw.admin);
    const closed = await gw.admin.request("POST", `/api/sessions/${session.id}/close`);
    t.equal(closed.status, 200, JSON.stringify(closed.body));
  });

  await t.test("a body-less request to an action that needs a body is a validation error", async (t) => {
    const session = await gw.newSession(gw.admin);
    const refused = await gw.admin.request("POST", `/api/sessions/${session.id}/assign`, undefined, json);
    t.equal(refused.status, 400);
    t.equal(errorCode(refused.body), "BAD_REQUEST");
  });

  await t.test("a present body must still be JSON, and prototype poisoning is refused", async (t) => {
    const session = await gw.newSession(gw.admin);
    const broken = await gw.admin.request("POST", `/api/sessions/${session.id}/close`, "{", json);
    t.equal(broken.status, 400);
    t.equal(errorCode(broken.body), "BAD_REQUEST");
    const poisoned = await gw.admin.request(
      "POST",
      `/api/sessions/${session.id}/assign`,
      '{"technicianId":"x","__proto__":{"admin":true}}',
      json,
    );
    t.equal(poisoned.status, 400);
    t.equal(errorCode(poisoned.body), "BAD_REQUEST");
    const still = await gw.admin.get(`/api/sessions/${session.id}`);
    t.equal(field(still.body, "session", "status"), "Waiting", "nothing changed");
  });

  await t.test(
    "an empty body under another content type is no body either (aiohttp sends octet-stream)",
    async (t) => {
      const session = await gw.newSession(gw.admin);
      const closed = await gw.admin.request("POST", `/api/sessions/${session.id}/close`, undefined, {
        "content-type": "application/octet-stream",
      });
      t.equal(closed.status, 200, JSON.stringify(closed.body));
      t.equal(field(closed.body, "session", "status"), "Closed");
    },
  );

  await t.test("a present body that is not JSON is refused and changes nothing", async (t) => {
    const session = await gw.newSession(gw.admin);
    const refused = await gw.admin.request("POST", `/api/sessions/${session.id}/close`, "close", {
      "content-type": "text/plain",
    });
    t.equal(refused.status, 400);
    t.equal(errorCode(refused.body), "BAD_REQUEST");
    const still = await gw.admin.get(`/api/sessions/${session.id}`);
    t.equal(field(still.body, "session", "status"), "Waiting", "nothing changed");
  });
});
