/**
 * `npm run bench:files [-- --size <MB>] [--stack node-datachannel|werift]`: one file (1 GB by
 * default) over the `files` data channel on loopback, with the same channel kind's raw throughput
 * measured beside it, in one run on the same pair of peers. Not a timed test: it prints a table and
 * writes bench-results/files.json.
 *
 * Both ends are the chosen stack in this one process: node-datachannel (libdatachannel, native; the
 * agent's files connection, files-peer.ts) by default, or werift (pure JavaScript SCTP; the view's
 * connection, which carries files when the addon cannot load). The
 * sender as the agent sends (agent/files/file-transfers.ts, reading the file, flow control at
 * FILE_BUFFER_HIGH_BYTES/LOW) and the receiver as the agent receives (writing to a temporary file,
 * SHA-256, rename). A browser technician's side is Chromium's SCTP instead, which is not measured
 * here. The raw round sends FILE_MESSAGE_BYTES messages of zeros with the same flow control and
 * counts them on arrival; a 16 MB raw warm-up before it is not counted. Where the time goes (CPU
 * profile, --cpu-prof) with werift: per SCTP packet of ~1.2 KB, a UDP send, an AES-GCM cipher made anew for
 * the DTLS record and another on the receiving end, CRC32c, and a SACK back for every packet.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { mkdtemp, open, rm, stat } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type RTCDataChannel, RTCPeerConnection } from "werift";
import type { FileLink } from "../agent/files/file-link.ts";
import { FileTransfers, hashFile } from "../agent/files/file-transfers.ts";
import { keyObjectsForDtls } from "../agent/peer/dtls-keys.ts";
import { fileLinkOfDataChannel, loadDataChannel } from "../agent/peer/files-peer.ts";
import { fileLinkOf } from "../agent/peer/technician-peer.ts";
import { FILES_CHANNEL_LABEL } from "../shared/file-transfer.ts";
import { FILE_BUFFER_HIGH_BYTES, FILE_BUFFER_LOW_BYTES, FILE_MESSAGE_BYTES } from "../shared/limits.ts";

const { values: options } = parseArgs({
  options: {
    size: { type: "string", default: "1024" },
    stack: { type: "string", default: "node-datachannel" },
  },
});
const SIZE = Math.round(Number(options.size) * 1024 * 1024);
if (!Number.isFinite(SIZE) || SIZE <= 0) throw new Error("--size <MB> must be a positive number");
const STACK = options.stack;
if (STACK !== "node-datachannel" && STACK !== "werift")
  throw new Error("--stack is node-datachannel or werift");
const MB = 1024 * 1024;

/** Two connected peers on loopback, with a `files` and a `raw` channel from a to b, as FileLinks. */
type Pair = {
  readonly files: readonly [FileLink, FileLink];
  readonly raw: readonly [FileLink, FileLink];
  close(): Promise<void>;
};

