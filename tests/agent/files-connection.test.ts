import { createSocket } from "node:dgram";
import { once } from "node:events";
import t from "tap";
import type { FileLink } from "../../agent/files/file-link.ts";
import { FilesConnection, type FilesConnectionState } from "../../agent/peer/files-connection.ts";
import { loadDataChannel } from "../../agent/peer/files-peer.ts";
import type { SignalData } from "../../shared/signal.ts";

/**
 * The agent's files connection is kept up (agent/peer/files-connection.ts): one that closes by
 * itself is offered again and its new channel handed out; the new one uses the ICE servers given
 * last; a technician who never answers gets a bounded number of tries. The technician here is a
 * second node-datachannel peer answering each offer on a new connection, as the console does.
 */

const loaded = await loadDataChannel();
if (loaded instanceof Error) throw loaded;
const ndc = loaded;
t.teardown(() => ndc.cleanup());

type Technician = {
  /** The technician's connections, one per offer answered. */
  readonly connections: InstanceType<typeof ndc.PeerConnection>[];
  readonly offers: number;
  close(): void;
};

/** Answers every `peer: "files"` offer of `connection` on a new node-datachannel connection. */
function technician(connection: FilesConnection, answering = true): Technician {
  const connections: InstanceType<typeof ndc.PeerConnection>[] = [];
  let offers = 0;
  connection.on("signal", (data: SignalData) => {
    if (data.kind === "description") {
      offers += 1;
      if (!answering) return;
      const pc = new ndc.PeerConnection(`technician-${offers}`, { iceServers: [] });
      connections.push(pc);
      pc.onLocalDescription((sdp, type) => {
        if (type === "answer") connection.handleSignal({ kind: "description", type, sdp, peer: "files" });
      });
      pc.onLocalCandidate((candidate, mid) =>
        connection.handleSignal({
          kind: "candidate",
          candidate: candidate.replace(/^a=/, ""),
          sdpMid: mid,
          sdpMLineIndex: 0,
          peer: "files",
        }),
      );
      pc.setRemoteDescription(data.sdp, data.type);
      return;
    }
    connections.at(-1)?.addRemoteCandidate(data.candidate, data.sdpMid ?? "0");
  });
  return {
    connections,
    get offers() {
      return offers;
    },
    close: () => {
      for (const pc of connections) pc.close();
    },
  };
}

function untilState(connection: FilesConnection, wanted: FilesConnectionState): Promise<void> {
  return new Promise((resolve) => {
    const check = (state: FilesConnectionState) => {
      if (state !== wanted) return;
      connection.off("state", check);
      resolve();
    };
    connection.on("state", check);
  });
}

t.test(
  "a files connection the technician's side closes is made again, its new channel handed out",
  async (t) => {
    const connection = new FilesConnection({ ndc, peerId: "peer-a", iceServers: [], delaysMs: [50, 50] });
    const other = technician(connection);
    t.teardown(() => {
      connection.close();
      other.close();
    });
    const links: FileLink[] = [];
    const states: FilesConnectionState[] = [];
    connection.on("link", (link) => links.push(link));
    connection.on("state", (state) => states.push(state));
    const opened = untilState(connection, "open");
    connection.start();
    await opened;
    t.equal(links.length, 1, "the first channel");

    const again = untilState(connection, "open");
    other.connections[0]?.close();
    await again;
    t.equal(other.offers, 2, "a second offer");
    t.equal(links.length, 2, "a second channel, handed out");
    t.ok(links[1]?.open, "the new channel is open");
    t.notOk(links[0]?.open, "the old one is closed");
    t.same(states, ["open", "waiting", "connecting", "open"], "lost, waited, made again");

    // A connection that opened counts the tries again: two more losses are made good too.
    for (let n = 0; n < 2; n++) {
      const reopened = untilState(connection, "open");
      other.connections.at(-1)?.close();
      await reopened;
    }
    t.equal(other.offers, 4, "each loss is made good while connections open in between");
  },
);

t.test("a new files connection uses the ICE servers given last", async (t) => {
  // Two STUN "servers": UDP sockets that note each Binding request they get.
  const first = createSocket("udp4");
  const second = createSocket("udp4");
  t.teardown(() => {
    first.close();
    second.close();
  });
  first.bind(0, "127.0.0.1");
  second.bind(0, "127.0.0.1");
  await Promise.all([once(first, "listening"), once(second, "listening")]);
  const stun = (socket: typeof first) => [{ urls: [`stun:127.0.0.1:${socket.address().port}`] }];
  const asked = (socket: typeof first) => once(socket, "message").then(() => true);
  const askedFirst = asked(first);
  const connection = new FilesConnection({ ndc, peerId: "peer-b", iceServers: stun(first), delaysMs: [50] });
  const other = technician(connection);
  t.teardown(() => {
    connection.close();
    other.close();
  });
  const opened = untilState(connection, "open");
  connection.start();
  t.ok(await askedFirst, "the first connection asks the first server");
  await opened;
  connection.renewIceServers(stun(second));
  const askedSecond = asked(second);
  other.connections[0]?.close();
  t.ok(await askedSecond, "the connection made again asks the server given last");
});

t.test("a technician who never answers gets a bounded number of tries", async (t) => {
  const connection = new FilesConnection({
    ndc,
    peerId: "peer-c",
    iceServers: [],
    delaysMs: [10, 10],
    connectTimeoutMs: 300,
  });
  const other = technician(connection, false);
  t.teardown(() => connection.close());
  const reasons: string[] = [];
  connection.on("state", (state, detail) =>
    reasons.push(`${state}${detail.reason ? `: ${detail.reason}` : ""}`),
  );
  const gone = untilState(connection, "gone");
  connection.start();
  await gone;
  t.equal(other.offers, 3, "the first offer and two more");
  t.equal(reasons.at(-1), "gone: no connection in time; no tries left");
  connection.handleSignal({ kind: "candidate", candidate: "", sdpMid: "0", sdpMLineIndex: 0, peer: "files" });
  t.equal(connection.state, "gone", "and stays gone");
});
