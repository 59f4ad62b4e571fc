/**
 * The agent and a gateway that serves https with a certificate from the team's own CA: it joins
 * over wss when told to trust that CA (`--ca`), and refuses every certificate nobody vouches for
 * (no CA given, another CA, another name) with exit code 9 and one line, before sending the PIN.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t, { type Test } from "tap";
import {
  issueCertificate,
  makeCa,
  type ServerCertificate,
  trustInThisProcess,
} from "../helpers/certificates.ts";
import { openConsoleSocket, startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { startXvfb } from "../helpers/xvfb.ts";
import { agentJoined, type Desk, runAgent } from "./e2e-support.ts";

const xvfb = await startXvfb({ width: 1024, height: 768 });
t.teardown(() => xvfb.stop());
const dir = await mkdtemp(join(tmpdir(), "sos-agent-tls-"));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const ca = await makeCa(dir, "SOS test CA");
const otherCa = await makeCa(dir, "Another CA");
const certificate = await issueCertificate(ca, dir, "gateway");
// The test's own clients (REST, console socket) trust the CA; the agent only what it is told.
trustInThisProcess(ca);

/**
 * One gateway per certificate for the whole file (started on first use, closed at the end), with
 * technician Alice: each test gets a session and a console socket of its own on it. Starting a
 * gateway and signing in (scrypt) per test cost seconds each and tested nothing more.
 */
const gateways = new Map<ServerCertificate, Promise<{ gw: TestGateway; alice: Desk["alice"] }>>();
t.teardown(async () => {
  for (const started of gateways.values()) await (await started).gw.close();
});

function tlsGateway(served: ServerCertificate): Promise<{ gw: TestGateway; alice: Desk["alice"] }> {
  let started = gateways.get(served);
  if (started === undefined) {
    started = (async () => {
      const gw = await startTestGateway({
        config: { organizationName: "Acme IT", tls: { certFile: served.certFile, keyFile: served.keyFile } },
      });
      return { gw, alice: await gw.technician("Alice") };
    })();
    gateways.set(served, started);
  }
  return started;
}

async function tlsDesk(t: Test, served: ServerCertificate): Promise<Desk> {
  const { gw, alice } = await tlsGateway(served);
  const session = await gw.newSession(alice.client);
  const console = await openConsoleSocket(alice.client);
  t.teardown(() => console.close());
  return { gw, alice, session, console };
}

/** The session as Alice sees it: whether an agent ever joined. */
async function agentConnected(desk: Desk): Promise<boolean> {
  const response = await desk.alice.client.get(`/api/sessions/${desk.session.id}`);
  const body = response.body as { session: { agent: { connected: boolean } } };
  return body.session.agent.connected;
}

t.test("the gateway serves https: its URL and its session links are https", async (t) => {
  const desk = await tlsDesk(t, certificate);
  t.match(desk.gw.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  t.match(desk.session.link, /^https:\/\/localhost:\d+\/s\//);
});

t.test("with --ca of the gateway's CA the agent joins over wss", async (t) => {
  const desk = await tlsDesk(t, certificate);
  const agent = runAgent(t, xvfb, [desk.session.pin, "--gateway", desk.gw.url, "--ca", ca.certFile]);
  await agent.line(/Waiting for your technician/);
  await agentJoined(desk);
  t.equal(agent.child.exitCode, null, "still running");
});

t.test("SOS_CA works as --ca does", async (t) => {
  const desk = await tlsDesk(t, certificate);
  const agent = runAgent(t, xvfb, [desk.session.pin, "--gateway", desk.gw.url], { SOS_CA: ca.certFile });
  await agentJoined(desk);
  t.equal(agent.child.exitCode, null, "still running");
});

t.test("a CA in the system's certificate store is trusted without --ca", async (t) => {
  const desk = await tlsDesk(t, certificate);
  // OpenSSL's system store on Linux, as a company's CA deployed to its machines would be.
  const emptyDir = join(dir, "no-more-certs");
  await mkdir(emptyDir, { recursive: true });
  const agent = runAgent(t, xvfb, [desk.session.pin, "--gateway", desk.gw.url], {
    SSL_CERT_FILE: ca.certFile,
    SSL_CERT_DIR: emptyDir,
  });
  await agentJoined(desk);
  t.equal(agent.child.exitCode, null, "still running");
});

async function refused(t: Test, desk: Desk, gateway: string, args: readonly string[], problem: RegExp) {
  const agent = runAgent(t, xvfb, [desk.session.pin, "--gateway", gateway, ...args]);
  const { code } = await agent.exited;
  t.equal(code, 9, "exit code 9: certificate refused");
  const line = agent.stderr();
  t.equal(line.split("\n").length, 2, "one line");
  t.match(line, `sos: The certificate of ${gateway} is not trusted (`);
  t.match(line, problem, "OpenSSL's reason");
  t.match(
    line,
    "); not connecting. If your team runs its own certificate authority, start with --ca <file>.\n",
  );
  t.equal(await agentConnected(desk), false, "the agent never joined");
}

// OpenSSL names an unknown issuer UNABLE_TO_VERIFY_LEAF_SIGNATURE, or SELF_SIGNED_CERT_IN_CHAIN when
// the server sends its CA along (this test process trusts the CA, so OpenSSL builds the chain).
const UNKNOWN_ISSUER = /\((UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN)\)/;

t.test("without --ca a certificate from an unknown CA is refused: exit 9, one line", async (t) => {
  const desk = await tlsDesk(t, certificate);
  await refused(t, desk, desk.gw.url, [], UNKNOWN_ISSUER);
});

t.test("--ca of another CA is refused: exit 9", async (t) => {
  const desk = await tlsDesk(t, certificate);
  await refused(t, desk, desk.gw.url, ["--ca", otherCa.certFile], UNKNOWN_ISSUER);
});

t.test("a certificate of the trusted CA for another name is refused: exit 9", async (t) => {
  // Valid for 127.0.0.1 (the test's own clients use it), not for the name the agent is given.
  const addressOnly = await issueCertificate(ca, dir, "address-only", { dns: [], ips: ["127.0.0.1"] });
  const desk = await tlsDesk(t, addressOnly);
  const byName = desk.gw.url.replace("127.0.0.1", "localhost");
  await refused(t, desk, byName, ["--ca", ca.certFile], /\(ERR_TLS_CERT_ALTNAME_INVALID\)/);
});

t.test("the German agent says it in German", async (t) => {
  const desk = await tlsDesk(t, certificate);
  const agent = runAgent(t, xvfb, [desk.session.pin, "--gateway", desk.gw.url, "--lang", "de"]);
  const { code } = await agent.exited;
  t.equal(code, 9);
  t.match(agent.stderr(), /^sos: Dem Zertifikat von https:\/\/127\.0\.0\.1:\d+ wird nicht vertraut/);
});

t.test("--ca with a file that is not a certificate is a usage error: exit 2", async (t) => {
  const notPem = join(dir, "not-a-cert.pem");
  await writeFile(notPem, "hello\n");
  const agent = runAgent(t, xvfb, ["123456789", "--gateway", "https://127.0.0.1:1", "--ca", notPem]);
  const { code } = await agent.exited;
  t.equal(code, 2);
  t.match(agent.stderr(), /^sos: --ca .*not-a-cert\.pem: not a readable PEM certificate/);
});
