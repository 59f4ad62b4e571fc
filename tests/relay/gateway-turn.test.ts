/**
 * The gateway's TURN credentials against a real coturn (the config `npm run turn` uses,
 * scripts/coturn-config.ts) in a network namespace. Needs root (ip netns).
 *
 * A real gateway (port 0, on this host) configured with coturn's URLs and secret opens a remote
 * view; the credential its console and agent are handed allocates on coturn over every URL handed
 * out (werift's TURN client from the `agent` namespace, tests/helpers/turn-probe.ts). A gateway
 * whose secret is not coturn's mints credentials coturn refuses with 401. A view that outlives its
 * first credential gets a renewed one that still allocates once the first is refused.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t from "tap";
import { turnUrls } from "../../scripts/coturn-config.ts";
import { makeTurnCertificate, type RunningCoturn, startCoturn } from "../../scripts/coturn-process.ts";
import type { IceServer } from "../../shared/signal.ts";
import { turnTransportOf } from "../../signaling/turn/relay.ts";
import type { AgentSocket } from "../helpers/clients.ts";
import { joinAgent, openConsoleSocket, startTestGateway } from "../helpers/gateway.ts";
import { createTestNetwork, requireRoot, type TestNetwork } from "../helpers/netns.ts";
import type { ProbeAnswer, ProbeRequest, ProbeResult } from "../helpers/turn-probe.ts";

const PROBE = join(import.meta.dirname, "..", "helpers", "turn-probe.ts");
const SECRET = "gateway-relay-secret-5d2e8b7a";
const TURN_PORT = 3478;
const TLS_PORT = 443;
const SERVER_NAME = "relay.sos.test";

type Hosts = "agent" | "tech" | "relay";
let net: TestNetwork<Hosts>;
let coturn: RunningCoturn | undefined;
let dir: string;
let caFile: string;

requireRoot("tests/relay/gateway-turn.test.ts");

async function probe(request: ProbeRequest): Promise<ProbeResult> {
  const { stdout } = await net.exec("agent", process.execPath, [PROBE, JSON.stringify(request)]);
  return JSON.parse(stdout) as ProbeResult;
}

function outcome(answer: ProbeAnswer): number | "timeout" | "ok" {
  if (answer.ok) return "ok";
  return "timeout" in answer ? "timeout" : answer.code;
}

/** `turn:198.18.87.4:3478?transport=udp` → the probe's server and transport. */
function target(url: string): Pick<ProbeRequest, "server" | "transport"> {
  const match = /^turns?:([^:?]+):(\d+)/.exec(url);
  const transport = turnTransportOf(url);
  if (match === null || transport === undefined) throw new Error(`not a TURN URL with a port: ${url}`);
  return { server: [match[1] ?? "", Number(match[2])], transport };
}

/** A gateway with coturn's URLs and `secret`; opens one remote view and returns its TURN server. */
async function viewTurnServer(
  secret: string,
  turnTtlSeconds?: number,
): Promise<{ turn: IceServer; peerId: string; agent: AgentSocket; close(): Promise<void> }> {
  const relay = net.hosts.relay;
  const gw = await startTestGateway({
    config: { turnUrls: [...turnUrls(relay.ipv4, TURN_PORT, TLS_PORT)], turnSecret: secret },
    options: turnTtlSeconds === undefined ? {} : { turnTtlSeconds },
  });
  const alice = await gw.technician("Alice");
  const session = await gw.newSession(alice.client);
  const aliceConsole = await openConsoleSocket(alice.client);
  const { socket: agent } = await joinAgent(gw.url, { kind: "pin", pin: session.pin });
  await alice.client.post(`/api/sessions/${session.id}/permission`);
  const ask = await agent.next("consent.request");
  agent.send({ type: "consent", requestId: ask.requestId, decision: "control" });
  await aliceConsole.next("session.updated", (m) => m.session.permissions.some((p) => p.state === "granted"));
  aliceConsole.send({ type: "remote.connect", sessionId: session.id });
  const opened = await aliceConsole.next("remote.opened");
  const peerOpen = await agent.next("peer.open");
  const turn = peerOpen.iceServers?.find((server) => server.username !== undefined);
  if (turn === undefined) throw new Error(`no TURN server in ${JSON.stringify(peerOpen)}`);
  return {
    turn,
    peerId: opened.peerId,
    agent,
    async close() {
      aliceConsole.close();
      agent.close();
      await gw.close();
    },
  };
}

