/**
 * The gateway behind a real nginx (deploy/nginx/sos-gateway.conf) that terminates TLS: the console,
 * its API and both sockets work through it; the PIN guard sees each client's own address (the
 * gateway trusts X-Forwarded-For from nginx's address only); a forged X-Forwarded-For, sent
 * through nginx or straight to the gateway from elsewhere, changes nothing.
 *
 * Addresses: nginx and the gateway listen on 127.0.0.1 and nginx connects to the gateway from
 * 127.0.0.1, the one trusted proxy address. Clients come from other loopback addresses
 * (127.0.0.2, ...), as different machines would.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t from "tap";
import { auditListSchema } from "../../shared/api.ts";
import { PIN_LIMITS } from "../../signaling/domain/pin-guard.ts";
import { issueCertificate, makeCa, trustInThisProcess } from "../helpers/certificates.ts";
import { ADMIN, ApiClient, openConsoleSocket, startTestGateway } from "../helpers/gateway.ts";
import { freePort, type RunningNginx, startNginx } from "../helpers/nginx.ts";
import { type HelloOutcome, hello, wrongPin } from "../helpers/security.ts";

const dir = await mkdtemp(join(tmpdir(), "sos-nginx-"));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const ca = await makeCa(dir, "SOS test CA");
const certificate = await issueCertificate(ca, dir, "proxy");
trustInThisProcess(ca);

const httpsPort = await freePort();
const httpPort = await freePort();
const publicUrl = `https://localhost:${httpsPort}`;
const gw = await startTestGateway({ config: { publicUrl, trustProxy: ["127.0.0.1"] } });
t.teardown(() => gw.close());
const nginx: RunningNginx = await startNginx(dir, {
  serverName: "localhost",
  httpListen: `127.0.0.1:${httpPort}`,
  httpsListen: `127.0.0.1:${httpsPort}`,
  cert: certificate.certFile,
  key: certificate.keyFile,
  gateway: new URL(gw.url).host,
  publicUrl,
});
t.teardown(() => nginx.stop());
const proxied = `https://127.0.0.1:${httpsPort}`;

const tech = await gw.technician("Pia Proxy");
const target = await gw.newSession(tech.client);
let seed = 300_000_000;
const guess = () => {
  seed += 7_919;
  return wrongPin([target.pin], seed);
};

/** A hello from `address` (a local address the socket binds), through `base`, with extra headers. */
async function helloFrom(
  base: string,
  address: string,
  pin: string,
  headers: Record<string, string> = {},
): Promise<HelloOutcome> {
  const outcome = await hello(base, { kind: "pin", pin }, headers, undefined, { localAddress: address });
  outcome.socket.close();
  return outcome;
}
const code = (outcome: HelloOutcome) => (outcome.ok ? "welcome" : outcome.code);

/** What the audit log says about the agent that joined `sessionId`: `agent@<address>`. */
async function joinedAs(sessionId: string): Promise<string[]> {
  const response = await gw.admin.get(`/api/audit?sessionId=${sessionId}`);
  const { entries } = auditListSchema.parse(response.body);
  return entries.filter((entry) => entry.action === "agent.joined").map((entry) => entry.actor.name ?? "");
}

t.test("the console works through nginx over https: sign-in, API, console socket, HSTS", async (t) => {
  const admin = new ApiClient(publicUrl);
  const signedIn = await admin.signIn(ADMIN.email, ADMIN.password);
  t.equal(signedIn.status, 200);
  t.match(signedIn.headers.get("set-cookie") ?? "", /;\s*Secure/i, "the sign-in cookie is Secure");
  const me = await admin.get("/api/me");
  t.equal(me.status, 200);
  t.equal(me.headers.get("strict-transport-security"), "max-age=31536000", "nginx said https: HSTS");
  const socket = await openConsoleSocket(admin, publicUrl);
  t.pass("the console socket opened through nginx");
  socket.close();
  await t.rejects(
    openConsoleSocket(admin, "https://evil.example"),
    /upgrade refused: 403/,
    "a foreign Origin is refused",
  );
});

t.test("plain http on nginx only redirects to the public https URL, its port included", async (t) => {
  const answer = await new Promise<{ status: number; location: string | undefined }>((resolve, reject) => {
    request(`http://127.0.0.1:${httpPort}/api/me`, { headers: { host: "elsewhere.example" } }, (response) => {
      response.resume();
      resolve({ status: response.statusCode ?? 0, location: response.headers.location });
    })
      .once("error", reject)
      .end();
  });
  t.equal(answer.status, 301);
  t.equal(answer.location, `${publicUrl}/api/me`, "not the request's Host, not without the port");
});

t.test("the PIN guard sees each client's own address through nginx", async (t) => {
  const attacker = "127.0.0.2";
  for (let i = 1; i <= PIN_LIMITS.perAddressFailures; i += 1) {
    t.equal(code(await helloFrom(proxied, attacker, guess())), "SESSION_NOT_FOUND", `wrong PIN ${i}`);
  }
  t.equal(code(await helloFrom(proxied, attacker, guess())), "PIN_RATE_LIMITED", "the guesser is blocked");
  // Without the client's address every connection would come from nginx and share the block.
  const endUser = await helloFrom(proxied, "127.0.0.3", target.pin);
  t.equal(code(endUser), "welcome", "another client's right PIN still joins");
  t.same(await joinedAs(target.id), ["agent@127.0.0.3"], "the audit names the client, not nginx");
});

t.test("a forged X-Forwarded-For sent through nginx is replaced by the client's address", async (t) => {
  const attacker = "127.0.0.4";
  for (let i = 1; i <= PIN_LIMITS.perAddressFailures; i += 1) {
    const forged = { "x-forwarded-for": `198.51.100.${i}` };
    t.equal(code(await helloFrom(proxied, attacker, guess(), forged)), "SESSION_NOT_FOUND");
  }
  const next = await helloFrom(proxied, attacker, guess(), { "x-forwarded-for": "198.51.100.99" });
  t.equal(code(next), "PIN_RATE_LIMITED", "still keyed by the real address");
});

t.test("a forged X-Forwarded-For straight to the gateway, not from the proxy, is ignored", async (t) => {
  const attacker = "127.0.0.5";
  for (let i = 1; i <= PIN_LIMITS.perAddressFailures; i += 1) {
    const forged = { "x-forwarded-for": `203.0.113.${i}` };
    t.equal(code(await helloFrom(gw.url, attacker, guess(), forged)), "SESSION_NOT_FOUND");
  }
  const next = await helloFrom(gw.url, attacker, guess(), { "x-forwarded-for": "203.0.113.99" });
  t.equal(code(next), "PIN_RATE_LIMITED", "keyed by the socket's own address");
  const other = await gw.newSession(tech.client);
  const joined = await helloFrom(gw.url, "127.0.0.6", other.pin, { "x-forwarded-for": "192.0.2.1" });
  t.equal(code(joined), "welcome");
  t.same(await joinedAs(other.id), ["agent@127.0.0.6"], "the audit names the socket's address");
});

t.test("nginx logged no error while forwarding", async (t) => {
  t.notMatch(nginx.errors(), /\[(error|crit|alert|emerg)\]/);
});
