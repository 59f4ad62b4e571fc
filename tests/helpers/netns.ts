/**
 * Small networks of Linux network namespaces for the relay tests (needs root, iproute2, iptables).
 *
 * Each host (`agent`, `tech`, `relay`, ...) is a namespace with one interface `eth0` plugged into a
 * bridge that lives in its own "switch" namespace. The switch holds the router address every host
 * uses as its default route (Chromium offers no host candidate in a namespace without a default
 * route) but forwards nothing and has no uplink: no packet leaves these namespaces.
 *
 * Addresses: 198.18.87.0/24 and 2001:2:0:87::/64, the benchmarking ranges (RFC 2544, RFC 5180)
 * meant for isolated test networks. Not RFC 1918 on purpose: coturn's config denies relaying to
 * private ranges, and the relay tests need peers the production config lets it reach.
 *
 * Namespaces are named `sosnet-<pid>-<n>-<host>`; creating a network first removes the namespaces of
 * earlier runs whose process is gone (a crashed run), and kills what still runs inside them.
 */
import { type ChildProcess, execFile, type SpawnOptions, spawn } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

const PREFIX = "sosnet-";
const SUBNET4 = "198.18.87";
const SUBNET6 = "2001:2:0:87";
/** Numbers this process's networks, so two at once get different namespace names. */
let networksMade = 0;

export type NetHost = {
  readonly name: string;
  /** The namespace's name, for `ip netns exec`. */
  readonly ns: string;
  readonly ipv4: string;
  readonly ipv6: string;
};

export type TestNetwork<H extends string> = {
  readonly hosts: { readonly [K in H]: NetHost };
  /** The switch's router address (every host's default route); it forwards nothing. */
  readonly gateway: { readonly ipv4: string; readonly ipv6: string };
  /** Runs a command inside a host's namespace and returns its output; rejects on a non-zero exit. */
  exec(host: H, command: string, args: readonly string[]): Promise<{ stdout: string; stderr: string }>;
  /** Starts a long-running command inside a host's namespace; killed at teardown if still running. */
  spawn(host: H, command: string, args: readonly string[], options?: SpawnOptions): ChildProcess;
  /** `a` and `b` drop every packet between each other (both directions, IPv4 and IPv6). */
  blockBetween(a: H, b: H): Promise<void>;
  /** The host drops all UDP except on its loopback (IPv4 and IPv6). */
  dropUdp(host: H): Promise<void>;
  /**
   * The strict firewall: the host may only open TCP connections to `target` on `port` (and use its
   * loopback); every other packet in or out is dropped, all UDP included.
   */
  allowOnlyTcpTo(host: H, target: H, port: number): Promise<void>;
  /** Removes every firewall rule of a host. */
  resetFirewall(host: H): Promise<void>;
  /** Kills what spawn() started and deletes the namespaces; safe to call twice. */
  teardown(): Promise<void>;
};

async function ip(args: readonly string[]): Promise<void> {
  await run("ip", args);
}

