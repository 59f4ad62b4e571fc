import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { sanitizeFileName } from "../../../shared/file-names.ts";
import {
  decodeFileChunk,
  type FileErrorCode,
  type FileMessage,
  fileSizeAllowed,
} from "../../../shared/file-transfer.ts";
import { FILE_PROGRESS_INTERVAL_MS, FILE_RESUME_WINDOW_MS } from "../../../shared/limits.ts";
import { type LinkContext, rate, type TransferPhase, type Transferred } from "./file-link-list.ts";
import { incomingLife } from "./file-link-states.ts";

/**
 * The end user's files to the technician, one half of the console's file link (file-link.ts): an
 * offer is listed; the technician's click fetches it; the chunks are kept (a Blob at the end) and
 * hashed as they arrive; `file.done` checks size and SHA-256 and hands the file to the browser. A
 * channel that goes mid-way pauses it for FILE_RESUME_WINDOW_MS; the agent's offer of it again on
 * the next channel resumes it from the bytes already here.
 */

type Message<K extends FileMessage["type"]> = Extract<FileMessage, { type: K }>;

type Incoming = {
  readonly sha256: string;
  readonly parts: Uint8Array[];
  readonly hash: ReturnType<typeof sha256.create>;
  readonly life: ReturnType<typeof incomingLife>;
  expiry: ReturnType<typeof setTimeout> | null;
  received: number;
  started: number;
  startBytes: number;
  lastTold: number;
};

export type IncomingFiles = {
  /** The handlers of the agent's messages about its files. */
  readonly offered: (message: Message<"file.offer">) => void;
  readonly done: (message: Message<"file.done">) => void;
  /** The agent (the sender) cancelled one of its files, or gave up one it could not resume. */
  readonly cancelledBySender: (id: number) => void;
  /** A binary message: a chunk of a file being fetched. */
  chunk(data: ArrayBuffer): void;
  /** The channel went away: what is fetched waits for the agent's offer again, for the resume window. */
  pauseAll(): void;
  /** The technician fetches a file the end user offered. */
  fetch(id: number): void;
  /** The technician cancels a file offered or being fetched. */
  cancel(id: number): void;
  /** The link closes: the agent is told of every file being fetched (while the channel still is). */
  tellClosing(): void;
  /** The link closed: timers stopped, nothing kept. */
  close(): void;
};

