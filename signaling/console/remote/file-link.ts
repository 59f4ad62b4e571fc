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
} from "../../../shared/limits.ts";
import { createStore, type Store } from "../lib/store.ts";

/**
 * The console's side of the `files` channel (protocol: shared/file-transfer.ts): files the
 * technician picks or drops go to the end user (hashed here first, then offered; the agent saves
 * them in its download folder), and files the end user offers (`f <path>` in the agent's terminal)
 * are fetched on the technician's click and handed to the browser as a download once their
 * SHA-256 matches. One decode point, one handler per message type; the transfers are a store the
 * panel shows.
 */

export type TransferPhase =
  | "hashing"
  | "offered"
  | "sending"
  | "receiving"
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
  send(file: File): void;
  /** Fetches a file the end user offered. */
  fetch(id: number): void;
  cancel(direction: "in" | "out", id: number): void;
  close(): void;
};

type Outgoing = { file: File; sha256: string; started: number; cancelled: boolean };
type Incoming = {
  sha256: string;
  parts: Uint8Array[];
  hash: ReturnType<typeof sha256.create>;
  received: number;
  started: number;
  lastTold: number;
};

type Handlers = { [K in FileMessage["type"]]: (message: Extract<FileMessage, { type: K }>) => void };

const HASH_SLICE_BYTES = 4 * 1024 * 1024;

/** A file moved whole (SHA-256 checked), for the gateway's audit. */
export type Transferred = { direction: FileDirection; name: string; size: number; sha256: string };