async function inNs(ns: string, command: string, args: readonly string[]) {
  return run("ip", ["netns", "exec", ns, command, ...args]);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function listNamespaces(): Promise<string[]> {
  const { stdout } = await run("ip", ["netns", "list"]);
  return stdout
    .split("\n")
    .map((line) => line.split(" ")[0] ?? "")
    .filter((name) => name.startsWith(PREFIX));
}

/** Kills the processes inside a namespace (by their pids) and deletes it. */
async function deleteNamespace(ns: string): Promise<void> {
  const { stdout } = await run("ip", ["netns", "pids", ns]).catch(() => ({ stdout: "" }));
  for (const pid of stdout
    .split("\n")
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  await ip(["netns", "delete", ns]).catch(() => undefined);
}

/** Deletes the namespaces of earlier runs whose process has ended. */
export async function removeStaleNetworks(): Promise<void> {
  for (const ns of await listNamespaces()) {
    const pid = Number(ns.slice(PREFIX.length).split("-")[0]);
    if (Number.isInteger(pid) && pid !== process.pid && !processAlive(pid)) await deleteNamespace(ns);
  }
}

/**
 * Builds the network: one namespace per host, numbered .2, .3, ... in the order given, the switch
 * on .1. Expensive (a second or so): build once per test file.
 */
export async function createTestNetwork<const H extends string>(
  names: readonly H[],
): Promise<TestNetwork<H>> {
  if (names.length === 0 || names.length > 200) throw new RangeError("between 1 and 200 hosts");
  await removeStaleNetworks();
  networksMade += 1;
  const base = `${PREFIX}${process.pid}-${networksMade}-`;
  const switchNs = `${base}sw`;
  const created: string[] = [];
  const children = new Set<ChildProcess>();
  let tornDown = false;

  const teardown = async () => {
    if (tornDown) return;
    tornDown = true;
    const exits = [...children].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once("exit", () => resolve());
          child.kill("SIGKILL");
        }),
    );
    await Promise.all(exits);
    for (const ns of created.reverse()) await deleteNamespace(ns);
  };

  const hosts = {} as { [K in H]: NetHost };
  try {
    await ip(["netns", "add", switchNs]);
    created.push(switchNs);
    await inNs(switchNs, "ip", ["link", "set", "lo", "up"]);
    await inNs(switchNs, "ip", ["link", "add", "br0", "type", "bridge"]);
    await inNs(switchNs, "sysctl", ["-q", "-w", "net.ipv6.conf.br0.accept_dad=0"]);
    await inNs(switchNs, "ip", ["addr", "add", `${SUBNET4}.1/24`, "dev", "br0"]);
    await inNs(switchNs, "ip", ["-6", "addr", "add", `${SUBNET6}::1/64`, "dev", "br0", "nodad"]);
    await inNs(switchNs, "ip", ["link", "set", "br0", "up"]);

    for (const [index, name] of names.entries()) {
      if (!/^[a-z][a-z0-9]{0,11}$/.test(name)) throw new RangeError(`host name ${name}: a-z0-9, up to 12`);
      const ns = `${base}${name}`;
      const host: NetHost = { name, ns, ipv4: `${SUBNET4}.${index + 2}`, ipv6: `${SUBNET6}::${index + 2}` };
      await ip(["netns", "add", ns]);
      created.push(ns);
      // One veth pair: eth0 in the host, its peer (named after the host) on the switch's bridge.
      await ip(["link", "add", "eth0", "netns", ns, "type", "veth", "peer", "name", name, "netns", switchNs]);
      await inNs(switchNs, "ip", ["link", "set", name, "master", "br0", "up"]);
      await inNs(ns, "ip", ["link", "set", "lo", "up"]);
      await inNs(ns, "sysctl", ["-q", "-w", "net.ipv6.conf.eth0.accept_dad=0"]);
      await inNs(ns, "ip", ["addr", "add", `${host.ipv4}/24`, "dev", "eth0"]);
      await inNs(ns, "ip", ["-6", "addr", "add", `${host.ipv6}/64`, "dev", "eth0", "nodad"]);
      await inNs(ns, "ip", ["link", "set", "eth0", "up"]);
      await inNs(ns, "ip", ["route", "add", "default", "via", `${SUBNET4}.1`]);
      await inNs(ns, "ip", ["-6", "route", "add", "default", "via", `${SUBNET6}::1`]);
      hosts[name] = host;
    }
  } catch (error) {
    await teardown();
    throw error;
  }

  const nsOf = (host: H): string => hosts[host].ns;
  const both = async (host: H, args: readonly string[]) => {
    await inNs(nsOf(host), "iptables", args);
    await inNs(nsOf(host), "ip6tables", args);
  };

  return {
    hosts,
    gateway: { ipv4: `${SUBNET4}.1`, ipv6: `${SUBNET6}::1` },
    exec: (host, command, args) => inNs(nsOf(host), command, args),
    spawn(host, command, args, options = {}) {
      if (tornDown) throw new Error("the test network is torn down");
      const child = spawn("ip", ["netns", "exec", nsOf(host), command, ...args], options);
      children.add(child);
      child.once("exit", () => children.delete(child));
      return child;
    },
    async blockBetween(a, b) {
      for (const [self, other] of [
        [a, b],
        [b, a],
      ] as const) {
        const peer = hosts[other];
        for (const [tool, address] of [
          ["iptables", peer.ipv4],
          ["ip6tables", peer.ipv6],
        ] as const) {
          await inNs(nsOf(self), tool, ["-A", "OUTPUT", "-d", address, "-j", "DROP"]);
          await inNs(nsOf(self), tool, ["-A", "INPUT", "-s", address, "-j", "DROP"]);
        }
      }
    },
    async dropUdp(host) {
      for (const chain of ["INPUT", "OUTPUT"]) {
        const iface = chain === "INPUT" ? "-i" : "-o";
        await both(host, ["-A", chain, iface, "lo", "-j", "ACCEPT"]);
        await both(host, ["-A", chain, "-p", "udp", "-j", "DROP"]);
      }
    },
    async allowOnlyTcpTo(host, target, port) {
      const to = hosts[target];
      for (const chain of ["INPUT", "OUTPUT"]) {
        const iface = chain === "INPUT" ? "-i" : "-o";
        await both(host, ["-A", chain, iface, "lo", "-j", "ACCEPT"]);
        await both(host, [
          "-A",
          chain,
          "-m",
          "conntrack",
          "--ctstate",
          "ESTABLISHED,RELATED",
          "-j",
          "ACCEPT",
        ]);
      }
      await inNs(nsOf(host), "iptables", [
        "-A",
        "OUTPUT",
        "-p",
        "tcp",
        "-d",
        to.ipv4,
        "--dport",
        String(port),
        "-j",
        "ACCEPT",
      ]);
      await inNs(nsOf(host), "ip6tables", [
        "-A",
        "OUTPUT",
        "-p",
        "tcp",
        "-d",
        to.ipv6,
        "--dport",
        String(port),
        "-j",
        "ACCEPT",
      ]);
      for (const chain of ["INPUT", "OUTPUT"]) await both(host, ["-A", chain, "-j", "DROP"]);
    },
    async resetFirewall(host) {
      await both(host, ["-F"]);
    },
    teardown,
  };
}

