/**
 * coturn's contract with this product, against a real coturn (scripts/coturn-config.ts, the config
 * `npm run turn` uses) in real network namespaces. Needs root (ip netns, iptables).
 *
 * Hosts: `relay` runs coturn (UDP+TCP on 3478, TLS on 443); `agent` runs werift's TURN client
 * (tests/helpers/turn-probe.ts) as a child process; `tech` is an ordinary peer the relay may reach.
 * Loopback peers are NOT allowed here (no allow-loopback-peers): this test checks they are refused.
 *
 * One difference from production, said here: `allocation-default-address-family=keep`. werift's
 * client cannot send REQUESTED-ADDRESS-FAMILY, and the `::ffff:127.0.0.1` case needs an IPv6
 * allocation (CVE-2026-27624 was a mapped address on an IPv6 relay); with `keep`, a client reaching
 * coturn over IPv6 gets one, like every client asking for IPv6.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import t from "tap";
import { makeTurnCertificate, type RunningCoturn, startCoturn } from "../../scripts/coturn-process.ts";
import { mintTurnCredential } from "../../signaling/turn/credentials.ts";
import { createTestNetwork, requireRoot, type TestNetwork } from "../helpers/netns.ts";
import type { ProbeAnswer, ProbeRequest, ProbeResult } from "../helpers/turn-probe.ts";

const run = promisify(execFile);
const PROBE = join(import.meta.dirname, "..", "helpers", "turn-probe.ts");
const SECRET = "relay-test-secret-0123456789";
const TURN_PORT = 3478;
const TLS_PORT = 443;
const SERVER_NAME = "relay.sos.test";

type Hosts = "agent" | "tech" | "relay";
let net: TestNetwork<Hosts>;
let coturn: RunningCoturn | undefined;
let dir: string;
let caFile: string;

requireRoot("tests/relay/coturn.test.ts");

function credential(now = Date.now(), ttlSeconds = 600) {
  const { username, credential } = mintTurnCredential({ secret: SECRET, ttlSeconds, id: "peer-1", now });
  return { username, password: credential };
}

/** Runs werift's TURN client inside the agent's namespace and returns what coturn answered. */
async function probe(request: ProbeRequest): Promise<ProbeResult> {
  const { stdout } = await net.exec("agent", process.execPath, [PROBE, JSON.stringify(request)]);
  return JSON.parse(stdout) as ProbeResult;
}

function refusedWith(answer: ProbeAnswer): number | "timeout" | "ok" {
  if (answer.ok) return "ok";
  return "timeout" in answer ? "timeout" : answer.code;
}

t.before(async () => {
  net = await createTestNetwork<Hosts>(["agent", "tech", "relay"]);
  dir = await mkdtemp(join(tmpdir(), "sos-coturn-test-"));
  const relay = net.hosts.relay;
  const certificate = await makeTurnCertificate(dir, { dns: [SERVER_NAME], ips: [relay.ipv4, relay.ipv6] });
  caFile = certificate.caFile;
  coturn = await startCoturn({
    dir,
    netns: relay.ns,
    verbose: true,
    config: {
      secret: SECRET,
      realm: "sos.test",
      port: TURN_PORT,
      tlsPort: TLS_PORT,
      certFile: certificate.certFile,
      keyFile: certificate.keyFile,
      pidFile: join(dir, "turnserver.pid"),
      listeningIps: [relay.ipv4, relay.ipv6],
      relayIps: [relay.ipv4, relay.ipv6],
      allocationDefaultAddressFamily: "keep",
    },
  });
});

t.teardown(async () => {
  await coturn?.stop();
  await net?.teardown();
  if (dir) await rm(dir, { recursive: true, force: true });
});