/** Two werift peers (the view's connection; the files fallback without the addon). */
async function weriftPair(): Promise<Pair> {
  const a = new RTCPeerConnection({});
  const b = new RTCPeerConnection({});
  const files = a.createDataChannel(FILES_CHANNEL_LABEL, { ordered: true });
  const raw = a.createDataChannel("raw", { ordered: true });
  const arrived = new Map<string, RTCDataChannel>();
  const bothArrived = new Promise<void>((resolve) =>
    b.onDataChannel.subscribe((channel) => {
      arrived.set(channel.label, channel);
      if (arrived.size === 2) resolve();
    }),
  );
  a.onIceCandidate.subscribe((candidate) => candidate !== undefined && void b.addIceCandidate(candidate));
  b.onIceCandidate.subscribe((candidate) => candidate !== undefined && void a.addIceCandidate(candidate));
  await a.setLocalDescription(await a.createOffer());
  await b.setRemoteDescription(a.localDescription ?? { type: "offer", sdp: "" });
  await b.setLocalDescription(await b.createAnswer());
  await a.setRemoteDescription(b.localDescription ?? { type: "answer", sdp: "" });
  await bothArrived;
  const opened = (channel: RTCDataChannel) =>
    channel.readyState === "open"
      ? Promise.resolve()
      : new Promise<void>((resolve) => channel.stateChanged.subscribe((s) => s === "open" && resolve()));
  await Promise.all([opened(files), opened(raw)]);
  // As the agent does once a technician's DTLS is up (technician-peer.ts).
  if (keyObjectsForDtls(a) + keyObjectsForDtls(b) !== 4) throw new Error("werift's DTLS keys not found");
  const bFiles = arrived.get(FILES_CHANNEL_LABEL);
  const bRaw = arrived.get("raw");
  if (bFiles === undefined || bRaw === undefined) throw new Error("channels missing");
  return {
    files: [fileLinkOf(files), fileLinkOf(bFiles)],
    raw: [fileLinkOf(raw), fileLinkOf(bRaw)],
    close: async () => {
      await a.close();
      await b.close();
    },
  };
}

/** Two node-datachannel peers (the agent's files connection, files-peer.ts) in this process. */
async function dataChannelPair(): Promise<Pair> {
  const ndc = await loadDataChannel();
  if (ndc instanceof Error) throw ndc;
  const a = new ndc.PeerConnection("bench-a", { iceServers: [] });
  const b = new ndc.PeerConnection("bench-b", { iceServers: [] });
  a.onLocalDescription((sdp, type) => b.setRemoteDescription(sdp, type));
  b.onLocalDescription((sdp, type) => a.setRemoteDescription(sdp, type));
  a.onLocalCandidate((candidate, mid) => b.addRemoteCandidate(candidate, mid));
  b.onLocalCandidate((candidate, mid) => a.addRemoteCandidate(candidate, mid));
  const arrived = new Map<string, FileLink>();
  const bothArrived = new Promise<void>((resolve) =>
    b.onDataChannel((channel) => {
      // The link keeps the channel referenced (an unreferenced one is collected and drops data).
      arrived.set(channel.getLabel(), fileLinkOfDataChannel(channel));
      if (arrived.size === 2) resolve();
    }),
  );
  const files = a.createDataChannel(FILES_CHANNEL_LABEL);
  const raw = a.createDataChannel("raw");
  const opened = (channel: typeof files) =>
    channel.isOpen() ? Promise.resolve() : new Promise<void>((resolve) => channel.onOpen(resolve));
  const aFiles = fileLinkOfDataChannel(files);
  const aRaw = fileLinkOfDataChannel(raw);
  await Promise.all([opened(files), opened(raw), bothArrived]);
  const bFiles = arrived.get(FILES_CHANNEL_LABEL);
  const bRaw = arrived.get("raw");
  if (bFiles === undefined || bRaw === undefined) throw new Error("channels missing");
  return {
    files: [aFiles, bFiles],
    raw: [aRaw, bRaw],
    close: async () => {
      a.close();
      b.close();
    },
  };
}

/** SIZE bytes of zeros as FILE_MESSAGE_BYTES messages, flow-controlled as the file sender is. */
async function rawRound(link: FileLink, counter: { received: number; done?: () => void }, size: number) {
  counter.received = 0;
  const done = new Promise<void>((resolve) => {
    counter.done = resolve;
  });
  const message = Buffer.alloc(FILE_MESSAGE_BYTES);
  const started = performance.now();
  for (let sent = 0; sent < size; ) {
    if (link.bufferedAmount > FILE_BUFFER_HIGH_BYTES) {
      await new Promise<void>((resolve) => link.whenLow(FILE_BUFFER_LOW_BYTES, resolve));
      continue;
    }
    const length = Math.min(FILE_MESSAGE_BYTES, size - sent);
    link.send(length === message.byteLength ? message : message.subarray(0, length));
    sent += length;
  }
  await done;
  return (performance.now() - started) / 1000;
}

