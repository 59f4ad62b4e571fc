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
import { launchBrowser } from "../helpers/browser.ts";
import { pairFilesPeer, technicianChannel } from "../helpers/files-technician.ts";

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
  pairFilesPeer(agent, technician, (data) => marks.push(data.peer));

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

t.test("the technician's candidates before their answer are kept until it comes", async (t) => {
  const agent = new FilesPeer(ndc, "peer-2", []);
  const technician = new ndc.PeerConnection("technician-2", { iceServers: [] });
  t.teardown(() => {
    agent.close();
    technician.close();
  });
  agent.on("signal", (data: SignalData) => {
    if (data.kind === "description") technician.setRemoteDescription(data.sdp, data.type);
    else technician.addRemoteCandidate(data.candidate, data.sdpMid ?? "0");
  });
  // The technician's signals are held until its gathering ends, then handed over candidates first
  // (libdatachannel delivers a description and candidates through separate callbacks, and a
  // console's may cross on their way): the agent must not lose them.
  let answer: SignalData | undefined;
  const candidates: SignalData[] = [];
  technician.onLocalDescription((sdp, type) => {
    if (type === "answer") answer = { kind: "description", type, sdp, peer: "files" };
  });
  technician.onLocalCandidate((candidate, mid) =>
    candidates.push({
      kind: "candidate",
      candidate: candidate.replace(/^a=/, ""),
      sdpMid: mid,
      sdpMLineIndex: 0,
      peer: "files",
    }),
  );
  const gathered = new Promise<void>((resolve) =>
    technician.onGatheringStateChange((state) => {
      if (state === "complete") resolve();
    }),
  );
  const arrived = new Promise<string>((resolve) =>
    technician.onDataChannel((channel) => resolve(channel.getLabel())),
  );
  await gathered;
  t.ok(answer !== undefined && candidates.length > 0, "an answer and candidates to hand over");
  for (const candidate of candidates) t.doesNotThrow(() => agent.handleSignal(candidate));
  if (answer !== undefined) agent.handleSignal(answer);
  t.equal(await arrived, "files", "the files channel opens");
});

t.test("the browser cannot reach the agent before its answer has", async (t) => {
  // Chromium, given the offer and the agent's candidates, makes ICE writable at once and starts
  // DTLS (as the client) while its answer still takes the longer way, through the gateway. When
  // that handshake meets the answer being set, libdatachannel checks the browser's certificate
  // before it holds the answer's fingerprint ("certificate verify failed") and the files
  // connection fails for good: the console's "Send files" stayed disabled. The agent holds its
  // candidates until the answer is set, so the browser cannot reach it earlier.
  const browser = await launchBrowser();
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  /** The browser's signals, held (a slow relay) until its ICE connects or a second has passed. */
  const held: SignalData[] = [];
  let connectedEarly = false;
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let relay = (data: SignalData): void => void held.push(data);
  await page.exposeFunction("toAgent", (data: SignalData) => relay({ ...data, peer: "files" }));
  await page.exposeFunction("iceConnected", () => {
    connectedEarly = true;
    release();
  });
  await page.evaluate(() => {
    const pc = new RTCPeerConnection();
    const page = window as unknown as { toAgent: (data: SignalData) => void; iceConnected: () => void };
    pc.onicecandidate = ({ candidate }) => {
      if (candidate === null || candidate.candidate === "") return;
      page.toAgent({
        kind: "candidate",
        candidate: candidate.candidate,
        sdpMid: candidate.sdpMid,
        sdpMLineIndex: candidate.sdpMLineIndex,
      });
    };
    pc.oniceconnectionstatechange = () => {
      if (pc.iceConnectionState === "connected") page.iceConnected();
    };
    const opened = new Promise<string>((resolve) => {
      pc.ondatachannel = ({ channel }) => {
        if (channel.readyState === "open") resolve(channel.label);
        else channel.onopen = () => resolve(channel.label);
      };
    });
    let queue = Promise.resolve();
    const handle = (data: SignalData): void => {
      queue = queue.then(async () => {
        if (data.kind === "candidate") await pc.addIceCandidate(data);
        else {
          await pc.setRemoteDescription({ type: data.type, sdp: data.sdp });
          const answer = await pc.createAnswer();
          await pc.setLocalDescription(answer);
          page.toAgent({ kind: "description", type: "answer", sdp: answer.sdp ?? "" });
        }
      });
    };
    Object.assign(window, { handle, opened });
  });
  const agent = new FilesPeer(ndc, "peer-3", []);
  t.teardown(() => agent.close());
  const agentStates: string[] = [];
  agent.on("state", (state) => agentStates.push(state));
  const failed = new Promise<string>((resolve) =>
    agent.once("closed", () => resolve(`failed (${agentStates.join(", ")})`)),
  );
  agent.on("signal", (data: SignalData) => {
    void page.evaluate(
      (signal) => (window as unknown as { handle: (s: SignalData) => void }).handle(signal),
      data,
    );
  });
  const timer = setTimeout(release, 1_000);
  await released;
  clearTimeout(timer);
  t.notOk(connectedEarly, "the browser's ICE did not connect before the agent had its answer");
  t.ok(
    held.some((signal) => signal.kind === "description"),
    "the browser answered meanwhile",
  );
  // From now on the relay is quick.
  relay = (data) => agent.handleSignal(data);
  for (const signal of held.splice(0)) agent.handleSignal(signal);
  const opened = page.evaluate(() => (window as unknown as { opened: Promise<string> }).opened);
  t.equal(await Promise.race([opened, failed]), "files", "the files channel opens in the browser");
});

t.test("sending on a files channel that closed meanwhile drops the message and does not throw", async (t) => {
  // A write of an incoming file that finishes after the connection went tells its progress on
  // the closed channel: libdatachannel throws there, and that ended the agent (seen in CI).
  const agent = new FilesPeer(ndc, "closing", []);
  const { pc } = await technicianChannel(ndc, agent, "closing");
  t.teardown(() => agent.close());
  await new Promise<void>((resolve) => agent.files.onOpen(resolve));
  const closed = new Promise<void>((resolve) => agent.files.onClose(resolve));
  pc.close();
  await closed;
  t.equal(agent.files.open, false, "the channel is closed");
  t.doesNotThrow(() => agent.files.send(JSON.stringify({ type: "file.progress", id: 1, received: 1 })));
  t.doesNotThrow(() => agent.files.send(Buffer.alloc(16)));
});
