import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { decodeMessage } from "../../../shared/decode.ts";
import { sanitizeFileName } from "../../../shared/file-names.ts";
import {
  decodeFileChunk,
  encodeFileChunk,
  FILE_CHUNK_BYTES,
  type FileDirection,
  type FileErrorCode,
  type FileMessage,
  fileMessageSchema,
  fileSizeAllowed,
} from "../../../shared/file-transfer.ts";
import {
  FILE_BUFFER_HIGH_BYTES,
  FILE_BUFFER_LOW_BYTES,
  FILE_PROGRESS_INTERVAL_MS,
  FILE_RESUME_WINDOW_MS,
} from "../../../shared/limits.ts";
import { createStore, type Store } from "../lib/store.ts";

/**
 * The console's side of the `files` channel (protocol: shared/file-transfer.ts): files the
 * technician picks or drops go to the end user (hashed here first, then offered; the agent saves
 * them in its download folder), and files the end user offers (`f <path>` in the agent's terminal)
 * are fetched on the technician's click and handed to the browser as a download once their
 * SHA-256 matches. One decode point, one handler per message type; the transfers are a store the
 * panel shows.
 *
 * The link outlives its channel: the view's files connection made again, or the view's peer
 * replaced, hands it the next channel (attach()). A transfer the old channel broke off is
 * `paused` for FILE_RESUME_WINDOW_MS: on the next channel the console offers its files again and
 * accepts the end user's from the bytes it already has; a window that runs out fails it.
 */

export type TransferPhase =
  | "hashing"
  | "offered"
  | "sending"
  | "receiving"
  | "paused"
  | "checking"
  | "done"
  | "failed"
  | "cancelled";

export type Transfer = {
  /** "out": to the end user; "in": from the end user. */
  readonly direction: "in" | "out";
  readonly id: number;
  readonly name: string;
  readonly size: number;
  readonly phase: TransferPhase;
  readonly bytes: number;
  readonly bytesPerSecond: number;
  readonly code: FileErrorCode | null;
};

export type FileLink = {
  readonly transfers: Store<readonly Transfer[]>;
  /** The largest file either way: the session's channel's limit (the agent enforces it too). */
  readonly maxBytes: number;
  /** The view's current `files` channel; transfers of the previous one go on on it. */
  attach(channel: RTCDataChannel): void;
  send(file: File): void;
  /** Fetches a file the end user offered. */
  fetch(id: number): void;
  cancel(direction: "in" | "out", id: number): void;
  /** The view ended: whatever runs is cancelled on the agent's side and fails here. Safe to call twice. */
  close(): void;
};

type Timed = { expiry: ReturnType<typeof setTimeout> | null };
/** offered → sending → sent (waiting for `file.saved`); paused when the channel went mid-way. */
type Outgoing = Timed & {
  file: File;
  sha256: string;
  state: "offered" | "sending" | "sent" | "paused";
  started: number;
  startBytes: number;
  /** Counts the streams started: an older one stops when it sees a newer. */
  run: number;
  /** What the agent last said it wrote (`file.progress`), and how far past it we may go (`file.accept {window}`). */
  acknowledged: number;
  window: number | undefined;
  /** Wakes a stream waiting for the agent's progress (or to find it should stop). */
  wake: (() => void) | null;
};
type Incoming = Timed & {
  sha256: string;
  parts: Uint8Array[];
  hash: ReturnType<typeof sha256.create>;
  received: number;
  started: number;
  startBytes: number;
  lastTold: number;
  paused: boolean;
};

type Handlers = { [K in FileMessage["type"]]: (message: Extract<FileMessage, { type: K }>) => void };

const HASH_SLICE_BYTES = 4 * 1024 * 1024;

/** A file moved whole (SHA-256 checked), for the gateway's audit. */
export type Transferred = { direction: FileDirection; name: string; size: number; sha256: string };

