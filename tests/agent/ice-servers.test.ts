import t from "tap";
import { attemptCovers, attemptTransport, iceAttempts, urlKind } from "../../agent/peer/ice-servers.ts";
import { agentPeerConnection } from "../../agent/peer/peer-connection.ts";

/** The agent's ICE servers: exactly the gateway's, one TURN transport per attempt. */

const minted = { username: "1900000000:peer", credential: "c2VjcmV0" };

t.test("urls are read the way werift reads them", async (t) => {
  t.equal(urlKind("stun:relay.example:3478"), "stun");
  t.equal(urlKind("turn:relay.example:3478"), "udp");
  t.equal(urlKind("turn:relay.example:3478?transport=udp"), "udp");
  t.equal(urlKind("turn:relay.example:3478?transport=tcp"), "tcp");
  t.equal(urlKind("turns:relay.example:443?transport=tcp"), "tls");
  t.equal(urlKind("turns:relay.example:443"), "tls");
  t.equal(urlKind("turns:relay.example:443?transport=udp"), undefined, "werift drops DTLS TURN");
  t.equal(urlKind("https://relay.example"), undefined);
});

t.test(
  "each attempt has the gateway's STUN and one TURN transport, in the order UDP, TCP, TLS",
  async (t) => {
    const attempts = iceAttempts([
      { urls: ["stun:relay.example:3478"] },
      {
        urls: [
          "turns:relay.example:443?transport=tcp",
          "turn:relay.example:3478?transport=tcp",
          "turn:relay.example:3478?transport=udp",
        ],
        ...minted,
      },
    ]);
    t.same(attempts.map(attemptTransport), ["udp", "tcp", "tls"]);
    for (const attempt of attempts) {
      t.same(attempt[0], { urls: ["stun:relay.example:3478"] }, "the STUN server comes first");
      t.equal(attempt.length, 2, "one TURN URL per attempt: werift would ignore a second");
      t.equal(attempt[1]?.username, minted.username);
    }
  },
);

t.test(
  "without ICE servers there is one attempt with nothing in it, and TURN without a credential is left out",
  async (t) => {
    t.same(iceAttempts([]), [[]]);
    t.same(iceAttempts([{ urls: ["turn:relay.example:3478"] }]), [[]]);
  },
);

async function gathered(iceServers: Parameters<typeof agentPeerConnection>[1]) {
  const { pc } = agentPeerConnection({ preferred: "h264", h264Profile: "high" }, iceServers);
  const started = performance.now();
  await pc.setLocalDescription(await pc.createOffer());
  while (pc.iceGatheringState !== "complete") await pc.iceGatheringStateChange.asPromise();
  const ms = performance.now() - started;
  const connection = pc.iceTransports[0]?.connection;
  const stunServer = connection?.stunServer;
  const candidates = connection?.localCandidates.map((candidate) => candidate.type) ?? [];
  await pc.close();
  return { ms, stunServer, candidates };
}

t.test(
  "a TURN/UDP attempt also tries TURN/TCP on the same address (werift's fallback), and only that",
  async (t) => {
    const turn = (urls: string[]) => iceAttempts([{ urls, ...minted }]);
    t.same(
      attemptCovers(
        turn([
          "turn:relay.example:3478?transport=udp",
          "turn:relay.example:3478?transport=tcp",
          "turns:relay.example:443?transport=tcp",
        ]),
      ),
      [[1], [], []],
      "UDP covers TCP to the same port; TLS is its own",
    );
    t.same(
      attemptCovers(turn(["turn:relay.example", "turn:relay.example:3478?transport=tcp"])),
      [[1], []],
      "no port is werift's 3478",
    );
    t.same(
      attemptCovers(turn(["turn:[2001:db8::1]:3478", "turn:[2001:db8::1]:3478?transport=tcp"])),
      [[1], []],
      "IPv6",
    );
    t.same(
      attemptCovers(turn(["turn:relay.example:3478", "turn:relay.example:80?transport=tcp"])),
      [[], []],
      "TCP on another port is tried on its own",
    );
    t.same(
      attemptCovers(turn(["turn:relay.example:3478", "turn:other.example:3478?transport=tcp"])),
      [[], []],
      "or on another host",
    );
    t.same(attemptCovers(iceAttempts([])), [[]], "no TURN: nothing covered");
  },
);

t.test("with no ICE servers the agent's peer asks no STUN server (werift would ask Google's)", async (t) => {
  const { ms, stunServer, candidates } = await gathered([]);
  t.equal(stunServer, undefined, "no STUN server, not stun.l.google.com");
  t.ok(
    candidates.every((type) => type === "host"),
    `host candidates only: ${candidates.join(",")}`,
  );
  t.ok(ms < 2_000, `gathering is not held up by a lookup (${Math.round(ms)} ms)`);
});

t.test("a STUN server the gateway names is the one used", async (t) => {
  // 198.18.87.1 is a test address nothing answers on here; only the configured server matters.
  const { pc } = agentPeerConnection({ preferred: "h264", h264Profile: "high" }, [
    { urls: ["stun:198.18.87.1:3478"] },
  ]);
  t.same(pc.iceTransports[0]?.connection.stunServer, ["198.18.87.1", 3478]);
  await pc.close();
});
