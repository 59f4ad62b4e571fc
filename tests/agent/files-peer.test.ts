import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t from "tap";
import type { FileLink } from "../../agent/files/file-link.ts";
import { FileTransfers } from "../../agent/files/file-transfers.ts";
import {
  dataChannelIceServers,
  FilesPeer,
  fileLinkOfDataChannel,
  loadDataChannel,
} from "../../agent/peer/files-peer.ts";
import type { SignalData } from "../../shared/signal.ts";

/**
 * The agent's files connection (node-datachannel): the gateway's ICE servers, TURN included, as
 * libdatachannel takes them; and a real file through FilesPeer, signaled as the agent signals it
 * (`peer: "files"`), to a second node-datachannel peer that answers as a console would, SHA-256
 * equal. (A browser on the other end: tests/console/file-transfer.test.ts.)
 */

const ndc = await loadDataChannel();
if (ndc instanceof Error) throw ndc;
t.teardown(() => ndc.cleanup());
const minted = { username: "1900000000:peer", credential: "c2VjcmV0" };

t.test("the gateway's STUN and TURN servers apply to the files connection", async (t) => {
  t.same(
    dataChannelIceServers([
      { urls: ["stun:relay.example:3478"] },
      {
        urls: [
          "turn:relay.example:3478?transport=udp",
          "turn:relay.example?transport=tcp",
          "turns:[2001:db8::1]:443?transport=tcp",
          "https://not.ice",
        ],
        ...minted,
      },
      { urls: ["turn:nocredential.example:3478"] },
    ]),
    [
      { hostname: "relay.example", port: 3478 },
      {
        hostname: "relay.example",
        port: 3478,
        username: minted.username,
        password: "c2VjcmV0",
        relayType: "TurnUdp",
      },
      {
        hostname: "relay.example",
        port: 3478,
        username: minted.username,
        password: "c2VjcmV0",
        relayType: "TurnTcp",
      },
      {
        hostname: "2001:db8::1",
        port: 443,
        username: minted.username,
        password: "c2VjcmV0",
        relayType: "TurnTls",
      },
    ],
    "every STUN and TURN URL with its credential, a TURN URL without one left out, nothing added",
  );
});

t.test("a file over FilesPeer arrives whole, signaled as peer: files", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "sos-files-peer-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const agent = new FilesPeer(ndc, "peer-1", []);
  const technician = new ndc.PeerConnection("technician", { iceServers: [] });
  t.teardown(() => {
    agent.close();
    technician.close();
  });
  const marks: Array<string | undefined> = [];
  agent.on("signal", (data: SignalData) => {
    marks.push(data.peer);
    if (data.kind === "description") technician.setRemoteDescription(data.sdp, data.type);
    else technician.addRemoteCandidate(data.candidate, data.sdpMid ?? "0");
  });
  technician.onLocalDescription((sdp, type) => {
    if (type === "answer") agent.handleSignal({ kind: "description", type, sdp, peer: "files" });
  });
  technician.onLocalCandidate((candidate, mid) =>
    agent.handleSignal({
      kind: "candidate",
      candidate: candidate.replace(/^a=/, ""),
      sdpMid: mid,
      sdpMLineIndex: 0,
      peer: "files",
    }),
  );
  const arrived = new Promise<{ label: string; link: FileLink }>((resolve) =>
    technician.onDataChannel((channel) =>
      resolve({ label: channel.getLabel(), link: fileLinkOfDataChannel(channel) }),
    ),
  );
  const { label, link } = await arrived;
  t.equal(label, "files");

  const sender = new FileTransfers(agent.files, { dir: join(dir, "never"), policy: () => "FILES_REFUSED" });
  const receiver = new FileTransfers(link, { dir: join(dir, "inbox"), policy: () => undefined });
  const data = randomBytes(8 * 1024 * 1024 + 123);
  const source = join(dir, "log.bin");
  await writeFile(source, data);
  const saved = new Promise<string>((resolve, reject) => {
    receiver.on("finished", (done) => resolve(done.path ?? ""));
    receiver.on("failed", (failed) => reject(new Error(failed.code)));
  });
  const acknowledged = new Promise<void>((resolve) => sender.on("finished", () => resolve()));
  await sender.offer(source);
  const path = await saved;
  await acknowledged;
  const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");
  t.equal(sha256(await readFile(path)), sha256(data), "the saved file has the sent file's SHA-256");
  t.ok(marks.length >= 2 && marks.every((mark) => mark === "files"), "every signal is marked peer: files");
  t.ok(agent.files.open, "the channel is open");
  agent.close();
  t.notOk(agent.files.open, "closed with the peer");
});