/**
 * One more TCP destination for a host under allowOnlyTcpTo's strict firewall (its gateway, say):
 * new connections to `target` on `port` are accepted ahead of the final DROP (IPv4 and IPv6).
 * Added after allowOnlyTcpTo; resetFirewall removes it with the rest.
 */
export function allowAlsoTcpTo<H extends string>(
  net: TestNetwork<H>,
  host: H,
  target: H,
  port: number,
): Promise<void> {
  return insertRule(net, host, target, ["-p", "tcp", "--dport", String(port), "-j", "ACCEPT"]);
}

/** As allowAlsoTcpTo, for UDP: datagrams to `target` on `port` (and their answers) pass. */
export function allowAlsoUdpTo<H extends string>(
  net: TestNetwork<H>,
  host: H,
  target: H,
  port: number,
): Promise<void> {
  return insertRule(net, host, target, ["-p", "udp", "--dport", String(port), "-j", "ACCEPT"]);
}

/**
 * A host's network stops letting any UDP through to `target`, flows already open included
 * (allowOnlyTcpTo's strict firewall lets established flows pass): a network change, which ends
 * the old flows to the relay's TURN port and to its relayed addresses alike. resetFirewall
 * removes it.
 */
export function blockUdpTo<H extends string>(net: TestNetwork<H>, host: H, target: H): Promise<void> {
  return insertRule(net, host, target, ["-p", "udp", "-j", "DROP"]);
}

/**
 * A host's network stops letting TCP through to `target` on `port`, open connections included,
 * ahead of every other rule (a network change: the new one blocks that port; IPv4 and IPv6).
 * resetFirewall removes it.
 */
export function blockTcpTo<H extends string>(
  net: TestNetwork<H>,
  host: H,
  target: H,
  port: number,
): Promise<void> {
  return insertRule(net, host, target, ["-p", "tcp", "--dport", String(port), "-j", "DROP"]);
}

/** Puts `rule` for packets to `target` first in the host's OUTPUT chain (IPv4 and IPv6). */
async function insertRule<H extends string>(
  net: TestNetwork<H>,
  host: H,
  target: H,
  rule: readonly string[],
): Promise<void> {
  const to = net.hosts[target];
  for (const [tool, address] of [
    ["iptables", to.ipv4],
    ["ip6tables", to.ipv6],
  ] as const) {
    await net.exec(host, tool, ["-I", "OUTPUT", "1", "-d", address, ...rule]);
  }
}

/**
 * The relay tests build hosts with `ip netns` and `iptables`, which need root. They fail at once
 * with this reason rather than skip: CI runs as root, and a skipped test would hide a failure.
 */