export function createFileLink(
  maxBytes: number,
  saveAs: (blob: Blob, name: string) => void,
  transferred: (file: Transferred) => void,
): FileLink {
  const transfers = createStore<readonly Transfer[]>([]);
  const outgoing = new Map<number, Outgoing>();
  const incoming = new Map<number, Incoming>();
  /** Offers from the end user (fetched or not, until they end): id → what was offered. */
  const offers = new Map<number, { sha256: string; size: number; name: string }>();
  /** How the end user's files ended, for an offer of one again (its `file.saved` may be lost). */
  const ended = new Map<number, { sha256: string; code: FileErrorCode | null }>();
  let channel: RTCDataChannel | null = null;
  let nextId = 1;
  let closed = false;

  const key = (direction: "in" | "out", id: number) => `${direction}:${id}`;
  const update = (direction: "in" | "out", id: number, change: Partial<Transfer>): void => {
    transfers.set(
      transfers
        .get()
        .map((transfer) =>
          key(transfer.direction, transfer.id) === key(direction, id) ? { ...transfer, ...change } : transfer,
        ),
    );
  };
  /** Adds a transfer (one of the same direction and id, a different file, is replaced). */
  const add = (transfer: Transfer): void =>
    transfers.set([
      ...transfers.get().filter((t) => key(t.direction, t.id) !== key(transfer.direction, transfer.id)),
      transfer,
    ]);
  const isOpen = (): boolean => channel?.readyState === "open";
  const send = (message: FileMessage): void => {
    if (!closed && channel !== null && channel.readyState === "open") channel.send(JSON.stringify(message));
  };
  const rate = (bytes: number, since: number): number => {
    const seconds = (performance.now() - since) / 1000;
    return seconds > 0 ? bytes / seconds : 0;
  };
  const whenLow = (on: RTCDataChannel): Promise<void> =>
    new Promise((resolve) => {
      const done = (): void => {
        on.removeEventListener("bufferedamountlow", done);
        on.removeEventListener("close", done);
        resolve();
      };
      on.addEventListener("bufferedamountlow", done);
      on.addEventListener("close", done);
    });
  const offer = (id: number, transfer: Outgoing): void =>
    send({
      type: "file.offer",
      id,
      name: transfer.file.name,
      size: transfer.file.size,
      sha256: transfer.sha256,
    });

  const wake = (transfer: Outgoing): void => {
    const waiting = transfer.wake;
    transfer.wake = null;
    waiting?.();
  };

  const stream = async (id: number, transfer: Outgoing, offset: number): Promise<void> => {
    const on = channel;
    const run = ++transfer.run;
    const stopped = (): boolean =>
      closed || transfer.run !== run || outgoing.get(id) !== transfer || channel !== on || !isOpen();
    if (on === null) return;
    let position = offset;
    while (position < transfer.file.size) {
      if (stopped()) return;
      if (on.bufferedAmount > FILE_BUFFER_HIGH_BYTES) {
        await whenLow(on);
        continue;
      }
      // The agent writes to disk: no further ahead of what it wrote than it asked.
      if (transfer.window !== undefined && position >= transfer.acknowledged + transfer.window) {
        await new Promise<void>((resolve) => {
          transfer.wake = resolve;
        });
        continue;
      }
      const end = Math.min(position + FILE_CHUNK_BYTES * 16, transfer.file.size);
      const slice = new Uint8Array(await transfer.file.slice(position, end).arrayBuffer());
      for (let at = 0; at < slice.byteLength; at += FILE_CHUNK_BYTES) {
        if (stopped()) return;
        on.send(encodeFileChunk(id, slice.subarray(at, at + FILE_CHUNK_BYTES)) as Uint8Array<ArrayBuffer>);
      }
      position = end;
    }
    if (stopped()) return;
    transfer.state = "sent";
    send({ type: "file.done", id });
  };

  const endOutgoing = (id: number, phase: TransferPhase, code: FileErrorCode | null = null): void => {
    const transfer = outgoing.get(id);
    if (transfer === undefined) return;
    outgoing.delete(id);
    if (transfer.expiry !== null) clearTimeout(transfer.expiry);
    transfer.run++;
    wake(transfer);
    const bytes = phase === "done" ? transfer.file.size : undefined;
    if (phase === "done")
      transferred({
        direction: "to_end_user",
        name: transfer.file.name,
        size: transfer.file.size,
        sha256: transfer.sha256,
      });
    update("out", id, { phase, code, ...(bytes === undefined ? {} : { bytes }) });
  };

  /** An incoming transfer ends (offer and data dropped), remembered for an offer of it again. */
  const endIncoming = (id: number, phase: TransferPhase, code: FileErrorCode | null): void => {
    const transfer = incoming.get(id);
    if (transfer?.expiry != null) clearTimeout(transfer.expiry);
    incoming.delete(id);
    const offered = offers.get(id);
    offers.delete(id);
    if (offered !== undefined && phase !== "cancelled") ended.set(id, { sha256: offered.sha256, code });
    update("in", id, { phase, code });
  };

  /** The channel went away: what runs waits for the next one, for the resume window. */
  const pauseAll = (): void => {
    for (const [id, transfer] of outgoing) {
      if (transfer.state !== "sending" && transfer.state !== "sent") continue;
      transfer.state = "paused";
      transfer.run++;
      wake(transfer);
      transfer.expiry ??= setTimeout(() => {
        send({ type: "file.cancel", id, by: "sender" });
        endOutgoing(id, "failed", "INTERRUPTED");
      }, FILE_RESUME_WINDOW_MS);
      update("out", id, { phase: "paused" });
    }
    for (const [id, transfer] of incoming) {
      if (transfer.paused) continue;
      transfer.paused = true;
      transfer.expiry ??= setTimeout(() => {
        send({ type: "file.failed", id, code: "INTERRUPTED" });
        endIncoming(id, "failed", "INTERRUPTED");
      }, FILE_RESUME_WINDOW_MS);
      update("in", id, { phase: "paused" });
    }
  };

  /** A channel is open (again): our files are offered again; the agent says from where. */
  const resumeAll = (): void => {
    for (const [id, transfer] of outgoing) {
      if (transfer.state === "offered" || transfer.state === "paused") offer(id, transfer);
    }
  };

  const accepted = (message: Extract<FileMessage, { type: "file.accept" }>): void => {
    const transfer = outgoing.get(message.id);
    if (transfer === undefined || message.offset > transfer.file.size) return;
    if (transfer.state !== "offered" && transfer.state !== "paused") return;
    if (transfer.expiry !== null) clearTimeout(transfer.expiry);
    transfer.expiry = null;
    transfer.state = "sending";
    transfer.started = performance.now();
    transfer.startBytes = message.offset;
    transfer.acknowledged = message.offset;
    transfer.window = message.window;
    update("out", message.id, { phase: "sending", bytes: message.offset });
    stream(message.id, transfer, message.offset).catch(() => {
      send({ type: "file.cancel", id: message.id, by: "sender" });
      endOutgoing(message.id, "failed", "READ_FAILED");
    });
  };

  /** The end user's file offered (again): resumed from what is here, answered, or listed. */
  const offered = (message: Extract<FileMessage, { type: "file.offer" }>): void => {
    const kept = incoming.get(message.id);
    const known = offers.get(message.id);
    if (known !== undefined && known.sha256 === message.sha256 && known.size === message.size) {
      if (kept === undefined) return;
      // Offered again after the channel came back: from the bytes already here.
      if (kept.expiry !== null) clearTimeout(kept.expiry);
      kept.expiry = null;
      kept.paused = false;
      kept.started = performance.now();
      kept.startBytes = kept.received;
      update("in", message.id, { phase: "receiving", bytes: kept.received });
      send({ type: "file.accept", id: message.id, offset: kept.received });
      return;
    }
    const done = ended.get(message.id);
    if (known === undefined && done?.sha256 === message.sha256) {
      send(
        done.code === null
          ? { type: "file.saved", id: message.id }
          : { type: "file.failed", id: message.id, code: done.code },
      );
      return;
    }
    if (known !== undefined) endIncoming(message.id, "failed", "INTERRUPTED");
    offers.set(message.id, { sha256: message.sha256, size: message.size, name: message.name });
    add({
      direction: "in",
      id: message.id,
      name: sanitizeFileName(message.name),
      size: message.size,
      phase: "offered",
      bytes: 0,
      bytesPerSecond: 0,
      code: fileSizeAllowed(message.size, maxBytes) ? null : "TOO_LARGE",
    });
  };

  const handlers: Handlers = {
    "file.offer": offered,
    "file.accept": accepted,
    "file.refuse": (message) => endOutgoing(message.id, "failed", message.code),
    "file.progress": (message) => {
      const transfer = outgoing.get(message.id);
      if (transfer === undefined || transfer.state === "paused") return;
      transfer.acknowledged = Math.max(transfer.acknowledged, message.received);
      wake(transfer);
      update("out", message.id, {
        bytes: message.received,
        bytesPerSecond: rate(message.received - transfer.startBytes, transfer.started),
      });
    },
    "file.saved": (message) => endOutgoing(message.id, "done"),
    "file.failed": (message) => endOutgoing(message.id, "failed", message.code),
    "file.done": (message) => {
      const transfer = incoming.get(message.id);
      if (transfer === undefined || transfer.paused) return;
      const offer = offers.get(message.id);
      const ok =
        offer !== undefined &&
        transfer.received === offer.size &&
        bytesToHex(transfer.hash.digest()) === transfer.sha256;
      if (!ok) {
        send({ type: "file.failed", id: message.id, code: "HASH_MISMATCH" });
        endIncoming(message.id, "failed", "HASH_MISMATCH");
        return;
      }
      send({ type: "file.saved", id: message.id });
      const bytesPerSecond = rate(transfer.received - transfer.startBytes, transfer.started);
      endIncoming(message.id, "done", null);
      update("in", message.id, { bytes: transfer.received, bytesPerSecond });
      saveAs(new Blob(transfer.parts as BlobPart[]), sanitizeFileName(offer.name));
      transferred({
        direction: "from_end_user",
        name: sanitizeFileName(offer.name),
        size: offer.size,
        sha256: offer.sha256,
      });
    },
    "file.cancel": (message) => {
      if (message.by === "receiver") {
        endOutgoing(message.id, "cancelled");
        return;
      }
      // The agent gave up a file it could not resume in time: failed, not cancelled by anyone.
      const paused = incoming.get(message.id)?.paused === true;
      endIncoming(message.id, paused ? "failed" : "cancelled", paused ? "INTERRUPTED" : null);
    },
  };

  const onChunk = (data: ArrayBuffer): void => {
    const chunk = decodeFileChunk(new Uint8Array(data));
    const transfer = chunk === undefined ? undefined : incoming.get(chunk.id);
    if (chunk === undefined || transfer === undefined || transfer.paused) return;
    const offer = offers.get(chunk.id);
    if (offer === undefined || transfer.received + chunk.data.byteLength > offer.size) {
      send({ type: "file.failed", id: chunk.id, code: "BAD_DATA" });
      endIncoming(chunk.id, "failed", "BAD_DATA");
      return;
    }
    // The data is kept (a Blob at the end); the hash goes along as it arrives.
    const data2 = chunk.data.slice();
    transfer.parts.push(data2);
    transfer.hash.update(data2);
    transfer.received += data2.byteLength;
    const now = performance.now();
    if (now - transfer.lastTold >= FILE_PROGRESS_INTERVAL_MS) {
      transfer.lastTold = now;
      send({ type: "file.progress", id: chunk.id, received: transfer.received });
      update("in", chunk.id, {
        bytes: transfer.received,
        bytesPerSecond: rate(transfer.received - transfer.startBytes, transfer.started),
      });
    }
  };

  const onMessage = (event: MessageEvent<unknown>): void => {
    if (closed || event.target !== channel) return;
    if (event.data instanceof ArrayBuffer) {
      onChunk(event.data);
      return;
    }
    if (typeof event.data !== "string") return;
    const decoded = decodeMessage(fileMessageSchema, event.data);
    if (!decoded.ok) {
      console.warn("files channel: ignored a message:", decoded.error.message);
      return;
    }
    const handle = handlers[decoded.value.type] as (message: FileMessage) => void;
    handle(decoded.value);
  };

  return {
    transfers,
    maxBytes,
    attach(next) {
      if (closed || next === channel) return;
      if (channel !== null) pauseAll();
      channel = next;
      next.binaryType = "arraybuffer";
      next.bufferedAmountLowThreshold = FILE_BUFFER_LOW_BYTES;
      next.addEventListener("message", onMessage);
      next.addEventListener("close", () => {
        if (channel !== next) return;
        channel = null;
        pauseAll();
      });
      if (next.readyState === "open") resumeAll();
      else
        next.addEventListener("open", () => {
          if (channel === next) resumeAll();
        });
    },
    send(file) {
      const id = nextId++;
      add({
        direction: "out",
        id,
        name: file.name,
        size: file.size,
        phase: "hashing",
        bytes: 0,
        bytesPerSecond: 0,
        code: null,
      });
      if (!fileSizeAllowed(file.size, maxBytes)) {
        update("out", id, { phase: "failed", code: "TOO_LARGE" });
        return;
      }
      void hashFile(file)
        .then((digest) => {
          if (
            closed ||
            transfers.get().find((t) => t.direction === "out" && t.id === id)?.phase !== "hashing"
          )
            return;
          const transfer: Outgoing = {
            file,
            sha256: digest,
            state: "offered",
            started: performance.now(),
            startBytes: 0,
            run: 0,
            acknowledged: 0,
            window: undefined,
            wake: null,
            expiry: null,
          };
          outgoing.set(id, transfer);
          offer(id, transfer);
          update("out", id, { phase: "offered" });
        })
        .catch(() => update("out", id, { phase: "failed", code: "READ_FAILED" }));
    },
    fetch(id) {
      const offer = offers.get(id);
      if (offer === undefined || incoming.has(id) || !fileSizeAllowed(offer.size, maxBytes)) return;
      const now = performance.now();
      incoming.set(id, {
        sha256: offer.sha256,
        parts: [],
        hash: sha256.create(),
        received: 0,
        started: now,
        startBytes: 0,
        lastTold: now,
        paused: !isOpen(),
        expiry: null,
      });
      update("in", id, { phase: isOpen() ? "receiving" : "paused" });
      send({ type: "file.accept", id, offset: 0 });
    },
    cancel(direction, id) {
      if (direction === "out") {
        const phase = transfers.get().find((t) => t.direction === "out" && t.id === id)?.phase;
        if (phase === "hashing") update("out", id, { phase: "cancelled" });
        if (!outgoing.has(id)) return;
        send({ type: "file.cancel", id, by: "sender" });
        endOutgoing(id, "cancelled");
        return;
      }
      if (!offers.has(id)) return;
      send({ type: "file.cancel", id, by: "receiver" });
      endIncoming(id, "cancelled", null);
    },
    close() {
      if (closed) return;
      // The technician leaves: the agent is told while the channel is still there (it would
      // otherwise keep the transfers for the resume window).
      for (const id of outgoing.keys()) send({ type: "file.cancel", id, by: "sender" });
      for (const id of incoming.keys()) send({ type: "file.cancel", id, by: "receiver" });
      closed = true;
      channel = null;
      for (const transfer of [...outgoing.values(), ...incoming.values()])
        if (transfer.expiry !== null) clearTimeout(transfer.expiry);
      for (const transfer of outgoing.values()) wake(transfer);
      for (const transfer of transfers.get()) {
        if (!["done", "failed", "cancelled"].includes(transfer.phase))
          update(transfer.direction, transfer.id, {
            phase: "failed",
            code: transfer.code ?? "INTERRUPTED",
          });
      }
      outgoing.clear();
      incoming.clear();
    },
  };
}

/** A file link on `channel` from the start (the bench's browser end, scripts/bench-files-browser.ts). */
export function openFileLink(
  channel: RTCDataChannel,
  maxBytes: number,
  saveAs: (blob: Blob, name: string) => void,
  transferred: (file: Transferred) => void,
): FileLink {
  const link = createFileLink(maxBytes, saveAs, transferred);
  link.attach(channel);
  return link;
}

/** SHA-256 of a picked file, read in slices (a large file is never held whole). */
async function hashFile(file: File): Promise<string> {
  const hash = sha256.create();
  for (let at = 0; at < file.size; at += HASH_SLICE_BYTES) {
    hash.update(new Uint8Array(await file.slice(at, at + HASH_SLICE_BYTES).arrayBuffer()));
  }
  return bytesToHex(hash.digest());
}

/** Hands a received file to the browser as a download under its sanitized name. */
export function downloadBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const anchor = document.createElement("a");
  anchor.href = url;
  anchor.download = name;
  anchor.rel = "noopener";
  document.body.append(anchor);
  anchor.click();
  anchor.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