export function createIncomingFiles(
  link: LinkContext,
  saveAs: (blob: Blob, name: string) => void,
  transferred: (file: Transferred) => void,
): IncomingFiles {
  const { list, send } = link;
  const incoming = new Map<number, Incoming>();
  /** Offers from the end user (fetched or not, until they end): id → what was offered. */
  const offers = new Map<number, { sha256: string; size: number; name: string }>();
  /** How the end user's files ended, for an offer of one again (its `file.saved` may be lost). */
  const ended = new Map<number, { sha256: string; code: FileErrorCode | null }>();

  /** A transfer ends (offer and data dropped), remembered for an offer of it again. */
  const end = (id: number, phase: TransferPhase, code: FileErrorCode | null): void => {
    const transfer = incoming.get(id);
    if (transfer?.expiry != null) clearTimeout(transfer.expiry);
    incoming.delete(id);
    const offer = offers.get(id);
    offers.delete(id);
    if (offer !== undefined && phase !== "cancelled") ended.set(id, { sha256: offer.sha256, code });
    list.update("in", id, { phase, code });
  };

  /** Offered again after the channel came back: from the bytes already here. */
  const resume = (id: number, kept: Incoming): void => {
    if (kept.expiry !== null) clearTimeout(kept.expiry);
    kept.expiry = null;
    kept.life.set("receiving");
    kept.started = performance.now();
    kept.startBytes = kept.received;
    list.update("in", id, { phase: "receiving", bytes: kept.received });
    send({ type: "file.accept", id, offset: kept.received });
  };

  return {
    /** The end user's file offered (again): resumed from what is here, answered, or listed. */
    offered(message) {
      const kept = incoming.get(message.id);
      const known = offers.get(message.id);
      if (known !== undefined && known.sha256 === message.sha256 && known.size === message.size) {
        if (kept !== undefined) resume(message.id, kept);
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
      if (known !== undefined) end(message.id, "failed", "INTERRUPTED");
      offers.set(message.id, { sha256: message.sha256, size: message.size, name: message.name });
      list.add({
        direction: "in",
        id: message.id,
        name: sanitizeFileName(message.name),
        size: message.size,
        phase: "offered",
        bytes: 0,
        bytesPerSecond: 0,
        code: fileSizeAllowed(message.size, link.maxBytes) ? null : "TOO_LARGE",
      });
    },
    done(message) {
      const transfer = incoming.get(message.id);
      if (transfer === undefined || transfer.life.state === "paused") return;
      const offer = offers.get(message.id);
      const ok =
        offer !== undefined &&
        transfer.received === offer.size &&
        bytesToHex(transfer.hash.digest()) === transfer.sha256;
      if (!ok) {
        send({ type: "file.failed", id: message.id, code: "HASH_MISMATCH" });
        end(message.id, "failed", "HASH_MISMATCH");
        return;
      }
      send({ type: "file.saved", id: message.id });
      const bytesPerSecond = rate(transfer.received - transfer.startBytes, transfer.started);
      end(message.id, "done", null);
      list.update("in", message.id, { bytes: transfer.received, bytesPerSecond });
      saveAs(new Blob(transfer.parts as BlobPart[]), sanitizeFileName(offer.name));
      transferred({
        direction: "from_end_user",
        name: sanitizeFileName(offer.name),
        size: offer.size,
        sha256: offer.sha256,
      });
    },
    cancelledBySender(id) {
      // The agent gave up a file it could not resume in time: failed, not cancelled by anyone.
      const paused = incoming.get(id)?.life.state === "paused";
      end(id, paused ? "failed" : "cancelled", paused ? "INTERRUPTED" : null);
    },
    chunk(data) {
      const chunk = decodeFileChunk(new Uint8Array(data));
      const transfer = chunk === undefined ? undefined : incoming.get(chunk.id);
      if (chunk === undefined || transfer === undefined || transfer.life.state === "paused") return;
      const offer = offers.get(chunk.id);
      if (offer === undefined || transfer.received + chunk.data.byteLength > offer.size) {
        send({ type: "file.failed", id: chunk.id, code: "BAD_DATA" });
        end(chunk.id, "failed", "BAD_DATA");
        return;
      }
      // The data is kept (a Blob at the end); the hash goes along as it arrives.
      const part = chunk.data.slice();
      transfer.parts.push(part);
      transfer.hash.update(part);
      transfer.received += part.byteLength;
      const now = performance.now();
      if (now - transfer.lastTold >= FILE_PROGRESS_INTERVAL_MS) {
        transfer.lastTold = now;
        send({ type: "file.progress", id: chunk.id, received: transfer.received });
        list.update("in", chunk.id, {
          bytes: transfer.received,
          bytesPerSecond: rate(transfer.received - transfer.startBytes, transfer.started),
        });
      }
    },
    pauseAll() {
      for (const [id, transfer] of incoming) {
        if (transfer.life.state === "paused") continue;
        transfer.life.set("paused");
        transfer.expiry ??= setTimeout(() => {
          send({ type: "file.failed", id, code: "INTERRUPTED" });
          end(id, "failed", "INTERRUPTED");
        }, FILE_RESUME_WINDOW_MS);
        list.update("in", id, { phase: "paused" });
      }
    },
    fetch(id) {
      const offer = offers.get(id);
      if (offer === undefined || incoming.has(id) || !fileSizeAllowed(offer.size, link.maxBytes)) return;
      const now = performance.now();
      incoming.set(id, {
        sha256: offer.sha256,
        parts: [],
        hash: sha256.create(),
        life: incomingLife(link.isOpen() ? "receiving" : "paused"),
        received: 0,
        started: now,
        startBytes: 0,
        lastTold: now,
        expiry: null,
      });
      list.update("in", id, { phase: link.isOpen() ? "receiving" : "paused" });
      send({ type: "file.accept", id, offset: 0 });
    },
    cancel(id) {
      if (!offers.has(id)) return;
      send({ type: "file.cancel", id, by: "receiver" });
      end(id, "cancelled", null);
    },
    tellClosing() {
      for (const id of incoming.keys()) send({ type: "file.cancel", id, by: "receiver" });
    },
    close() {
      for (const transfer of incoming.values()) if (transfer.expiry !== null) clearTimeout(transfer.expiry);
      incoming.clear();
    },
  };
}
