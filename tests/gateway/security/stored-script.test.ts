import t from "tap";
import { ADMIN, field, joinAgent, openConsoleSocket, startTestGateway } from "../../helpers/gateway.ts";
import { rawRequest } from "../../helpers/security.ts";

/**
 * Stored script from an agent (MeshCentral GHSA-c7hr-448w-65px: HTML in an agent's OS description
 * ran in the admin's console). What agents and technicians type comes back as plain JSON strings,
 * and the one HTML page the gateway renders itself (the landing page /s/:token) escapes it.
 */

const HOSTILE_DEVICE = {
  hostname: "<script>alert('host')</script>",
  user: '"><img src=x onerror=alert(1)>',
  os: "</script><svg onload=alert(document.cookie)>",
  agentVersion: "<b>1.0</b>",
};

t.test("agent-supplied host, user and OS come back as the same plain JSON strings", async (t) => {
  const gw = await startTestGateway();
  t.teardown(() => gw.close());
  const tech = await gw.technician("Xena Xss");
  const consoleSocket = await openConsoleSocket(tech.client);
  t.teardown(() => consoleSocket.close());
  await consoleSocket.next("sessions");
  const session = await gw.newSession(tech.client);
  const { socket: agent } = await joinAgent(gw.url, { kind: "pin", pin: session.pin }, HOSTILE_DEVICE);
  t.teardown(() => agent.close());

  const pushed = await consoleSocket.next("session.updated", (m) => m.session.agent.device !== null);
  t.same(pushed.session.agent.device, HOSTILE_DEVICE, "the console socket carries the strings unchanged");

  const response = await rawRequest(gw.url, "GET", `/api/sessions/${session.id}`, {
    headers: { cookie: tech.client.cookie ?? "" },
  });
  t.equal(response.status, 200);
  t.match(response.headers["content-type"], /^application\/json/, "served as JSON, not HTML");
  t.equal(
    response.headers["x-content-type-options"],
    "nosniff",
    "with nosniff, so no browser sniffs it as HTML",
  );
  const body: unknown = JSON.parse(response.body);
  t.match(body, { session: { agent: { device: HOSTILE_DEVICE } } }, "the REST API returns them unchanged");

  const audit = await gw.admin.get(`/api/audit?sessionId=${session.id}`);
  t.match(
    audit.body,
    {
      entries: [
        { action: "agent.joined", detail: { hostname: HOSTILE_DEVICE.hostname, os: HOSTILE_DEVICE.os } },
      ],
    },
    "the audit log keeps them as data",
  );
});

t.test("the audit CSV is a download and neutralizes spreadsheet formulas", async (t) => {
  const gw = await startTestGateway();
  t.teardown(() => gw.close());
  const created = await gw.admin.post("/api/technicians", {
    email: "formula@example.test",
    name: '=HYPERLINK("http://evil.example","click")',
    password: "formula-password-1",
  });
  t.equal(created.status, 200, "a technician's name may start with =");
  const tech = gw.anonymous();
  t.equal((await tech.signIn("formula@example.test", "formula-password-1")).status, 200);

  const csv = await rawRequest(gw.url, "GET", "/api/audit?format=csv", {
    headers: { cookie: gw.admin.cookie ?? "" },
  });
  t.equal(csv.status, 200);
  t.match(csv.headers["content-type"], /^text\/csv/, "served as CSV");
  t.match(csv.headers["content-disposition"], /^attachment/, "as a download, never rendered");
  t.match(csv.body, /"'=HYPERLINK\(""http:\/\/evil\.example"",""click""\)"/, "the formula is quoted inert");
  t.notMatch(csv.body, /(^|,)"[=+\-@]/m, "no cell starts with a formula character");
});

t.test("the landing page escapes the organization name and never reflects the path", async (t) => {
  const gw = await startTestGateway();
  t.teardown(() => gw.close());
  const hostileOrg = `<script>alert("org")</script><img src=x onerror='alert(1)'>&`;
  const renamed = await gw.admin.patch("/api/organization", { name: hostileOrg });
  t.equal(renamed.status, 200, "an admin may name the organization anything");
  const session = await gw.admin.post("/api/sessions", {
    channelId: "home",
    name: "<script>alert('name')</script>",
  });
  t.equal(session.status, 200);
  const token = field(session.body, "invitation", "link").split("/s/")[1] ?? "";

  for (const language of ["en", "de"]) {
    const page = await rawRequest(gw.url, "GET", `/s/${token}`, { headers: { "accept-language": language } });
    t.equal(page.status, 200, `${language}: the live landing page`);
    t.match(page.headers["content-type"], /^text\/html/);
    t.notMatch(page.body, /<script|<img|onerror='/i, `${language}: no markup from the organization name`);
    t.match(
      page.body,
      /&lt;script&gt;alert\(&quot;org&quot;\)&lt;\/script&gt;/,
      `${language}: shown as text`,
    );
    t.match(page.body, /&amp;/, `${language}: & escaped too`);
    t.notMatch(page.body, /alert\('name'\)/, `${language}: the technician's session name is not on the page`);
    t.match(
      page.headers["content-security-policy"],
      /default-src 'none'/,
      `${language}: a CSP without scripts`,
    );
    t.equal(page.headers["x-frame-options"], "DENY", `${language}: not framable`);
  }

  for (const path of [
    "/s/%3Cscript%3Ealert(1337)%3C%2Fscript%3E",
    "/s/%22%3E%3Csvg%20onload%3Dalert(1337)%3E",
  ]) {
    const dead = await rawRequest(gw.url, "GET", path);
    t.equal(dead.status, 404, `${path}: not a session`);
    t.notMatch(dead.body, /<script>alert|<svg/i, `${path}: the path is not reflected as markup`);
    t.notMatch(dead.body, /1337/, `${path}: nor as text`);
  }

  const signedIn = gw.anonymous();
  t.equal((await signedIn.signIn(ADMIN.email, ADMIN.password)).status, 200);
  const me = await signedIn.get("/api/me");
  t.match(me.body, { organization: { name: hostileOrg } }, "the API returns the name unchanged, as JSON");
});
