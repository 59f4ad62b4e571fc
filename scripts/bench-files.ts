/**
 * `npm run bench:files [-- --size <MB>] [--stack node-datachannel|werift] [--skip-browser]`: one
 * file (1 GB by default) over the `files` data channel on loopback, with the same channel kind's raw
 * throughput measured beside it, in one run on the same pair of peers; then the same file from the
 * agent's files stack to headless Chromium running the console's code (browserRounds, unless
 * --skip-browser). Not a timed test: it prints tables and writes bench-results/files.json.
 *
 * Both ends are the chosen stack in this one process: node-datachannel (libdatachannel, native; the
 * agent's files connection, files-peer.ts) by default, or werift (pure JavaScript SCTP; the view's
 * connection, which carries files when the addon cannot load). The
 * sender as the agent sends (agent/files/file-transfers.ts, reading the file, flow control at
 * FILE_BUFFER_HIGH_BYTES/LOW) and the receiver as the agent receives (writing to a temporary file,
 * SHA-256, rename). The raw round sends FILE_MESSAGE_BYTES messages of zeros with the same flow control and
 * counts them on arrival; a 16 MB raw warm-up before it is not counted. Where the time goes (CPU
 * profile, --cpu-prof) with werift: per SCTP packet of ~1.2 KB, a UDP send, an AES-GCM cipher made anew for
 * the DTLS record and another on the receiving end, CRC32c, and a SACK back for every packet.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, open, rm, stat } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { build } from "esbuild";
import { chromium } from "playwright-core";
import { type RTCDataChannel, RTCPeerConnection } from "werift";
import type { FileLink } from "../agent/files/file-link.ts";
import { FileTransfers, hashFile } from "../agent/files/file-transfers.ts";
import { keyObjectsForDtls } from "../agent/peer/dtls-keys.ts";
import { FilesPeer, fileLinkOfDataChannel, loadDataChannel } from "../agent/peer/files-peer.ts";
import { fileLinkOf } from "../agent/peer/technician-peer.ts";
import { FILES_CHANNEL_LABEL } from "../shared/file-transfer.ts";
import { FILE_BUFFER_HIGH_BYTES, FILE_BUFFER_LOW_BYTES, FILE_MESSAGE_BYTES } from "../shared/limits.ts";
import type { SignalData } from "../shared/signal.ts";
import { CHROMIUM_ARGS, CHROMIUM_PATH } from "../tests/helpers/browser.ts";
import type { BenchPage, FetchTimes } from "./bench-files-browser.ts";

const { values: options } = parseArgs({
  options: {
    size: { type: "string", default: "1024" },
    stack: { type: "string", default: "node-datachannel" },
    "skip-browser": { type: "boolean", default: false },
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

/** `size` bytes of zeros as FILE_MESSAGE_BYTES messages, flow-controlled as the file sender is. */
async function sendZeros(link: FileLink, size: number): Promise<void> {
  const message = Buffer.alloc(FILE_MESSAGE_BYTES);
  for (let sent = 0; sent < size; ) {
    if (link.bufferedAmount > FILE_BUFFER_HIGH_BYTES) {
      await new Promise<void>((resolve) => link.whenLow(FILE_BUFFER_LOW_BYTES, resolve));
      continue;
    }
    const length = Math.min(FILE_MESSAGE_BYTES, size - sent);
    link.send(length === message.byteLength ? message : message.subarray(0, length));
    sent += length;
  }
}

