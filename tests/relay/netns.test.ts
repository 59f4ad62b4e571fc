/**
 * The test-network helper itself (tests/helpers/netns.ts), in real namespaces. Needs root.
 * A listener in `tech` and `relay` accepts TCP and echoes UDP on 443 and 3478; a client in `agent`
 * reports each path open or blocked (a blocked path is one that stays silent for 1 s).
 */
import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import t from "tap";
import { createTestNetwork, removeStaleNetworks, requireRoot, type TestNetwork } from "../helpers/netns.ts";

const run = promisify(execFile);
requireRoot("tests/relay/netns.test.ts");
const PORTS = [443, 3478];

const LISTENER = `
const net = require("node:net"), dgram = require("node:dgram");
let pending = ${PORTS.length * 2};
const up = () => { if (--pending === 0) console.log("ready"); };
for (const port of ${JSON.stringify(PORTS)}) {
  net.createServer((s) => s.on("error", () => {}).end("hi")).listen({ port, host: "::" }, up);
  const u = dgram.createSocket({ type: "udp6" });
  u.on("message", (m, r) => u.send(m, r.port, r.address));
  u.bind(port, "::", up);
}`;

const CLIENT = `
const [proto, host, port] = process.argv.slice(1);
const done = (r) => { console.log(r); process.exit(0); };
setTimeout(() => done("blocked"), 1000);
if (proto === "tcp") {
  require("node:net").connect({ host, port: Number(port) }, () => done("open")).on("error", () => done("blocked"));
} else {
  const u = require("node:dgram").createSocket(host.includes(":") ? "udp6" : "udp4");
  u.on("message", () => done("open"));
  u.send("ping", Number(port), host);
}`;

type Hosts = "agent" | "tech" | "relay";
let net: TestNetwork<Hosts>;

/** "open" or "blocked", for each [proto, host address, port] from the agent. */
async function paths(checks: readonly (readonly ["tcp" | "udp", string, number])[]): Promise<string[]> {
  return Promise.all(
    checks.map(async ([proto, host, port]) => {
      const { stdout } = await net.exec("agent", process.execPath, ["-e", CLIENT, proto, host, String(port)]);
      return stdout.trim();
    }),
  );
}

t.before(async () => {
  net = await createTestNetwork<Hosts>(["agent", "tech", "relay"]);
  for (const host of ["tech", "relay"] as const) {
    const listener = net.spawn(host, process.execPath, ["-e", LISTENER], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const lines = createInterface({ input: listener.stdout ?? process.stdin });
    await once(lines, "line");
  }
});

t.teardown(async () => {
  await net?.teardown();
});

t.test("test networks in namespaces [needs root, netns]", async (t) => {
  t.afterEach(async () => {
    for (const host of ["agent", "tech", "relay"] as const) await net.resetFirewall(host);
  });

  t.test(
    "every host has a default route via the switch, and reaches the others over TCP and UDP",
    async (t) => {
      for (const host of ["agent", "tech", "relay"] as const) {
        const { stdout } = await net.exec(host, "ip", ["route", "show", "default"]);
        t.match(stdout, `default via ${net.gateway.ipv4}`, host);
      }
      const { tech, relay } = net.hosts;
      t.same(
        await paths([
          ["tcp", tech.ipv4, 3478],
          ["udp", tech.ipv4, 3478],
          ["tcp", relay.ipv6, 443],
          ["udp", relay.ipv6, 3478],
        ]),
        ["open", "open", "open", "open"],
      );
    },
  );

  t.test(
    "blockBetween cuts agent and tech apart (IPv4 and IPv6) and leaves the relay reachable",
    async (t) => {
      await net.blockBetween("agent", "tech");
      const { tech, relay } = net.hosts;
      t.same(
        await paths([
          ["tcp", tech.ipv4, 3478],
          ["udp", tech.ipv4, 3478],
          ["udp", tech.ipv6, 3478],
          ["udp", relay.ipv4, 3478],
        ]),
        ["blocked", "blocked", "blocked", "open"],
      );
    },
  );

  t.test("dropUdp drops UDP and leaves TCP", async (t) => {
    await net.dropUdp("agent");
    const { relay } = net.hosts;
    t.same(
      await paths([
        ["udp", relay.ipv4, 3478],
        ["udp", relay.ipv6, 3478],
        ["tcp", relay.ipv4, 3478],
      ]),
      ["blocked", "blocked", "open"],
    );
  });

  t.test("allowOnlyTcpTo leaves exactly TCP to the relay's one port", async (t) => {
    await net.allowOnlyTcpTo("agent", "relay", 443);
    const { tech, relay } = net.hosts;
    t.same(
      await paths([
        ["tcp", relay.ipv4, 443],
        ["tcp", relay.ipv6, 443],
        ["tcp", relay.ipv4, 3478],
        ["udp", relay.ipv4, 443],
        ["tcp", tech.ipv4, 443],
      ]),
      ["open", "open", "blocked", "blocked", "blocked"],
    );
  });

  t.test("a crashed run's namespaces are removed, and teardown is safe twice", async (t) => {
    const gone = spawn(process.execPath, ["-e", ""]);
    await once(gone, "exit");
    const stale = `sosnet-${gone.pid}-left`;
    await run("ip", ["netns", "add", stale]);
    await removeStaleNetworks();
    const solo = await createTestNetwork(["solo"]);
    const names = async () => (await run("ip", ["netns", "list"])).stdout;
    t.notMatch(await names(), stale, "the dead run's namespace is gone");
    t.match(await names(), solo.hosts.solo.ns);
    await solo.teardown();
    await solo.teardown();
    t.notMatch(await names(), solo.hosts.solo.ns, "torn down");
    t.match(await names(), net.hosts.agent.ns, "the other network is untouched");
  });
});
