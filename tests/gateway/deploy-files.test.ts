/**
 * The systemd unit an admin installs (deploy/systemd/sos-gateway.service): systemd's own checker
 * accepts it, and its sandbox keeps systemd's exposure score low. (This machine has systemd's tools
 * but no systemd running, so the unit is checked, not started; the nginx config is run for real by
 * nginx-proxy.test.ts.)
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import t from "tap";

const run = promisify(execFile);
const UNIT = "deploy/systemd/sos-gateway.service";

t.test("the systemd unit is valid, reloads with SIGHUP, and is sandboxed", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "sos-unit-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const text = await readFile(UNIT, "utf8");
  // The unit names /opt/sos-gateway; here the repository is elsewhere, and the checker wants ExecStart to exist.
  const file = join(dir, "sos-gateway.service");
  await writeFile(file, text.replaceAll("/opt/sos-gateway", resolve(".")));
  const verified = await run("systemd-analyze", ["verify", file]);
  t.equal(verified.stderr, "", "systemd-analyze verify: no complaint");

  for (const line of [
    "ExecReload=/bin/kill -HUP $MAINPID",
    "NoNewPrivileges=yes",
    "ProtectSystem=strict",
    "ProtectHome=yes",
    "PrivateTmp=yes",
    "DynamicUser=yes",
    "CapabilityBoundingSet=",
    "Environment=SOS_HOST=127.0.0.1",
    "Environment=SOS_TRUST_PROXY=127.0.0.1",
  ]) {
    t.ok(text.split("\n").includes(line), line);
  }
  const security = await run("systemd-analyze", ["security", "--offline=yes", file]);
  const score = Number(/Overall exposure level for \S+: (\d+\.\d+)/.exec(security.stdout)?.[1]);
  t.ok(score <= 2, `systemd's exposure score ${score} (0 best, 10 worst) is at most 2`);
});