/** Seconds for `size` bytes of zeros, sent (sendZeros) and counted on arrival. */
async function rawRound(link: FileLink, counter: { received: number; done?: () => void }, size: number) {
  counter.received = 0;
  const done = new Promise<void>((resolve) => {
    counter.done = resolve;
  });
  const started = performance.now();
  await sendZeros(link, size);
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

/** Linux's USER_HZ: /proc's CPU times are in these ticks. */
const TICKS_PER_SECOND = 100;

/**
 * CPU seconds (user + system) of every process below `root` (not itself), by Chromium process
 * type (`--type=renderer`, `utility` with its sub-type, `gpu-process`; without a type "browser"),
 * from /proc.
 */
function cpuByProcessType(root: number): Record<string, number> {
  const parent = new Map<number, number>();
  const seconds = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // After "pid (comm) ": state, ppid, …; utime and stime are the 12th and 13th fields from there.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      parent.set(Number(entry), Number(fields[1]));
      seconds.set(Number(entry), (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND);
    } catch {
      // gone meanwhile
    }
  }
  const below = (pid: number): boolean => {
    for (let up = pid; up > 1; up = parent.get(up) ?? 0) if (up === root) return true;
    return false;
  };
  const byType: Record<string, number> = {};
  for (const [pid, cpu] of seconds) {
    if (pid === root || !below(pid)) continue;
    let type = "browser";
    try {
      const command = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      const kind = /--type=([\w-]+)/.exec(command)?.[1];
      const sub = /--utility-sub-type=([\w.]+)/.exec(command)?.[1];
      if (kind !== undefined) type = sub === undefined ? kind : `${kind} (${sub.split(".").at(-1)})`;
    } catch {
      // gone meanwhile
    }
    byType[type] = (byType[type] ?? 0) + cpu;
  }
  return byType;
}

/** What each process type spent between two cpuByProcessType() readings, rounded to 0.1 s. */
function cpuSpent(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(after)
      .map(([type, cpu]): [string, number] => [type, Math.round((cpu - (before[type] ?? 0)) * 10) / 10])
      .filter(([, cpu]) => cpu > 0),
  );
}

/** One round with a browser end: its rate, and the CPU seconds each process spent meanwhile. */
type BrowserRound = { MBps: number; cpuSeconds: Record<string, number> };

type BrowserResults = {
  /** Zeros from the agent's files connection, counted in the page. */
  raw: BrowserRound;
  /** The file, from the console's fetch to its Blob (SHA-256 checked). */
  file: BrowserRound & { toLastChunkMBps: number; seconds: number };
  /** The other way: a picked file, from the agent's accept to saved (SHA-256 checked). */
  toAgent: BrowserRound & { hashMBps: number };
  /** The console's SHA-256 alone, in the page. */
  hash: BrowserRound;
  /** WebCrypto's SHA-256 over the file's size in one buffer (not what the console uses). */
  hashNative: BrowserRound;
  /** A Blob of the file's size in 64 KiB parts, in the page. */
  blob: BrowserRound;
};

/**
 * Runs `round` and measures the CPU seconds spent meanwhile by this process ("node": the agent's
 * side) and by Chromium's processes (its only children), by type.
 */
async function withCpu<T>(
  round: () => Promise<T>,
): Promise<{ value: T; cpuSeconds: Record<string, number> }> {
  const chromiumBefore = cpuByProcessType(process.pid);
  const nodeBefore = process.cpuUsage();
  const value = await round();
  const node = process.cpuUsage(nodeBefore);
  return {
    value,
    cpuSeconds: {
      node: Math.round((node.user + node.system) / 1e5) / 10,
      ...cpuSpent(chromiumBefore, cpuByProcessType(process.pid)),
    },
  };
}

/**
 * The browser end: the agent's files stack (FilesPeer, node-datachannel, and FileTransfers reading
 * the file) in this process; headless Chromium running the console's own code
 * (scripts/bench-files-browser.ts: peer.ts answers, file-link.ts fetches). The raw round counts
 * zeros on the same channel in the page; the file round runs from the console's fetch to the Blob
 * handed to saveAs (SHA-256 checked), with the CPU each side spent; then the other way (the same
 * file picked in the page: the console's SHA-256, its offer, the agent's accept to saved); then the
 * console's SHA-256 and a Blob of the same size alone, in the page. One page, a new incognito-like
 * context (Playwright's newPage).
 */
