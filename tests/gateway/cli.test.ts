import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t from "tap";
import { runGateway, startGatewayProcess } from "../helpers/gateway-cli.ts";

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
    for (const everyone of ["1", "true", "*", "0.0.0.0/0", "::/0", "0.0.0.0/33"]) {
      const run = await runGateway([...base, "--trust-proxy", everyone], {});
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