/** Counts what arrives on the raw channel; a round ends once its size is in. */
function countArrivals(link: FileLink, target: () => number) {
  const counter: { received: number; done?: () => void } = { received: 0 };
  link.onMessage((data) => {
    counter.received += typeof data === "string" ? data.length : data.byteLength;
    if (counter.received >= target()) counter.done?.();
  });
  return counter;
}

async function makeFile(path: string): Promise<void> {
  const block = Buffer.alloc(MB);
  for (let i = 0; i < block.length; i += 4) block.writeUInt32LE((Math.random() * 2 ** 32) >>> 0, i);
  const handle = await open(path, "w");
  for (let written = 0; written < SIZE; written += MB) {
    await handle.write(block, 0, Math.min(MB, SIZE - written));
  }
  await handle.close();
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "sos-bench-files-"));
  try {
    const source = join(dir, "source.bin");
    const inbox = join(dir, "inbox");
    await makeFile(source);
    const pair = STACK === "werift" ? await weriftPair() : await dataChannelPair();
    let round = 0;
    const counter = countArrivals(pair.raw[1], () => round);
    // Warm-up (JIT, SCTP congestion window) on the raw channel, not counted.
    round = Math.min(16 * MB, SIZE);
    await rawRound(pair.raw[0], counter, round);
    round = SIZE;
    const rawSeconds = await rawRound(pair.raw[0], counter, SIZE);

    const sender = new FileTransfers(pair.files[0], {
      dir: join(dir, "never"),
      policy: () => "FILES_REFUSED",
    });
    const receiver = new FileTransfers(pair.files[1], { dir: inbox, policy: () => undefined });
    const hashStarted = performance.now();
    await hashFile(source);
    const hashSeconds = (performance.now() - hashStarted) / 1000;
    const finished = new Promise<string>((resolve, reject) => {
      receiver.on("finished", (t) => resolve(t.path ?? ""));
      receiver.on("failed", (t) => reject(new Error(`failed: ${t.code}`)));
    });
    const acknowledged = new Promise<void>((resolve) => sender.on("finished", () => resolve()));
    let accepted = 0;
    receiver.on("incoming", () => {
      accepted = performance.now();
    });
    const started = performance.now();
    await sender.offer(source);
    const path = await finished;
    await acknowledged;
    const ended = performance.now();
    const fileSeconds = (ended - accepted) / 1000;
    const totalSeconds = (ended - started) / 1000;
    if ((await stat(path)).size !== SIZE) throw new Error("the saved file has the wrong size");
    await pair.close();

    const rate = (seconds: number) => Math.round((SIZE / MB / seconds) * 10) / 10;
    const results = {
      stack: STACK,
      sizeMB: SIZE / MB,
      loadAverage: loadavg().map((load) => Math.round(load * 100) / 100),
      rawMBps: rate(rawSeconds),
      fileMBps: rate(fileSeconds),
      ratio: Math.round((rate(fileSeconds) / rate(rawSeconds)) * 100) / 100,
      hashMBps: rate(hashSeconds),
      offerToSavedMBps: rate(totalSeconds),
      goalMBps: 50,
    };
    console.log(`one ${SIZE / MB} MB file, ${STACK} to ${STACK} on loopback, one process`);
    console.table({
      "raw data channel": { "MB/s": results.rawMBps },
      "file channel (accept to saved, SHA-256 checked)": { "MB/s": results.fileMBps },
      "file ÷ raw": { "MB/s": results.ratio },
      "SHA-256 of the file before the offer": { "MB/s": results.hashMBps },
      "offer to saved (hash included)": { "MB/s": results.offerToSavedMBps },
    });
    mkdirSync("bench-results", { recursive: true });
    writeFileSync("bench-results/files.json", `${JSON.stringify(results, null, 2)}\n`);
    console.log("written to bench-results/files.json");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
process.exit(0);