async function browserRounds(source: string, dir: string): Promise<BrowserResults> {
  const ndc = await loadDataChannel();
  if (ndc instanceof Error) throw ndc;
  const bundle = await build({
    entryPoints: ["scripts/bench-files-browser.ts"],
    bundle: true,
    write: false,
    format: "iife",
    target: "es2022",
    logLevel: "warning",
  });
  const script = bundle.outputFiles[0]?.text;
  if (script === undefined) throw new Error("the page's bundle is empty");
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: CHROMIUM_ARGS,
    headless: true,
  });
  let filesPeer: FilesPeer | undefined;
  try {
    const page = await browser.newPage();
    page.on("console", (message) => {
      if (message.type() === "error") console.error(`page: ${message.text()}`);
    });
    await page.exposeFunction("benchSignal", (data: SignalData) => filesPeer?.handleSignal(data));
    // Served as http://localhost, a secure context like the console's own origin (WebCrypto needs one).
    await page.route("http://localhost/**", (route) =>
      route.fulfill({
        contentType: "text/html",
        body: "<!doctype html><title>bench:files</title><input type=file>",
      }),
    );
    await page.goto("http://localhost/bench-files");
    await page.addScriptTag({ content: script });
    // Its offer comes on a later turn: listened to from the start.
    filesPeer = new FilesPeer(ndc, "bench", []);
    filesPeer.on("signal", (data) => {
      void page.evaluate((signal) => (window as unknown as { bench: BenchPage }).bench.signal(signal), data);
    });
    await page.evaluate(() => (window as unknown as { bench: BenchPage }).bench.opened());
    const link = filesPeer.files;
    const rawTo = async (size: number): Promise<number> => {
      await page.evaluate((bytes) => (window as unknown as { bench: BenchPage }).bench.countRaw(bytes), size);
      const started = performance.now();
      await sendZeros(link, size);
      await page.evaluate(() => (window as unknown as { bench: BenchPage }).bench.rawArrived());
      return (performance.now() - started) / 1000;
    };
    await rawTo(Math.min(16 * MB, SIZE));
    const raw = await withCpu(() => rawTo(SIZE));

    const agent = new FileTransfers(link, { dir: join(dir, "from-browser"), policy: () => undefined });
    await page.evaluate(() => (window as unknown as { bench: BenchPage }).bench.openLink());
    const received = new Promise<void>((resolve, reject) => {
      agent.on("finished", () => resolve());
      agent.on("failed", (transfer) => reject(new Error(`failed: ${transfer.code}`)));
    });
    await agent.offer(source);
    const file = await withCpu(async () => {
      const times: FetchTimes = await page.evaluate(() =>
        (window as unknown as { bench: BenchPage }).bench.fetchOffered(),
      );
      await received;
      return times;
    });
    if (file.value.blobSize !== SIZE)
      throw new Error(`the Blob has ${file.value.blobSize} bytes, not ${SIZE}`);
    // The other way: picked in the page, hashed by the console, offered, accepted, saved.
    await page.setInputFiles("input[type=file]", source);
    let picked = 0;
    let accepted = 0;
    const toAgent = await withCpu(async () => {
      const saved = new Promise<string>((resolve, reject) => {
        agent.once("finished", (transfer) => resolve(transfer.path ?? ""));
        agent.once("failed", (transfer) => reject(new Error(`failed: ${transfer.code}`)));
      });
      agent.once("incoming", () => {
        accepted = performance.now();
      });
      picked = performance.now();
      await page.evaluate(() => (window as unknown as { bench: BenchPage }).bench.sendPicked());
      const path = await saved;
      const ended = performance.now();
      if ((await stat(path)).size !== SIZE) throw new Error("the file from the browser has the wrong size");
      return { hashSeconds: (accepted - picked) / 1000, fileSeconds: (ended - accepted) / 1000 };
    });
    const hash = await withCpu(() =>
      page.evaluate((size) => (window as unknown as { bench: BenchPage }).bench.hash(size), SIZE),
    );
    const hashNative = await withCpu(() =>
      page.evaluate((size) => (window as unknown as { bench: BenchPage }).bench.hashNative(size), SIZE),
    );
    const blob = await withCpu(() =>
      page.evaluate((size) => (window as unknown as { bench: BenchPage }).bench.blob(size), SIZE),
    );
    const rate = (seconds: number) => Math.round((SIZE / MB / seconds) * 10) / 10;
    return {
      raw: { MBps: rate(raw.value), cpuSeconds: raw.cpuSeconds },
      file: {
        MBps: rate(file.value.toBlob),
        cpuSeconds: file.cpuSeconds,
        toLastChunkMBps: rate(file.value.toLastChunk),
        seconds: Math.round(file.value.toBlob * 10) / 10,
      },
      toAgent: {
        MBps: rate(toAgent.value.fileSeconds),
        cpuSeconds: toAgent.cpuSeconds,
        hashMBps: rate(toAgent.value.hashSeconds),
      },
      hash: { MBps: rate(hash.value), cpuSeconds: hash.cpuSeconds },
      hashNative: { MBps: rate(hashNative.value), cpuSeconds: hashNative.cpuSeconds },
      blob: { MBps: rate(blob.value), cpuSeconds: blob.cpuSeconds },
    };
  } finally {
    filesPeer?.close();
    await browser.close();
  }
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
    const loadAfterOneProcess = loadavg().map((load) => Math.round(load * 100) / 100);
    const browser = options["skip-browser"] ? undefined : await browserRounds(source, dir);

    const rate = (seconds: number) => Math.round((SIZE / MB / seconds) * 10) / 10;
    const results = {
      stack: STACK,
      sizeMB: SIZE / MB,
      loadAverage: loadAfterOneProcess,
      rawMBps: rate(rawSeconds),
      fileMBps: rate(fileSeconds),
      ratio: Math.round((rate(fileSeconds) / rate(rawSeconds)) * 100) / 100,
      hashMBps: rate(hashSeconds),
      offerToSavedMBps: rate(totalSeconds),
      goalMBps: 50,
      ...(browser === undefined
        ? {}
        : { browser: { ...browser, loadAverage: loadavg().map((load) => Math.round(load * 100) / 100) } }),
    };
    console.log(`one ${SIZE / MB} MB file, ${STACK} to ${STACK} on loopback, one process`);
    console.table({
      "raw data channel": { "MB/s": results.rawMBps },
      "file channel (accept to saved, SHA-256 checked)": { "MB/s": results.fileMBps },
      "file ÷ raw": { "MB/s": results.ratio },
      "SHA-256 of the file before the offer": { "MB/s": results.hashMBps },
      "offer to saved (hash included)": { "MB/s": results.offerToSavedMBps },
    });
    if (browser !== undefined) {
      console.log(
        "the agent's files stack (node-datachannel) to headless Chromium's console code; CPU seconds spent meanwhile",
      );
      const row = (round: BrowserRound) => ({ "MB/s": round.MBps, ...round.cpuSeconds });
      console.table({
        "raw data channel, counted in the page": row(browser.raw),
        "file: the console's fetch to its Blob (SHA-256 checked)": row(browser.file),
        "file: the console's fetch to the last chunk": { "MB/s": browser.file.toLastChunkMBps },
        "the other way: a picked file, the agent's accept to saved": {
          "MB/s": browser.toAgent.MBps,
        },
        "the other way: the console's SHA-256 before its offer": { "MB/s": browser.toAgent.hashMBps },
        "the other way, whole (CPU seconds)": { ...browser.toAgent.cpuSeconds },
        "the console's SHA-256 alone (@noble/hashes)": row(browser.hash),
        "WebCrypto's SHA-256 of one buffer (for comparison)": row(browser.hashNative),
        "a Blob of 64 KiB parts alone": row(browser.blob),
      });
    }
    mkdirSync("bench-results", { recursive: true });
    writeFileSync("bench-results/files.json", `${JSON.stringify(results, null, 2)}\n`);
    console.log("written to bench-results/files.json");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
process.exit(0);