export function requireRoot(file: string): void {
  if (process.getuid?.() !== 0) {
    throw new Error(
      `${file} needs root (network namespaces and iptables): run the suite as root, as CI does`,
    );
  }
}

/** What countOutsideTraffic has counted so far (IPv4 and IPv6 together). */
export type OutsideTraffic = {
  /** Packets to an address outside the test network, other than over loopback. */
  readonly outside: number;
  /** Packets to port 53 (UDP or TCP), loopback included: DNS queries, wherever the resolver is. */
  readonly dns: number;
};

const OUTSIDE_RULE = "sos-count-outside";
const DNS_RULE = "sos-count-dns";

/**
 * Counts what a host sends where it should not: rules without a target (packets pass on) at the
 * top of its OUTPUT chain, IPv4 and IPv6, for packets leaving the test network other than over
 * loopback (ICMPv6 left out: the kernel's own neighbour discovery and MLD to link-local
 * multicast) and for DNS queries (port 53, UDP and TCP, any interface: a resolver on 127.0.0.53
 * counts too). Read with `iptables -L OUTPUT -v -x -n`; resetFirewall removes the rules.
 */
export async function countOutsideTraffic<H extends string>(
  net: TestNetwork<H>,
  host: H,
): Promise<{ read(): Promise<OutsideTraffic>; zero(): Promise<void> }> {
  const rules = [
    ["iptables", ["!", "-o", "lo", "!", "-d", `${SUBNET4}.0/24`]],
    ["ip6tables", ["!", "-o", "lo", "!", "-d", `${SUBNET6}::/64`, "!", "-p", "ipv6-icmp"]],
  ] as const;
  for (const [tool, match] of rules) {
    for (const protocol of ["udp", "tcp"]) {
      await net.exec(host, tool, [
        "-I",
        "OUTPUT",
        "1",
        "-p",
        protocol,
        "--dport",
        "53",
        "-m",
        "comment",
        "--comment",
        DNS_RULE,
      ]);
    }
    await net.exec(host, tool, ["-I", "OUTPUT", "1", ...match, "-m", "comment", "--comment", OUTSIDE_RULE]);
  }
  const read = async (): Promise<OutsideTraffic> => {
    let outside = 0;
    let dns = 0;
    for (const tool of ["iptables", "ip6tables"]) {
      const { stdout } = await net.exec(host, tool, ["-L", "OUTPUT", "-v", "-x", "-n"]);
      for (const line of stdout.split("\n")) {
        const packets = Number(line.trim().split(/\s+/)[0]);
        if (!Number.isInteger(packets)) continue;
        if (line.includes(`/* ${OUTSIDE_RULE} */`)) outside += packets;
        else if (line.includes(`/* ${DNS_RULE} */`)) dns += packets;
      }
    }
    return { outside, dns };
  };
  return {
    read,
    async zero() {
      await net.exec(host, "iptables", ["-Z", "OUTPUT"]);
      await net.exec(host, "ip6tables", ["-Z", "OUTPUT"]);
    },
  };
}

/**
 * A resolver that never answers: whatever this machine's resolv.conf names, the host's DNS queries
 * get no reply and no error. A firewall that eats them does this, and so does this network for a
 * resolver outside it (the switch forwards nothing and says nothing). Added to INPUT: answers from
 * port 53 (UDP and TCP, a TCP reset included) and ICMP destination-unreachable (what a loopback
 * resolver with nothing listening would send back) are dropped. Queries still leave, so
 * countOutsideTraffic counts them. resetFirewall removes the rules.
 */
export async function dnsNeverAnswers<H extends string>(net: TestNetwork<H>, host: H): Promise<void> {
  for (const [tool, icmp] of [
    ["iptables", ["-p", "icmp", "--icmp-type", "destination-unreachable"]],
    ["ip6tables", ["-p", "ipv6-icmp", "--icmpv6-type", "destination-unreachable"]],
  ] as const) {
    for (const protocol of ["udp", "tcp"]) {
      await net.exec(host, tool, ["-A", "INPUT", "-p", protocol, "--sport", "53", "-j", "DROP"]);
    }
    await net.exec(host, tool, ["-A", "INPUT", ...icmp, "-j", "DROP"]);
  }
}
