/**
 * The browser end of `npm run bench:files`, bundled by scripts/bench-files.ts and run in headless
 * Chromium: the console's own code. Its peer (signaling/console/remote/peer.ts) answers the agent's
 * files connection (agent/peer/files-peer.ts) and its file link (signaling/console/remote/file-link.ts)
 * fetches the agent's file as a technician's click does: chunks kept, SHA-256 as they arrive, a
 * Blob at the end. Beside it, the rounds that split the time: the same channel's raw data counted
 * on arrival, the console's SHA-256 alone, and a Blob of the same parts alone. The other way, the
 * console sends a picked file (hashed first, then offered) to the agent. Exposed as
 * `window.bench`; signals to the agent go out through `window.benchSignal` (exposed by the bench).
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { MAX_FILE_BYTES } from "../shared/limits.ts";
import type { SignalData } from "../shared/signal.ts";
import { openFileLink } from "../signaling/console/remote/file-link.ts";
import { createRemotePeer } from "../signaling/console/remote/peer.ts";

/**
 * Seconds of a fetch from the click: to the last chunk's arrival (the data moved, hashed as it came),
 * and to the Blob handed to saveAs (the digest checked, the Blob made).
 */
export type FetchTimes = { readonly toLastChunk: number; readonly toBlob: number; readonly blobSize: number };

export type BenchPage = {
  /** The agent's offer and candidates (`peer: "files"`), in order. */
  signal(data: SignalData): void;
  /** Resolves once the agent's `files` channel is open. */
  opened(): Promise<void>;
  /** Counts the bytes arriving on the files channel from now on, until `size`. */
  countRaw(size: number): void;
  /** Resolves once the counted round's bytes arrived. */
  rawArrived(): Promise<void>;
  /** Opens the console's file link on the channel (before the agent offers). */
  openLink(): void;
  /** Fetches the first file the agent offers, as the console's Download button does. */
  fetchOffered(): Promise<FetchTimes>;
  /** Sends the file picked in the page's file input, as the console's picker does (hash, then offer). */
  sendPicked(): void;
  /** Seconds of the console's SHA-256 (@noble/hashes) over `size` bytes in 64 KiB pieces. */
  hash(size: number): number;
  /** Seconds of WebCrypto's SHA-256 over `size` bytes in one buffer (native; for comparison). */
  hashNative(size: number): Promise<number>;
  /** Seconds to make a Blob of `size` bytes kept as 64 KiB parts (as file-link.ts keeps them). */
  blob(size: number): Promise<number>;
};

const PIECE = 64 * 1024;
const exposed = window as unknown as { benchSignal(data: SignalData): Promise<void>; bench: BenchPage };

let opened: () => void = () => undefined;
const channelOpen = new Promise<void>((resolve) => {
  opened = resolve;
});
/** The agent's `files` channel, once open. */
let files: RTCDataChannel | undefined;
const peer = createRemotePeer([], {
  signal: (data) => void exposed.benchSignal(data),
  video: () => undefined,
  control: () => undefined,
  files: (channel) => {
    channel.binaryType = "arraybuffer";
    const open = (): void => {
      files = channel;
      opened();
    };
    if (channel.readyState === "open") open();
    else channel.addEventListener("open", open, { once: true });
  },
  state: () => undefined,
  failed: (reason) => console.error(`bench: the files connection failed: ${reason}`),
});
const openFiles = (): RTCDataChannel => {
  if (files === undefined) throw new Error("bench: the files channel is not open");
  return files;
};
/** The raw round under way: resolves once its bytes arrived. */
let rawArrived: Promise<void> = Promise.resolve();
let link: ReturnType<typeof openFileLink> | undefined;
let saved: (blob: Blob) => void = () => undefined;

exposed.bench = {
  signal: (data) => peer.handleSignal(data),
  opened: () => channelOpen,
  countRaw(size) {
    const channel = openFiles();
    rawArrived = new Promise<void>((resolve) => {
      let received = 0;
      const count = (event: MessageEvent<unknown>): void => {
        if (event.data instanceof ArrayBuffer) received += event.data.byteLength;
        if (received < size) return;
        channel.removeEventListener("message", count);
        resolve();
      };
      channel.addEventListener("message", count);
    });
  },
  rawArrived: () => rawArrived,
  openLink() {
    link = openFileLink(
      openFiles(),
      MAX_FILE_BYTES,
      (blob) => saved(blob),
      () => undefined,
    );
  },
  async fetchOffered() {
    const channel = openFiles();
    const current = link;
    if (current === undefined) throw new Error("bench: the file link is not open");
    const offered = await new Promise<number>((resolve) => {
      const look = (): boolean => {
        const offer = current.transfers.get().find((transfer) => transfer.phase === "offered");
        if (offer !== undefined) resolve(offer.id);
        return offer !== undefined;
      };
      if (look()) return;
      const stop = current.transfers.subscribe(() => {
        if (look()) stop();
      });
    });
    const started = performance.now();
    let lastChunk = started;
    const onChunk = (event: MessageEvent<unknown>): void => {
      if (event.data instanceof ArrayBuffer) lastChunk = performance.now();
    };
    channel.addEventListener("message", onChunk);
    const blob = await new Promise<Blob>((resolve) => {
      saved = resolve;
      current.fetch(offered);
    });
    const ended = performance.now();
    channel.removeEventListener("message", onChunk);
    return {
      toLastChunk: (lastChunk - started) / 1000,
      toBlob: (ended - started) / 1000,
      blobSize: blob.size,
    };
  },
  sendPicked() {
    const file = document.querySelector<HTMLInputElement>("input[type=file]")?.files?.[0];
    if (link === undefined || file === undefined) throw new Error("bench: no file link or no file picked");
    link.send(file);
  },
  hash(size) {
    const data = new Uint8Array(PIECE);
    crypto.getRandomValues(data);
    const started = performance.now();
    const hash = sha256.create();
    for (let at = 0; at < size; at += PIECE) hash.update(data);
    hash.digest();
    return (performance.now() - started) / 1000;
  },
  async hashNative(size) {
    const data = new Uint8Array(size);
    const started = performance.now();
    await crypto.subtle.digest("SHA-256", data);
    return (performance.now() - started) / 1000;
  },
  async blob(size) {
    const parts: Uint8Array[] = [];
    for (let at = 0; at < size; at += PIECE) parts.push(new Uint8Array(PIECE));
    const started = performance.now();
    const blob = new Blob(parts as BlobPart[]);
    // The Blob's bytes reach the blob registry when read; its size is known at once.
    await blob.slice(blob.size - 1).arrayBuffer();
    return (performance.now() - started) / 1000;
  },
};
