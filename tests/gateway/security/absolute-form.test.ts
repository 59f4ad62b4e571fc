import t from "tap";
import { guardPath, originForm } from "../../../signaling/http/request-target.ts";
import { startTestGateway } from "../../helpers/gateway.ts";
import { documentedError, httpText, rawHttp } from "../../helpers/security.ts";

/**
 * Absolute-form request targets (`GET http://host/path HTTP/1.1`, RFC 9112 §3.2.2): the router
 * routes the path after the authority, so every guard must look at that path and not at the raw
 * target. A setup guard that missed them is the shape of ScreenConnect CVE-2024-1709; a rate limit
 * that missed them let one address send as many API requests as it liked.
 */

const SETUP_BODY = JSON.stringify({
  token: "A".repeat(43),
  email: "intruder@evil.test",
  name: "Intruder",
  password: "attacker-password-1",
});

t.test("the guard path is the path the router routes, for every request-target form", async (t) => {
  const cases: Array<[target: string, routed: string | undefined]> = [
    ["/api/setup", "/api/setup"],
    ["*", "/"],
    ["http://x/api/setup", "/api/setup"],
    ["HTTPS://x:8080/api/setup?y=1", "/api/setup?y=1"],
    ["http://user@x/api/setup", "/api/setup"],
    ["http://x", "/"],
    ["http://x?/api/setup", "/?/api/setup"],
    ["http://x/", "/"],
    ["http:///api/setup", undefined],
    ["http://x#/api/setup", undefined],
    ["ftp://x/api/setup", undefined],
    ["api/setup", undefined],
  ];
  for (const [target, routed] of cases)
    t.equal(originForm(target), routed, `${target} is routed as ${routed}`);
  for (const target of [
    "http://x/API/%73etup/",
    "https://x//api//setup?x",
    "/api/%2573etup",
    "http://x/api\\setup",
  ]) {
    t.ok(guardPath(target).startsWith("/api/setup"), `${target} is guarded as /api/setup`);
  }
});

t.test("once an admin exists, absolute-form setup targets are refused before routing", async (t) => {
  const gw = await startTestGateway();
  t.teardown(() => gw.close());
  const targets = [
    "http://x/api/setup",
    "https://x/api/setup",
    "HTTP://gateway.test:80/api/setup",
    "http://x/api/setup/",
    "http://x/api/Setup",
    "http://x/api/%73etup",
    "http://x//api//setup",
    "http://x/setup",
    "http://x/./api/setup",
    "http://x/nothing/../api/setup",
  ];
  for (const target of targets) {
    const get = await rawHttp(gw.url, httpText("GET", target));
    t.equal(get.status, 404, `GET ${target} answers 404`);
    t.equal(documentedError(get), "SETUP_CLOSED", `GET ${target} answers SETUP_CLOSED`);
    // A body the setup route would reject: refused before routing, validation never sees it.
    for (const body of [SETUP_BODY, '{"token":1}']) {
      const post = await rawHttp(gw.url, httpText("POST", target, { body, headers: { origin: gw.url } }));
      t.equal(
        documentedError(post),
        "SETUP_CLOSED",
        `POST ${target} ${body.slice(0, 12)} answers SETUP_CLOSED`,
      );
    }
  }
  const signIn = await gw.anonymous().signIn("intruder@evil.test", "attacker-password-1");
  t.equal(signIn.status, 401, "no account was created");
});

t.test("absolute-form API requests count against the per-address rate limit", async (t) => {
  const limit = 20;
  const gw = await startTestGateway({ config: { apiRateLimit: limit } });
  t.teardown(() => gw.close());
  const statuses: number[] = [];
  for (let i = 0; i < limit + 5; i += 1) {
    const answer = await rawHttp(gw.url, httpText("GET", "http://x/api/me"));
    statuses.push(answer.status);
    if (answer.status === 429) {
      t.equal(documentedError(answer), "RATE_LIMITED", "the refusal has the documented body");
      break;
    }
  }
  t.equal(statuses.at(-1), 429, `the absolute form is limited too (${statuses.length} requests)`);
  t.ok(statuses.length <= limit + 2, "within the limit (the admin's sign-in counts too)");
  const origin = await rawHttp(gw.url, httpText("GET", "/api/me"));
  t.equal(origin.status, 429, "and the origin form from the same address is limited by the same count");
});

t.test("absolute-form targets the router does not know answer like their origin form", async (t) => {
  const gw = await startTestGateway();
  t.teardown(() => gw.close());
  for (const target of ["http://x/api/nothing", "http://x/ws/nothing", "http://x/API/me/x"]) {
    const answer = await rawHttp(gw.url, httpText("GET", target));
    t.equal(answer.status, 404, `${target}: 404`);
    t.equal(documentedError(answer), "NOT_FOUND", `${target}: NOT_FOUND, not the console page`);
  }
  for (const target of ["http:///api/me", "ftp://x/api/me"]) {
    const answer = await rawHttp(gw.url, httpText("GET", target));
    t.equal(documentedError(answer), "BAD_REQUEST", `${target}: the router refuses it (BAD_REQUEST)`);
  }
});
