import t from "tap";
import { ADMIN, type ApiClient, errorCode, startTestGateway } from "../../helpers/gateway.ts";
import { json, rawRequest } from "../../helpers/security.ts";

/**
 * Setup left open (ScreenConnect CVE-2024-1709: a POST to the setup path with an extra segment
 * created an admin on a running server). Once an admin exists, no variant of the setup path may
 * answer 200 or create an account.
 */

const PASSWORD = "attacker-password-1";

async function technicianEmails(client: ApiClient): Promise<string[]> {
  const list = await client.get("/api/technicians");
  if (
    list.status !== 200 ||
    typeof list.body !== "object" ||
    list.body === null ||
    !("technicians" in list.body)
  )
    throw new Error(`technician list failed: ${JSON.stringify(list.body)}`);
  const technicians = list.body.technicians;
  if (!Array.isArray(technicians)) throw new Error("technicians is not a list");
  return technicians.map((technician: unknown) =>
    typeof technician === "object" && technician !== null && "email" in technician
      ? String(technician.email)
      : "",
  );
}

t.test("once an admin exists, every variant of the setup path is refused and creates nothing", async (t) => {
  const gw = await startTestGateway();
  t.teardown(() => gw.close());
  const before = await technicianEmails(gw.admin);
  const origin = gw.url;

  const variants = [
    "/api/setup",
    "/api/setup/",
    "/api/setup/x",
    "/api/setup/../setup",
    "/API/Setup",
    "/api/SETUP",
    "/api/%73etup",
    "/api/%2573etup",
    "/%61pi/setup",
    "/api/setup%2F",
    "//api//setup",
    "/api//setup",
    "/api/setup?x=1",
    "/api/setup;jsessionid=1",
    "/setup",
  ];
  for (const [index, path] of variants.entries()) {
    const email = `intruder${index}@evil.test`;
    const body = JSON.stringify({ token: "A".repeat(43), email, name: "Intruder", password: PASSWORD });
    const response = await rawRequest(gw.url, "POST", path, { body, headers: { origin } });
    t.not(response.status, 200, `POST ${path} is not accepted`);
    t.ok(
      response.status >= 400 && response.status < 500,
      `POST ${path} is refused with a 4xx (${response.status})`,
    );
    t.equal(response.headers["set-cookie"], undefined, `POST ${path} sets no sign-in cookie`);
  }
  // Password hashing is slow on purpose: check the would-be accounts side by side.
  const signIns = await Promise.all(
    variants.map((_path, index) => gw.anonymous().signIn(`intruder${index}@evil.test`, PASSWORD)),
  );
  for (const [index, signIn] of signIns.entries()) {
    t.equal(
      errorCode(signIn.body),
      "INVALID_CREDENTIALS",
      `the account POST ${variants[index]} tried to create cannot sign in`,
    );
  }
  const plain = await rawRequest(gw.url, "POST", "/api/setup", {
    body: JSON.stringify({ token: "A".repeat(43), email: "x@evil.test", name: "X", password: PASSWORD }),
  });
  t.equal(plain.status, 404, "the setup route itself answers like a missing page");
  t.equal(errorCode(json(plain.body)), "SETUP_CLOSED");

  const state = await rawRequest(gw.url, "GET", "/api/setup");
  t.not(state.status, 200, "GET /api/setup no longer answers once closed");

  const after = await technicianEmails(gw.admin);
  t.same(after, before, "the technician list is unchanged");
  t.equal(after.length, 1, "still only the first admin");
});

t.test(
  "setup by token: wrong token refused, right token creates the admin once, then setup is closed",
  async (t) => {
    const gw = await startTestGateway({ withoutAdmin: true });
    t.teardown(() => gw.close());
    const token = gw.gateway.setupToken;
    if (token === undefined) throw new Error("a gateway without admin prints a setup token");
    t.ok(token.length >= 32, "the setup token is long");

    const state = await gw.anonymous().get("/api/setup");
    t.equal(state.status, 200);
    t.same(state.body, { open: true }, "setup is open while no admin exists");

    const wrong = await gw.anonymous().post("/api/setup", {
      token: `${token.slice(0, -1)}${token.endsWith("A") ? "B" : "A"}`,
      email: ADMIN.email,
      name: ADMIN.name,
      password: ADMIN.password,
    });
    t.equal(wrong.status, 403);
    t.equal(errorCode(wrong.body), "SETUP_TOKEN_INVALID", "a wrong token is refused");
    t.equal(
      errorCode((await gw.anonymous().signIn(ADMIN.email, ADMIN.password)).body),
      "INVALID_CREDENTIALS",
    );

    const foreign = await gw
      .anonymous()
      .request(
        "POST",
        "/api/setup",
        { token, email: ADMIN.email, name: ADMIN.name, password: ADMIN.password },
        { origin: "https://evil.example" },
      );
    t.equal(
      errorCode(foreign.body),
      "ORIGIN_FORBIDDEN",
      "a cross-site setup POST is refused, even with the token",
    );

    const admin = gw.anonymous();
    const right = await admin.post("/api/setup", {
      token,
      email: ADMIN.email,
      name: ADMIN.name,
      password: ADMIN.password,
    });
    t.equal(right.status, 200, "the right token creates the first admin");
    admin.cookie = right.headers.get("set-cookie")?.split(";")[0];
    const me = await admin.get("/api/me");
    t.equal(me.status, 200, "and signs them in");
    t.match(me.body, { technician: { email: ADMIN.email, role: "admin" } });

    const again = await gw.anonymous().post("/api/setup", {
      token,
      email: "second@evil.test",
      name: "Second",
      password: PASSWORD,
    });
    t.equal(again.status, 404);
    t.equal(errorCode(again.body), "SETUP_CLOSED", "the same token cannot be used again");
    t.equal(
      errorCode((await gw.anonymous().signIn("second@evil.test", PASSWORD)).body),
      "INVALID_CREDENTIALS",
    );

    const closedState = await gw.anonymous().get("/api/setup");
    t.equal(errorCode(closedState.body), "SETUP_CLOSED", "GET /api/setup says closed");

    await gw.restart();
    t.equal(gw.gateway.setupToken, undefined, "a restart with an admin prints no new setup token");
    const afterRestart = await gw.anonymous().post("/api/setup", {
      token,
      email: "third@evil.test",
      name: "Third",
      password: PASSWORD,
    });
    t.equal(errorCode(afterRestart.body), "SETUP_CLOSED", "setup stays closed after a restart");
    const signedIn = gw.anonymous();
    t.equal((await signedIn.signIn(ADMIN.email, ADMIN.password)).status, 200);
    t.same(await technicianEmails(signedIn), [ADMIN.email], "only the one admin exists");
  },
);