t.before(async () => {
  net = await createTestNetwork<Hosts>(["agent", "tech", "relay"]);
  dir = await mkdtemp(join(tmpdir(), "sos-gateway-turn-test-"));
  const relay = net.hosts.relay;
  const certificate = await makeTurnCertificate(dir, { dns: [SERVER_NAME], ips: [relay.ipv4] });
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
      listeningIps: [relay.ipv4],
      relayIps: [relay.ipv4],
    },
  });
});

t.teardown(async () => {
  await coturn?.stop();
  await net?.teardown();
  if (dir) await rm(dir, { recursive: true, force: true });
});

t.test("gateway-minted TURN credentials on a real coturn [needs root, netns]", async (t) => {
  t.afterEach(async (t) => {
    if (!t.passing()) t.comment(`coturn log:\n${coturn?.log().split("\n").slice(-40).join("\n")}`);
  });

  t.test("the credential a remote view is handed allocates on coturn over each URL handed out", async (t) => {
    const view = await viewTurnServer(SECRET);
    t.teardown(() => view.close());
    t.equal(view.turn.username?.split(":")[1], view.peerId, "minted for the view's peer");
    t.same(
      view.turn.urls.map((url) => turnTransportOf(url)),
      ["udp", "tcp", "tls"],
      "UDP, TCP and TLS, in that order",
    );
    for (const url of view.turn.urls) {
      const { server, transport } = target(url);
      const result = await probe({
        server,
        transport,
        username: view.turn.username ?? "",
        password: view.turn.credential ?? "",
        ...(transport === "tls" ? { caFile, servername: SERVER_NAME } : {}),
        peers: [[net.hosts.tech.ipv4, 9]],
      });
      t.equal(outcome(result.allocate), "ok", `${url}: allocated`);
      t.same(
        result.permissions.map((p) => outcome(p.answer)),
        ["ok"],
        `${url}: may relay to the technician`,
      );
    }
  });

  t.test("a credential minted by a gateway with the wrong secret is refused with 401", async (t) => {
    const view = await viewTurnServer("not-the-relays-secret");
    t.teardown(() => view.close());
    for (const url of view.turn.urls.filter((u) => turnTransportOf(u) !== "tls")) {
      const result = await probe({
        ...target(url),
        username: view.turn.username ?? "",
        password: view.turn.credential ?? "",
        raw: true,
      });
      t.equal(outcome(result.allocate), 401, `${url}: 401`);
    }
  });

  t.test(
    "a view that outlives its first credential gets a renewed one that allocates after the first is refused",
    async (t) => {
      // Ten seconds (tests only, below --turn-ttl's floor): renewed at about 8 s, valid until about 18 s.
      const view = await viewTurnServer(SECRET, 10);
      t.teardown(() => view.close());
      const firstExpiry = Number(view.turn.username?.split(":")[0]) * 1000;
      const renewed = await view.agent.next("peer.ice", (m) => m.peerId === view.peerId, 15_000);
      const turn = renewed.iceServers.find((server) => server.username !== undefined);
      if (turn === undefined) throw new Error(`no TURN server in ${JSON.stringify(renewed)}`);
      t.ok(Number(turn.username?.split(":")[0]) * 1000 > firstExpiry, "the renewed credential expires later");
      // What an ICE restart after the first credential's expiry meets: nothing to await but the clock.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, firstExpiry - Date.now()) + 1_000));
      const udp = view.turn.urls.find((url) => turnTransportOf(url) === "udp") ?? "";
      const stale = await probe({
        ...target(udp),
        username: view.turn.username ?? "",
        password: view.turn.credential ?? "",
        raw: true,
      });
      t.equal(outcome(stale.allocate), 401, "the first credential, expired, is refused");
      const fresh = await probe({
        ...target(udp),
        username: turn.username ?? "",
        password: turn.credential ?? "",
        peers: [[net.hosts.tech.ipv4, 9]],
      });
      t.equal(outcome(fresh.allocate), "ok", "the renewed one allocates on coturn");
      t.same(
        fresh.permissions.map((p) => outcome(p.answer)),
        ["ok"],
        "and may relay to the technician",
      );
    },
  );
});
