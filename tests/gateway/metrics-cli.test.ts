import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t from "tap";
import { runGateway, startGatewayProcess } from "../helpers/gateway-cli.ts";

const TOKEN = "cli-metrics-token-0123456789";

t.test(
  "sos-gateway with SOS_METRICS_TOKEN and --metrics-listen serves /metrics there, to the token only",
  async (t) => {
    const dataDir = mkdtempSync(join(tmpdir(), "sos-metrics-cli-"));
    t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
    const gateway = startGatewayProcess(
      ["--port", "0", "--host", "127.0.0.1", "--data-dir", dataDir, "--metrics-listen", "127.0.0.1:0"],
      { SOS_METRICS_TOKEN: TOKEN },
    );
    const [, url] = await gateway.waitFor(/^Metrics: (http:\/\/127\.0\.0\.1:\d+\/metrics)$/m);
    if (url === undefined) throw new Error("no metrics URL printed");
    t.equal((await fetch(url)).status, 401, "no token, no metrics");
    const scrape = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
    t.equal(scrape.status, 200);
    t.match(await scrape.text(), /^sos_connected_agents 0$/m);
    t.equal(await gateway.stop(), 0, "SIGTERM stops it, metrics listener and all");
  },
);

t.test(
  "sos-gateway --metrics-token-file reads the token from a file (trimmed), kept out of the process list and environment",
  async (t) => {
    const dataDir = mkdtempSync(join(tmpdir(), "sos-metrics-cli-"));
    t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
    const tokenFile = join(dataDir, "metrics.token");
    writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
    const gateway = startGatewayProcess(
      [
        ...["--port", "0", "--host", "127.0.0.1", "--data-dir", dataDir],
        ...["--metrics-listen", "127.0.0.1:0", "--metrics-token-file", tokenFile],
      ],
      {},
    );
    const [, url] = await gateway.waitFor(/^Metrics: (http:\/\/127\.0\.0\.1:\d+\/metrics)$/m);
    if (url === undefined) throw new Error("no metrics URL printed");
    t.equal((await fetch(url)).status, 401, "no token, no metrics");
    const scrape = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
    t.equal(scrape.status, 200, "the file's token, without its newline, is the token");
    t.equal(await gateway.stop(), 0);

    const base = ["--port", "0", "--host", "127.0.0.1", "--data-dir", dataDir];
    const both = await runGateway([...base, "--metrics-token-file", tokenFile], { SOS_METRICS_TOKEN: TOKEN });
    t.equal(both.code, 1);
    t.match(both.stderr, /^sos-gateway: could not start: metricsToken: .*not both$/m, "a token and a file");
    const missing = await runGateway([...base, "--metrics-token-file", join(dataDir, "missing")], {});
    t.equal(missing.code, 1);
    t.match(missing.stderr, /metricsTokenFile: cannot read .*missing \(ENOENT\)$/m, "an unreadable file");
    writeFileSync(tokenFile, "short\n");
    const short = await runGateway(base, { SOS_METRICS_TOKEN_FILE: tokenFile });
    t.equal(short.code, 1);
    t.match(
      short.stderr,
      /metricsToken: the metrics token needs at least 16 characters/,
      "checked as a token",
    );
    t.notMatch(short.stderr, /short/, "the file's content is not echoed");
  },
);

t.test("a short metrics token or a taken metrics port refuses to start with exit 1", async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), "sos-metrics-cli-"));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const base = ["--port", "0", "--host", "127.0.0.1", "--data-dir", dataDir];
  const short = await runGateway(base, { SOS_METRICS_TOKEN: "short" });
  t.equal(short.code, 1);
  t.match(
    short.stderr,
    /^sos-gateway: could not start: metricsToken: the metrics token needs at least 16 characters/,
  );
  t.notMatch(short.stdout, /ready/, "and does not start");
  t.notMatch(short.stderr, /short/, "the refused token is not echoed");

  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
  t.teardown(() => taken.close());
  const address = taken.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  const busy = await runGateway([...base, "--metrics-listen", `127.0.0.1:${address.port}`], {});
  t.equal(busy.code, 1);
  t.match(busy.stderr, /^sos-gateway: could not start: .*EADDRINUSE/);
});
