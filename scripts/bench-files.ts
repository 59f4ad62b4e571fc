/**
 * `npm run bench:files [-- --size <MB>]`: one file (1 GB by default) over the `files` data channel
 * on loopback, with the same channel kind's raw throughput measured beside it, in one run on the
 * same pair of peers. Not a timed test: it prints a table and writes bench-results/files.json.
 *
 * Both ends are werift (the agent's WebRTC stack, pure JavaScript SCTP) in this one process, the
 * sender as the agent sends (agent/files/file-transfers.ts, reading the file, flow control at
 * FILE_BUFFER_HIGH_BYTES/LOW) and the receiver as the agent receives (writing to a temporary file,
 * SHA-256, rename). A browser technician's side is Chromium's SCTP instead, which is not measured
 * here. The raw round sends FILE_MESSAGE_BYTES messages of zeros with the same flow control and
 * counts them on arrival; a 16 MB raw warm-up before it is not counted. Where the time goes (CPU
 * profile, --cpu-prof): per SCTP packet of ~1.2 KB, a UDP send, an AES-GCM cipher made anew for
 * the DTLS record and another on the receiving end, CRC32c, and a SACK back for every packet.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { mkdtemp, open, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type RTCDataChannel, RTCPeerConnection } from "werift";
import { FileTransfers, hashFile } from "../agent/files/file-transfers.ts";
import { keyObjectsForDtls } from "../agent/peer/dtls-keys.ts";
import { fileLinkOf } from "../agent/peer/technician-peer.ts";
import { FILES_CHANNEL_LABEL } from "../shared/file-transfer.ts";
import { FILE_BUFFER_HIGH_BYTES, FILE_BUFFER_LOW_BYTES, FILE_MESSAGE_BYTES } from "../shared/limits.ts";

const { values: options } = parseArgs({ options: { size: { type: "string", default: "1024" } } });
const SIZE = Math.round(Number(options.size) * 1024 * 1024);
if (!Number.isFinite(SIZE) || SIZE <= 0) throw new Error("--size <MB> must be a positive number");
const MB = 1024 * 1024;

/** Two werift peers connected on loopback, with a `files` and a `raw` channel from a to b. */
async function connectedPair() {
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
  return { a, b, files: [files, bFiles] as const, raw: [raw, bRaw] as const };
}

/** SIZE bytes of zeros as FILE_MESSAGE_BYTES messages, flow-controlled as the file sender is. */
async function rawRound(sender: RTCDataChannel, receiver: RTCDataChannel, size: number): Promise<number> {
  const link = fileLinkOf(sender);
  let received = 0;
  const done = new Promise<void>((resolve) => {
    const { unSubscribe } = receiver.onMessage.subscribe((data) => {
      received += typeof data === "string" ? data.length : data.byteLength;
      if (received < size) return;
      unSubscribe();
      resolve();
    });
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
    const pair = await connectedPair();
    // Warm-up (JIT, SCTP congestion window) on the raw channel, not counted.
    await rawRound(pair.raw[0], pair.raw[1], Math.min(16 * MB, SIZE));
    const rawSeconds = await rawRound(pair.raw[0], pair.raw[1], SIZE);

    const sender = new FileTransfers(fileLinkOf(pair.files[0]), {
      dir: join(dir, "never"),
      policy: () => "FILES_REFUSED",
    });
    const receiver = new FileTransfers(fileLinkOf(pair.files[1]), { dir: inbox, policy: () => undefined });
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
    await pair.a.close();
    await pair.b.close();

    const rate = (seconds: number) => Math.round((SIZE / MB / seconds) * 10) / 10;
    const results = {
      sizeMB: SIZE / MB,
      rawMBps: rate(rawSeconds),
      fileMBps: rate(fileSeconds),
      ratio: Math.round((rate(fileSeconds) / rate(rawSeconds)) * 100) / 100,
      hashMBps: rate(hashSeconds),
      offerToSavedMBps: rate(totalSeconds),
      goalMBps: 50,
    };
    console.log(`one ${SIZE / MB} MB file, werift to werift on loopback, one process`);
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
