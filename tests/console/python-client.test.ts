import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import t, { type Test } from "tap";
import { runAgent, type Teardown } from "../agent/e2e-support.ts";
import {
  issueCertificate,
  makeCa,
  type ServerCertificate,
  trustInThisProcess,
} from "../helpers/certificates.ts";
import { PASSWORD, startTestGateway } from "../helpers/gateway.ts";
import { pointerLocation, startXvfb } from "../helpers/xvfb.ts";

/**
 * docs/console-client.md's technician client, in Python with Debian's aiortc, run as written against
 * the real gateway and the real `sos` agent under Xvfb: sign-in with cookie and CSRF token, a new
 * session, the console socket with its Origin, permission, remote view, the agent's WebRTC offer
 * answered, video decoded, the pointer moved over the `control` channel; over http and over https.
 */

const PYTHON = "/usr/bin/python3";
const CLIENT = "examples/python-console/sos_console.py";
const SCREEN = { width: 1024, height: 640 };

type Result = {
  frames: number;
  frame: { width: number; height: number };
  monitor: { width: number; height: number };
  access: string;
  pointer: { x: number; y: number };
  cursorReported: { x: number; y: number };
};

/** Runs the client; `line(pattern)` resolves with the first stdout line matching it. */
function runClient(t: Teardown, args: readonly string[]) {
  const child = spawn(PYTHON, [CLIENT, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  let stderr = "";
  child.stderr.on("data", (data: Buffer) => {
    stderr += data.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  t.teardown(() => {
    if (child.exitCode === null) child.kill("SIGKILL");
  });
  const waiters = new Set<() => void>();
  createInterface({ input: child.stdout }).on("line", (line) => {
    lines.push(line);
    for (const wake of waiters) wake();
  });
  const line = (pattern: RegExp, deadlineMs: number) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const found = lines.find((l) => pattern.test(l));
        if (found === undefined) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve(found);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no ${pattern} from the client: ${lines.join(" | ")}; stderr: ${stderr}`));
      }, deadlineMs);
      waiters.add(check);
      void exited.then(() => setTimeout(check, 0));
      check();
    });
  return { line, exited };
}

/** The client against a gateway (plain, or https with `ca`), the agent joining with its PIN. */
async function throughTheClient(t: Test, options: { tls?: ServerCertificate; ca?: string } = {}) {
  const xvfb = await startXvfb(SCREEN);
  t.teardown(() => xvfb.stop());
  const tls =
    options.tls === undefined
      ? {}
      : { tls: { certFile: options.tls.certFile, keyFile: options.tls.keyFile } };
  const gw = await startTestGateway({ config: { organizationName: "Acme IT", ...tls } });
  t.teardown(() => gw.close());
  t.match(gw.url, options.tls === undefined ? /^http:/ : /^https:/, "the gateway's scheme");
  const piet = await gw.technician("Piet");
  // A live desktop: aiortc hands a decoded frame over once the next frame's packets arrive, and the
  // agent sends frames when the screen changes (docs/console-client.md).
  xvfb.client("xterm", [
    "-geometry",
    "40x8+0+0",
    "-e",
    "sh",
    "-c",
    "i=0; while true; do i=$((i+1)); echo line $i; sleep 0.1; done",
  ]);
  const ca = options.ca === undefined ? [] : ["--ca", options.ca];

  const client = runClient(t, [
    "--gateway",
    gw.url,
    "--email",
    piet.email,
    "--password",
    PASSWORD,
    "--pointer",
    "0.25,0.75",
    "--timeout",
    "90",
    ...ca,
  ]);
  const pin = (await client.line(/^PIN \d{9}$/, 30_000)).slice(4);
  const agent = runAgent(t, xvfb, [pin, "--gateway", gw.url, ...ca]);
  await agent.line(/asks to SEE and CONTROL your screen/, 30_000);
  agent.type("y");

  const result = JSON.parse((await client.line(/^RESULT /, 120_000)).slice(7)) as Result;
  t.equal(await client.exited, 0, "the client exits 0");
  t.same(result.frame, SCREEN, "decoded frames have the screen's size");
  t.ok(result.frames >= 5, `${result.frames} frames decoded`);
  t.same(result.monitor, SCREEN, "the agent's state names the screen's size");
  t.equal(result.access, "control", "the end user granted control");
  const expected = { x: Math.round(0.25 * (SCREEN.width - 1)), y: Math.round(0.75 * (SCREEN.height - 1)) };
  t.same(result.pointer, expected, "normalized 0.25,0.75 is pixel round(x*(width-1)), round(y*(height-1))");
  t.same(await pointerLocation(xvfb), expected, "the X pointer is there (xdotool)");
  t.same(result.cursorReported, expected, "the agent reported the pointer there");
}

t.test("the Python console client sees the real agent's screen and moves its pointer", (t) =>
  throughTheClient(t),
);

t.test("the same over https and wss, trusting the team's CA with --ca", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "sos-python-client-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const ca = await makeCa(dir, "SOS test CA");
  const certificate = await issueCertificate(ca, dir, "gateway");
  trustInThisProcess(ca);
  await throughTheClient(t, { tls: certificate, ca: ca.certFile });
});

t.test("a refused sign-in prints the gateway's code and exits 1", async (t) => {
  const gw = await startTestGateway();
  t.teardown(() => gw.close());
  const client = runClient(t, [
    "--gateway",
    gw.url,
    "--email",
    "nobody@example.test",
    "--password",
    "wrong-pw-1",
  ]);
  t.match(
    await client.line(/^REFUSED /, 30_000),
    "REFUSED POST /api/auth/sign-in: 401 INVALID_CREDENTIALS: ",
    "the refusal names the request, status and code",
  );
  t.equal(await client.exited, 1);
});
