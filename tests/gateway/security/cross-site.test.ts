import t from "tap";
import { ApiClient, errorCode, openConsoleSocket, startTestGateway } from "../../helpers/gateway.ts";
import { json, tryUpgrade } from "../../helpers/security.ts";

/**
 * Cross-site WebSocket hijacking (a page on another site opening the console socket with the
 * technician's cookie) and cross-site request forgery on the REST API.
 */

t.test(
  "the console socket refuses a foreign Origin, a missing Origin and a missing cookie before the upgrade",
  async (t) => {
    const gw = await startTestGateway();
    t.teardown(() => gw.close());
    const tech = await gw.technician("Tess Tech");
    const cookie = tech.client.cookie ?? "";
    const port = new URL(gw.url).port;

    const foreignOrigins = [
      "https://evil.example",
      "null",
      `http://127.0.0.1:${Number(port) + 1}`,
      `https://127.0.0.1:${port}`,
      `${gw.url}.evil.example`,
      `http://evil.example/${gw.url}`,
      `http://localhost.evil.example:${port}`,
    ];
    for (const origin of foreignOrigins) {
      const result = await tryUpgrade(gw.url, "/ws/console", { cookie, origin });
      if (result.upgraded) {
        result.socket.destroy();
        t.fail(`Origin ${origin} was upgraded`);
        continue;
      }
      t.equal(result.status, 403, `Origin ${origin}: refused with 403`);
      t.equal(errorCode(json(result.body)), "ORIGIN_FORBIDDEN", `Origin ${origin}: ORIGIN_FORBIDDEN`);
    }

    const noOrigin = await tryUpgrade(gw.url, "/ws/console", { cookie });
    t.equal(noOrigin.upgraded, false, "no Origin header: not upgraded");
    if (!noOrigin.upgraded) t.equal(noOrigin.status, 403, "no Origin header: 403");

    const noCookie = await tryUpgrade(gw.url, "/ws/console", { origin: gw.url });
    t.equal(noCookie.upgraded, false, "no cookie: not upgraded");
    if (!noCookie.upgraded) {
      t.equal(noCookie.status, 401, "no cookie: 401");
      t.equal(errorCode(json(noCookie.body)), "UNAUTHENTICATED");
    }

    const forgedCookie = await tryUpgrade(gw.url, "/ws/console", {
      origin: gw.url,
      cookie: `sos_session=${"A".repeat(43)}`,
    });
    t.equal(forgedCookie.upgraded, false, "a made-up cookie: not upgraded");
    if (!forgedCookie.upgraded) t.equal(forgedCookie.status, 401, "a made-up cookie: 401");

    // The same technician from the gateway's own origin gets in: the refusals above were about the origin.
    const sameOrigin = await tryUpgrade(gw.url, "/ws/console", { cookie, origin: gw.url });
    t.equal(sameOrigin.upgraded, true, "the same cookie from the gateway's origin is upgraded");
    if (sameOrigin.upgraded) sameOrigin.socket.destroy();
    const consoleSocket = await openConsoleSocket(tech.client);
    t.teardown(() => consoleSocket.close());
    await consoleSocket.next("sessions");
    const health = await gw.anonymous().get("/healthz");
    t.match(health.body, { ok: true, consoles: 1 }, "only the legitimate console socket is connected");
  },
);

t.test("the sign-in cookie is httpOnly and SameSite=Strict", async (t) => {
  const gw = await startTestGateway();
  t.teardown(() => gw.close());
  const response = await gw.anonymous().post("/api/auth/sign-in", {
    email: "admin@example.test",
    password: "admin-password-1",
  });
  const cookie = response.headers.get("set-cookie") ?? "";
  t.match(cookie, /HttpOnly/i, "httpOnly");
  t.match(cookie, /SameSite=Strict/i, "SameSite=Strict");
});

