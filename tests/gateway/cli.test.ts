import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t from "tap";
import { runGateway, startGatewayProcess } from "../helpers/gateway-cli.ts";

// The TURN settings' refusals at start (the credentials themselves: turn-credentials.test.ts).
const SECRET = "gateway-turn-secret-7f3a9c1e5b";
const TURN_UDP = "turn:relay.sos.test:3478?transport=udp";
const TURN_TLS = "turns:relay.sos.test:443?transport=tcp";

t.test(
  "an organization name with a terminal escape is refused at start: exit 1 and one line that says why",
  async (t) => {
    const dataDir = mkdtempSync(join(tmpdir(), "sos-cli-"));
    t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
    const run = await runGateway(["--port", "0", "--host", "127.0.0.1", "--data-dir", dataDir], {
      SOS_ORG_NAME: "Acme\x1b[2K\rIT desk: verified",
      SOS_LOG_LEVEL: "silent",
    });
    t.equal(run.code, 1);
    const lines = run.stderr.trim().split("\n");
    t.equal(lines.length, 1, "one line on stderr");
    t.match(lines[0], /^sos-gateway: could not start: organizationName: no control characters/);
    t.notOk(run.stderr.includes("\x1b"), "the refused value is not echoed");
  },
);

t.test("a plain organization name starts the gateway; SIGTERM stops it with exit 0", async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), "sos-cli-"));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const run = await runGateway(["--port", "0", "--host", "127.0.0.1", "--data-dir", dataDir], {
    SOS_ORG_NAME: "Acme IT",
    SOS_LOG_LEVEL: "silent",
  });
  t.equal(run.code, 0);
  t.match(run.stdout, /SOS gateway ready\. Console: http:\/\/localhost:\d+\//);
});

t.test(
  "SIGTERM stops the gateway within seconds while clients hold connections without a finished request",
  async (t) => {
    const dataDir = mkdtempSync(join(tmpdir(), "sos-cli-"));
    t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
    const gateway = startGatewayProcess(["--port", "0", "--host", "127.0.0.1", "--data-dir", dataDir]);
    const port = Number((await gateway.waitFor(/Console: http:\/\/localhost:(\d+)\//))[1]);
    // A browser's speculative connection (no byte sent yet) and a request whose headers never end.
    const open = (bytes: string) =>
      new Promise<ReturnType<typeof connect>>((resolve) => {
        const socket = connect(port, "127.0.0.1", () => {
          if (bytes !== "") socket.write(bytes);
          resolve(socket);
        });
        socket.on("error", () => {});
      });
    const sockets = [await open(""), await open("GET /api/me HTTP/1.1\r\nHost: localhost\r\n")];
    t.teardown(() => {
      for (const socket of sockets) socket.destroy();
    });
    const exited = gateway.stop();
    const late = new Promise<"still running">((resolve) =>
      setTimeout(resolve, 10_000, "still running").unref(),
    );
    t.equal(await Promise.race([exited, late]), 0, "exit 0 well before a service manager's stop timeout");
    await gateway.waitFor(/sos-gateway: stopping\n/);
  },
);

t.test(
  "--trust-proxy takes the proxy's addresses; a value meaning 'everyone' refuses the start",
  async (t) => {
    const dataDir = mkdtempSync(join(tmpdir(), "sos-cli-"));
    t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
    const base = ["--port", "0", "--host", "127.0.0.1", "--data-dir", dataDir];
    const everyones = ["1", "true", "*", "0.0.0.0/0", "::/0", "0.0.0.0/33"];
    // Each refusal is its own process (refused before it opens the data directory): side by side.
    const runs = await Promise.all(
      everyones.map((everyone) => runGateway([...base, "--trust-proxy", everyone], {})),
    );
    for (const [i, everyone] of everyones.entries()) {
      const run = runs[i];
      if (run === undefined) throw new Error(`no run for ${everyone}`);
      t.equal(run.code, 1, everyone);
      t.match(
        run.stderr,
        /^sos-gateway: could not start: trustProxy\.0: ".*" is not a proxy address: give its IP address or range/,
      );
    }
    const listed = await runGateway(base, { SOS_TRUST_PROXY: "127.0.0.1,10.0.0.0/8,::1,loopback" });
    t.equal(listed.code, 0, listed.stderr);
    t.match(listed.stdout, /SOS gateway ready/);
  },
);

t.test(
  "a TURN setting without its other half, or an empty secret file, is refused at start: exit 1, one line",
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "sos-turn-cli-"));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const base = (data: string) => ["--port", "0", "--host", "127.0.0.1", "--data-dir", join(dir, data)];
    writeFileSync(join(dir, "empty"), "  \n");
    writeFileSync(join(dir, "secret"), `${SECRET}\n`);
    const cases: Array<[string, string[], Record<string, string>, RegExp]> = [
      [
        "a TURN URL without a secret",
        ["--turn-url", TURN_UDP],
        {},
        /turnSecret: a TURN URL needs the relay's secret/,
      ],
      [
        "a secret without a TURN URL",
        [],
        { SOS_TURN_SECRET: SECRET },
        /turnUrls: a TURN secret needs the relay's URLs/,
      ],
      [
        "an empty secret file",
        ["--turn-secret-file", join(dir, "empty")],
        { SOS_TURN_URLS: TURN_UDP },
        /is empty$/,
      ],
      [
        "an unreadable secret file",
        ["--turn-secret-file", join(dir, "missing")],
        { SOS_TURN_URLS: TURN_UDP },
        /cannot read .*missing \(ENOENT\)$/,
      ],
      [
        "a secret and a secret file",
        ["--turn-secret-file", join(dir, "secret"), "--turn-url", TURN_UDP],
        { SOS_TURN_SECRET: SECRET },
        /not both$/,
      ],
      [
        "a short secret",
        ["--turn-url", TURN_UDP],
        { SOS_TURN_SECRET: "short-secret" },
        /turnSecret: the TURN secret needs at least 16 characters/,
      ],
      [
        "something that is not a TURN URL",
        ["--turn-url", "https://relay.sos.test"],
        { SOS_TURN_SECRET: SECRET },
        /turnUrls\.0: not a TURN URL/,
      ],
    ];
    // Each refusal is its own process and data directory: they run side by side.
    const runs = await Promise.all(
      cases.map(([, args, env], i) => runGateway([...base(`data-${i}`), ...args], env)),
    );
    for (const [i, [what, , , line]] of cases.entries()) {
      const run = runs[i];
      if (run === undefined) throw new Error(`no run for ${what}`);
      t.equal(run.code, 1, `${what}: exit 1`);
      const lines = run.stderr.trim().split("\n");
      t.equal(lines.length, 1, `${what}: one line`);
      t.match(lines[0], /^sos-gateway: could not start: /, what);
      t.match(lines[0], line, what);
      t.notOk(run.stderr.includes(SECRET), `${what}: the secret is not echoed`);
    }
    const started = await runGateway(
      [...base("data"), "--turn-url", `${TURN_UDP},${TURN_TLS}`, "--turn-secret-file", join(dir, "secret")],
      { SOS_LOG_LEVEL: "debug" },
    );
    t.equal(started.code, 0, "URLs and a secret file start the gateway");
    t.notOk(
      started.stdout.includes(SECRET) || started.stderr.includes(SECRET),
      "and nothing it prints carries the secret",
    );
  },
);