t.test("coturn in a network namespace [needs root, netns]", async (t) => {
  t.afterEach(async (t) => {
    if (!t.passing()) t.comment(`coturn log:\n${coturn?.log().split("\n").slice(-40).join("\n")}`);
  });

  t.test("a freshly minted credential allocates over UDP, TCP and TLS on 443", async (t) => {
    const relay = net.hosts.relay;
    const tech = net.hosts.tech;
    for (const [transport, port] of [
      ["udp", TURN_PORT],
      ["tcp", TURN_PORT],
      ["tls", TLS_PORT],
    ] as const) {
      const result = await probe({
        server: [relay.ipv4, port],
        transport,
        ...credential(),
        ...(transport === "tls" ? { caFile, servername: SERVER_NAME } : {}),
        peers: [[tech.ipv4, 9]],
      });
      t.same(result.allocate.ok, true, `${transport}: allocated`);
      t.equal(result.allocate.relayed?.[0], relay.ipv4, `${transport}: relayed on the relay's address`);
      t.same(
        result.permissions.map((p) => refusedWith(p.answer)),
        ["ok"],
        `${transport}: may relay to an ordinary peer`,
      );
    }
  });

  t.test("the raw Allocate (werift's codec, no client) succeeds with a genuine credential", async (t) => {
    for (const transport of ["udp", "tcp"] as const) {
      const result = await probe({
        server: [net.hosts.relay.ipv4, TURN_PORT],
        transport,
        ...credential(),
        raw: true,
      });
      t.same(result.allocate, { ok: true }, transport);
    }
  });

  t.test("a credential past its expiry is refused with 401", async (t) => {
    const expired = credential(Date.now() - 2 * 3600_000, 3600);
    t.ok(Number(expired.username.split(":")[0]) * 1000 < Date.now(), "the username's expiry has passed");
    for (const transport of ["udp", "tcp"] as const) {
      const result = await probe({
        server: [net.hosts.relay.ipv4, TURN_PORT],
        transport,
        ...expired,
        raw: true,
      });
      t.equal(refusedWith(result.allocate), 401, transport);
    }
  });

  t.test("a forged username or credential is refused with 401", async (t) => {
    const genuine = credential();
    const [expiry, id] = genuine.username.split(":");
    const forgeries = {
      "signed with another secret": mintTurnCredential({
        secret: "not-the-secret",
        ttlSeconds: 600,
        id: "peer-1",
        now: Date.now(),
      }),
      "a later expiry on a genuine credential": {
        username: `${Number(expiry) + 86_400}:${id}`,
        credential: genuine.password,
      },
      "another id on a genuine credential": { username: `${expiry}:peer-2`, credential: genuine.password },
      "a plain user name": { username: "admin", credential: genuine.password },
      "the secret itself as password": { username: genuine.username, credential: SECRET },
    };
    for (const [what, forged] of Object.entries(forgeries)) {
      const result = await probe({
        server: [net.hosts.relay.ipv4, TURN_PORT],
        transport: "udp",
        username: forged.username,
        password: forged.credential,
        raw: true,
      });
      t.equal(refusedWith(result.allocate), 401, what);
    }
  });

  t.test(
    "relaying to loopback, private, CGNAT, metadata and reserved IPv4 addresses is refused with 403",
    async (t) => {
      const denied = [
        "127.0.0.1",
        "127.1.2.3",
        "0.0.0.0",
        "10.0.0.1",
        "172.16.0.1",
        "172.31.255.254",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "192.0.2.1",
        "198.51.100.1",
        "203.0.113.1",
        "255.255.255.255",
      ];
      for (const transport of ["udp", "tcp"] as const) {
        const result = await probe({
          server: [net.hosts.relay.ipv4, TURN_PORT],
          transport,
          ...credential(),
          peers: [...denied.map((ip): [string, number] => [ip, 80]), [net.hosts.tech.ipv4, 80]],
        });
        t.same(result.allocate.ok, true, `${transport}: allocated`);
        const answers = Object.fromEntries(result.permissions.map((p) => [p.peer[0], refusedWith(p.answer)]));
        t.same(
          answers,
          { ...Object.fromEntries(denied.map((ip) => [ip, 403])), [net.hosts.tech.ipv4]: "ok" },
          transport,
        );
      }
    },
  );

  t.test(
    "on an IPv6 relay, ::ffff:127.0.0.1 and the other denied IPv6 forms are refused with 403",
    async (t) => {
      const denied = [
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "::1",
        "::",
        "fd00::1",
        "fe80::1",
        "64:ff9b::7f00:1",
        "2001:db8::1",
      ];
      const result = await probe({
        server: [net.hosts.relay.ipv6, TURN_PORT],
        transport: "udp",
        ...credential(),
        peers: [...denied.map((ip): [string, number] => [ip, 80]), [net.hosts.tech.ipv6, 80]],
      });
      t.same(result.allocate.ok, true, "allocated");
      t.equal(result.allocate.relayed?.[0], net.hosts.relay.ipv6, "an IPv6 relay address");
      // werift prints IPv6 peers in its own form (::ffff:7f00:1): compare in request order.
      t.same(
        result.permissions.map((p) => refusedWith(p.answer)),
        [...denied.map(() => 403), "ok"],
        denied.join(", "),
      );
    },
  );

  t.test("the config denies what it says, and only a test's explicit opt-in allows loopback", async (t) => {
    const { stdout } = await run("cat", [coturn?.configFile ?? ""]);
    t.notMatch(stdout, /^allow-loopback-peers/m, "this test did not opt in");
    t.match(stdout, /^denied-peer-ip=127\.0\.0\.0-127\.255\.255\.255$/m);
    t.match(stdout, /^denied-peer-ip=::ffff:0\.0\.0\.0-::ffff:255\.255\.255\.255$/m);
    t.match(stdout, /^no-tcp-relay$/m);
  });
});