t.test(
  "state-changing REST without the CSRF token or from a foreign Origin is refused and changes nothing",
  async (t) => {
    const gw = await startTestGateway();
    t.teardown(() => gw.close());
    const tech = await gw.technician("Carl Csrf");
    const otherCsrf = await gw.technician("Other Csrf");
    const session = await gw.newSession(tech.client);
    const sessionsBefore = await tech.client.get("/api/sessions");
    const techniciansBefore = await gw.admin.get("/api/technicians");

    // The cookie alone, as a browser would send it on a forged cross-site form post.
    const cookieOnly = new ApiClient(gw.url);
    cookieOnly.cookie = tech.client.cookie;
    const adminCookieOnly = new ApiClient(gw.url);
    adminCookieOnly.cookie = gw.admin.cookie;

    const attempts: Array<[string, ApiClient, string, string, unknown]> = [
      ["new session", cookieOnly, "POST", "/api/sessions", { channelId: "home", name: "Forged" }],
      ["close", cookieOnly, "POST", `/api/sessions/${session.id}/close`, {}],
      ["delete", cookieOnly, "DELETE", `/api/sessions/${session.id}`, undefined],
      ["sign out", cookieOnly, "POST", "/api/auth/sign-out", {}],
      ["disable technician", adminCookieOnly, "PATCH", `/api/technicians/${tech.id}`, { disabled: true }],
      [
        "create admin",
        adminCookieOnly,
        "POST",
        "/api/technicians",
        { email: "forged@evil.test", name: "Forged", password: "forged-password-1", role: "admin" },
      ],
    ];
    for (const [what, client, method, path, body] of attempts) {
      const missing = await client.request(method, path, body);
      t.equal(missing.status, 403, `${what} without x-csrf-token: 403`);
      t.equal(errorCode(missing.body), "CSRF_FAILED", `${what} without x-csrf-token: CSRF_FAILED`);
      const wrong = await client.request(method, path, body, { "x-csrf-token": "A".repeat(43) });
      t.equal(errorCode(wrong.body), "CSRF_FAILED", `${what} with a wrong x-csrf-token: CSRF_FAILED`);
      // The real token but a foreign Origin (a token leaked to another site is still not enough).
      const real = client === cookieOnly ? tech.client : gw.admin;
      const foreign = await real.request(method, path, body, {
        origin: "https://evil.example",
        "x-csrf-token": real.csrfToken ?? "",
      });
      t.equal(foreign.status, 403, `${what} from a foreign Origin: 403`);
      t.equal(errorCode(foreign.body), "ORIGIN_FORBIDDEN", `${what} from a foreign Origin: ORIGIN_FORBIDDEN`);
    }

    const crossed = await tech.client.request(
      "POST",
      "/api/sessions",
      { channelId: "home", name: "Crossed" },
      { "x-csrf-token": otherCsrf.client.csrfToken ?? "" },
    );
    t.equal(
      errorCode(crossed.body),
      "CSRF_FAILED",
      "another technician's CSRF token does not fit this cookie",
    );

    const signIn = await gw
      .anonymous()
      .request(
        "POST",
        "/api/auth/sign-in",
        { email: "admin@example.test", password: "admin-password-1" },
        { origin: "https://evil.example" },
      );
    t.equal(errorCode(signIn.body), "ORIGIN_FORBIDDEN", "a cross-site sign-in (login CSRF) is refused");
    t.equal(signIn.headers.get("set-cookie"), null, "and sets no cookie");

    t.same(
      (await tech.client.get("/api/sessions")).body,
      sessionsBefore.body,
      "the technician's sessions are unchanged",
    );
    const techniciansAfter = await gw.admin.get("/api/technicians");
    t.same(techniciansAfter.body, techniciansBefore.body, "the technician list is unchanged");
    const me = await tech.client.get("/api/me");
    t.equal(me.status, 200, "the technician is still signed in and enabled");
    t.match(me.body, { technician: { disabled: false } });
    const forged = await tech.client.get("/api/sessions");
    t.notMatch(JSON.stringify(forged.body), /Forged/, "no forged session exists");
    const list = JSON.stringify(techniciansAfter.body);
    t.notMatch(list, /forged@evil\.test/, "no forged admin exists");
  },
);
