/**
 * The gateway serving https itself (`--tls-cert` / `--tls-key`): HSTS on https only, a pair that
 * does not load refuses the start with one line, and SIGHUP swaps the certificate for new
 * connections while open sockets stay open.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { copyFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { connect } from "node:tls";
import t, { type Test } from "tap";
import { issueCertificate, makeCa, trustInThisProcess } from "../helpers/certificates.ts";
import { ADMIN, ApiClient, joinAgent, startTestGateway } from "../helpers/gateway.ts";
import { runGateway } from "../helpers/gateway-cli.ts";

const dir = await mkdtemp(join(tmpdir(), "sos-gateway-tls-"));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const ca = await makeCa(dir, "SOS test CA");
const first = await issueCertificate(ca, dir, "first");
const second = await issueCertificate(ca, dir, "second");
trustInThisProcess(ca);

/** The SHA-256 fingerprint of the certificate a new TLS connection to `port` is handed. */
function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, servername: "localhost" }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.end();
    });
    socket.once("error", reject);
  });
}

t.test("on https every answer carries HSTS; on plain http none does", async (t) => {
  const secure = await startTestGateway({
    config: { tls: { certFile: first.certFile, keyFile: first.keyFile } },
  });
  t.teardown(() => secure.close());
  const plain = await startTestGateway();
  t.teardown(() => plain.close());
  for (const path of ["/healthz", "/", "/api/me"]) {
    const over = await fetch(`${secure.url}${path}`);
    t.equal(over.headers.get("strict-transport-security"), "max-age=31536000", `https ${path}`);
    const under = await fetch(`${plain.url}${path}`);
    t.equal(under.headers.get("strict-transport-security"), null, `http ${path}`);
  }
  const signedIn = await secure.admin.get("/api/me");
  t.equal(signedIn.status, 200, "the console's API works over https");
  t.match(secure.gateway.publicUrl, /^https:\/\/localhost:\d+$/, "links default to https");
});

t.test("a key that does not fit the certificate refuses the start: exit 1, one line", async (t) => {
  const dataDir = await mkdtemp(join(dir, "data-"));
  const run = await runGateway(
    ["--port", "0", "--host", "127.0.0.1", "--data-dir", dataDir, "--tls-cert", first.certFile],
    { SOS_TLS_KEY: second.keyFile },
  );
  t.equal(run.code, 1);
  t.equal(run.stderr.trim().split("\n").length, 1);
  t.match(run.stderr, /^sos-gateway: could not start: the TLS key .*second\.key does not fit .*first\.pem/);
});

t.test("a certificate without its key refuses the start", async (t) => {
  const dataDir = await mkdtemp(join(dir, "data-"));
  const run = await runGateway(
    ["--port", "0", "--host", "127.0.0.1", "--data-dir", dataDir, "--tls-cert", first.certFile],
    {},
  );
  t.equal(run.code, 1);
  t.match(run.stderr, /^sos-gateway: could not start: tls: give --tls-cert and --tls-key together/);
});

type RunningCli = {
  readonly child: ChildProcess;
  /** Resolves with the first stdout or stderr line (seen or to come) matching `pattern`. */
  line(pattern: RegExp): Promise<string>;
};