export function openFileLink(
  channel: RTCDataChannel,
  maxBytes: number,
  saveAs: (blob: Blob, name: string) => void,
  transferred: (file: Transferred) => void,
): FileLink {
  channel.binaryType = "arraybuffer";
  channel.bufferedAmountLowThreshold = FILE_BUFFER_LOW_BYTES;
  const transfers = createStore<readonly Transfer[]>([]);
  const outgoing = new Map<number, Outgoing>();
  const incoming = new Map<number, Incoming>();
  /** Offers from the end user not yet fetched: id → sha256. */
  const offers = new Map<number, { sha256: string; size: number; name: string }>();
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
  const add = (transfer: Transfer): void => transfers.set([...transfers.get(), transfer]);
  const send = (message: FileMessage): void => {
    if (channel.readyState === "open") channel.send(JSON.stringify(message));
  };
  const rate = (bytes: number, since: number): number => {
    const seconds = (performance.now() - since) / 1000;
    return seconds > 0 ? bytes / seconds : 0;
  };
  const whenLow = (): Promise<void> =>
    new Promise((resolve) => {
      const done = (): void => {
        channel.removeEventListener("bufferedamountlow", done);
        channel.removeEventListener("close", done);
        resolve();
      };
      channel.addEventListener("bufferedamountlow", done);
      channel.addEventListener("close", done);
    });

  const stream = async (id: number, transfer: Outgoing, offset: number): Promise<void> => {
    let position = offset;
    while (position < transfer.file.size) {
      if (transfer.cancelled || closed || channel.readyState !== "open") return;
      if (channel.bufferedAmount > FILE_BUFFER_HIGH_BYTES) {
        await whenLow();
        continue;
      }
      const end = Math.min(position + FILE_CHUNK_BYTES * 16, transfer.file.size);
      const slice = new Uint8Array(await transfer.file.slice(position, end).arrayBuffer());
      for (let at = 0; at < slice.byteLength; at += FILE_CHUNK_BYTES) {
        if (transfer.cancelled || closed || channel.readyState !== "open") return;
        channel.send(
          encodeFileChunk(id, slice.subarray(at, at + FILE_CHUNK_BYTES)) as Uint8Array<ArrayBuffer>,
        );
      }
      position = end;
    }
    send({ type: "file.done", id });
  };

  const endOutgoing = (id: number, phase: TransferPhase, code: FileErrorCode | null = null): void => {
    const transfer = outgoing.get(id);
    if (transfer === undefined) return;
    outgoing.delete(id);
    transfer.cancelled = true;
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

  const handlers: Handlers = {
    "file.offer": (message) => {
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
    },
    "file.accept": (message) => {
      const transfer = outgoing.get(message.id);
      if (transfer === undefined || message.offset > transfer.file.size) return;
      transfer.started = performance.now();
      update("out", message.id, { phase: "sending" });
      stream(message.id, transfer, message.offset).catch(() => {
        send({ type: "file.cancel", id: message.id, by: "sender" });
        endOutgoing(message.id, "failed", "READ_FAILED");
      });
    },
    "file.refuse": (message) => endOutgoing(message.id, "failed", message.code),
    "file.progress": (message) => {
      const transfer = outgoing.get(message.id);
      if (transfer === undefined) return;
      update("out", message.id, {
        bytes: message.received,
        bytesPerSecond: rate(message.received, transfer.started),
      });
    },
    "file.saved": (message) => endOutgoing(message.id, "done"),
    "file.failed": (message) => endOutgoing(message.id, "failed", message.code),
    "file.done": (message) => {
      const transfer = incoming.get(message.id);
      if (transfer === undefined) return;
      incoming.delete(message.id);
      const offer = offers.get(message.id);
      offers.delete(message.id);
      const ok =
        offer !== undefined &&
        transfer.received === offer.size &&
        bytesToHex(transfer.hash.digest()) === transfer.sha256;
      if (!ok) {
        send({ type: "file.failed", id: message.id, code: "HASH_MISMATCH" });
        update("in", message.id, { phase: "failed", code: "HASH_MISMATCH" });
        return;
      }
      send({ type: "file.saved", id: message.id });
      update("in", message.id, {
        phase: "done",
        bytes: transfer.received,
        bytesPerSecond: rate(transfer.received, transfer.started),
      });
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
      offers.delete(message.id);
      incoming.delete(message.id);
      update("in", message.id, { phase: "cancelled" });
    },
  };

  const onChunk = (data: ArrayBuffer): void => {
    const chunk = decodeFileChunk(new Uint8Array(data));
    const transfer = chunk === undefined ? undefined : incoming.get(chunk.id);
    if (chunk === undefined || transfer === undefined) return;
    const offer = offers.get(chunk.id);
    if (offer === undefined || transfer.received + chunk.data.byteLength > offer.size) {
      incoming.delete(chunk.id);
      send({ type: "file.failed", id: chunk.id, code: "BAD_DATA" });
      update("in", chunk.id, { phase: "failed", code: "BAD_DATA" });
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
        bytesPerSecond: rate(transfer.received, transfer.started),
      });
    }
  };

  const onMessage = (event: MessageEvent<unknown>): void => {
    if (closed) return;
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
  const onClose = (): void => {
    for (const transfer of transfers.get()) {
      if (!["done", "failed", "cancelled"].includes(transfer.phase))
        update(transfer.direction, transfer.id, { phase: "failed", code: transfer.code ?? "BAD_DATA" });
    }
    outgoing.clear();
    incoming.clear();
  };
  channel.addEventListener("message", onMessage);
  channel.addEventListener("close", onClose);

  return {
    transfers,
    maxBytes,
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
          outgoing.set(id, { file, sha256: digest, started: performance.now(), cancelled: false });
          send({ type: "file.offer", id, name: file.name, size: file.size, sha256: digest });
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
        lastTold: now,
      });
      update("in", id, { phase: "receiving" });
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
      offers.delete(id);
      incoming.delete(id);
      send({ type: "file.cancel", id, by: "receiver" });
      update("in", id, { phase: "cancelled" });
    },
    close() {
      closed = true;
      channel.removeEventListener("message", onMessage);
      channel.removeEventListener("close", onClose);
      onClose();
    },
  };
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
