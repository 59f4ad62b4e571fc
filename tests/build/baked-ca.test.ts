/**
 * A branded build with the team's CA baked in (`build:sos --ca`): the executable, alone in a folder
 * on a machine without Node, joins a gateway whose certificate that CA signed, with no --ca given;
 * a gateway with a certificate from another CA is still refused (exit code 9).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t, { type Test } from "tap";
import { issueCertificate, makeCa, trustInThisProcess } from "../helpers/certificates.ts";
import { openConsoleSocket, startTestGateway } from "../helpers/gateway.ts";
import { startXvfb } from "../helpers/xvfb.ts";
import { buildCa, buildOnce, runCommand } from "./built-executable.ts";

const work = await mkdtemp(join(tmpdir(), "sos-baked-ca-"));
t.teardown(() => rm(work, { recursive: true, force: true }));
const ca = await buildCa();
const otherCa = await makeCa(work, "Another CA");
const { executable } = await buildOnce(join(work, "dist"), ["--ca", ca.certFile]);
trustInThisProcess(ca);
trustInThisProcess(otherCa);
const xvfb = await startXvfb({ width: 1024, height: 768 });
t.teardown(() => xvfb.stop());

async function tlsGateway(t: Test, signer: typeof ca) {
  const certificate = await issueCertificate(signer, work, `gateway-${signer.name.replaceAll(" ", "-")}`);
  const gw = await startTestGateway({
    config: { tls: { certFile: certificate.certFile, keyFile: certificate.keyFile } },
  });
  t.teardown(() => gw.close());
  const alice = await gw.technician("Alice");
  const session = await gw.newSession(alice.client);
  const console = await openConsoleSocket(alice.client);
  t.teardown(() => console.close());
  return { gw, alice, session, console };
}

/** The build run as an end user would, by PIN, with the test gateway's address; killed at teardown. */
function runBuild(t: Test, pin: string, gateway: string) {
  const controller = new AbortController();
  const done = runCommand(executable, [pin, "--gateway", gateway], {
    cwd: work,
    env: {
      ...xvfb.env,
      PATH: "/usr/bin:/bin",
      HOME: work,
      LANG: "C.UTF-8",
      SOS_CACHE_DIR: join(work, "cache"),
    },
    signal: controller.signal,
  });
  t.teardown(async () => {
    controller.abort();
    // Killed by the abort if still running: that rejection is the teardown's own doing.
    await done.catch((error: unknown) => {
      if (!(error instanceof Error && error.name === "AbortError")) throw error;
    });
  });
  return done;
}

t.test("the build trusts its baked CA: it joins over wss without --ca", async (t) => {
  const desk = await tlsGateway(t, ca);
  const running = runBuild(t, desk.session.pin, desk.gw.url);
  await Promise.race([
    // The first start unpacks the executable's payload: allow it a minute on a busy machine.
    desk.console.next(
      "session.updated",
      (m) => m.session.id === desk.session.id && m.session.agent.connected,
      60_000,
    ),
    running.then((result) => {
      throw new Error(`the build exited (${result.code}): ${result.stderr}`);
    }),
  ]);
  t.pass("joined");
});

t.test("the build refuses a certificate from another CA: exit code 9", async (t) => {
  const desk = await tlsGateway(t, otherCa);
  const result = await runBuild(t, desk.session.pin, desk.gw.url);
  t.equal(result.code, 9, result.stderr);
  t.match(result.stderr, /is not trusted \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN)\)/);
});