/** `sos-gateway` as an admin runs it, kept running until the test ends. */
function startCli(t: Test, args: readonly string[], env: Record<string, string>): RunningCli {
  const child = spawn(process.execPath, ["signaling/cli.ts", ...args], {
    env: { ...process.env, SOS_LOG_LEVEL: "silent", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  t.teardown(async () => {
    if (child.exitCode === null) {
      child.kill("SIGTERM");
      await exited;
    }
  });
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on("line", (line) => {
      lines.push(line);
      for (const wake of waiters) wake();
    });
  }
  return {
    child,
    line(pattern) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = lines.find((line) => pattern.test(line));
          if (found === undefined) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no line ${pattern} in 20 s: ${lines.join(" | ")}`));
        }, 20_000);
        waiters.add(check);
        check();
      });
    },
  };
}

t.test(
  "SIGHUP reloads the certificate: new connections get the new one, an open agent socket stays open",
  async (t) => {
    const certFile = join(dir, "live.pem");
    const keyFile = join(dir, "live.key");
    await copyFile(first.certFile, certFile);
    await copyFile(first.keyFile, keyFile);
    const dataDir = await mkdtemp(join(dir, "data-"));
    const cli = startCli(t, ["--port", "0", "--host", "127.0.0.1", "--data-dir", dataDir], {
      SOS_TLS_CERT: certFile,
      SOS_TLS_KEY: keyFile,
      SOS_ADMIN_EMAIL: ADMIN.email,
      SOS_ADMIN_PASSWORD: ADMIN.password,
    });
    const ready = await cli.line(/^SOS gateway ready/);
    const url = /listening on (https:\/\/127\.0\.0\.1:\d+)/.exec(ready)?.[1] ?? "";
    t.match(url, /^https:/);
    t.match(await cli.line(/^TLS: /), first.fingerprint256, "the start names the certificate");
    const port = Number(new URL(url).port);
    t.equal(await servedFingerprint(port), first.fingerprint256);

    const admin = new ApiClient(url);
    t.equal((await admin.signIn(ADMIN.email, ADMIN.password)).status, 200);
    const created = await admin.post("/api/sessions", { channelId: "home", name: "Customer" });
    const pin = (created.body as { invitation: { pin: string } }).invitation.pin;
    const { socket: agent } = await joinAgent(url, { kind: "pin", pin });

    await copyFile(second.certFile, certFile);
    await copyFile(second.keyFile, keyFile);
    cli.child.kill("SIGHUP");
    t.match(await cli.line(/^TLS certificate reloaded/), second.fingerprint256);
    t.equal(
      await servedFingerprint(port),
      second.fingerprint256,
      "a new connection gets the new certificate",
    );

    // The agent's socket, opened on the old certificate, still carries frames both ways.
    const pong = new Promise<void>((resolve) => agent.socket.once("pong", () => resolve()));
    agent.socket.ping();
    await pong;
    t.equal(agent.socket.readyState, agent.socket.OPEN, "the open socket was not dropped");
    const health = (await admin.get("/healthz")).body as { agents: number };
    t.equal(health.agents, 1, "the gateway still counts the agent");
    agent.close();
  },
);

t.test("SIGHUP with a broken pair keeps the previous certificate and the gateway running", async (t) => {
  const certFile = join(dir, "broken.pem");
  const keyFile = join(dir, "broken.key");
  await copyFile(first.certFile, certFile);
  await copyFile(first.keyFile, keyFile);
  const dataDir = await mkdtemp(join(dir, "data-"));
  const cli = startCli(
    t,
    [
      "--port",
      "0",
      "--host",
      "127.0.0.1",
      "--data-dir",
      dataDir,
      "--tls-cert",
      certFile,
      "--tls-key",
      keyFile,
    ],
    {},
  );
  const ready = await cli.line(/^SOS gateway ready/);
  const port = Number(/listening on https:\/\/127\.0\.0\.1:(\d+)/.exec(ready)?.[1]);
  // Half a renewal: the new certificate is in place, its key not yet.
  await copyFile(second.certFile, certFile);
  cli.child.kill("SIGHUP");
  t.match(
    await cli.line(/TLS certificate NOT reloaded/),
    /^sos-gateway: TLS certificate NOT reloaded, still serving the previous one: the TLS key .* does not fit/,
  );
  t.equal(await servedFingerprint(port), first.fingerprint256, "still the previous certificate");
  t.equal((await fetch(`https://127.0.0.1:${port}/healthz`)).status, 200, "still serving");
});

t.test("SIGHUP without TLS says there is nothing to reload and does not stop the gateway", async (t) => {
  const dataDir = await mkdtemp(join(dir, "data-"));
  const cli = startCli(t, ["--port", "0", "--host", "127.0.0.1", "--data-dir", dataDir], {});
  const ready = await cli.line(/^SOS gateway ready/);
  const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(ready)?.[1] ?? "";
  cli.child.kill("SIGHUP");
  await cli.line(/no TLS certificate to reload/);
  t.equal((await fetch(`${url}/healthz`)).status, 200);
});
