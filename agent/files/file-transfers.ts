/**
 * File transfers on one technician's `files` channel (the protocol: shared/file-transfer.ts), on
 * the agent. Incoming offers are taken only while `policy` allows (control granted, files not
 * refused) and saved to the download folder (incoming-file.ts); the end user's own offers go out
 * with flow control. Every message is decoded in one place and handled by the one handler of its
 * type. What the end user should be told is emitted; technician-peers.ts words it.
 */
import { createHash } from "node:crypto";
import { EventEmitter } from "node:events";
import { createReadStream } from "node:fs";
import { type FileHandle, open, stat } from "node:fs/promises";
import { basename } from "node:path";
import { decodeMessage } from "../../shared/decode.ts";
import {
  decodeFileChunk,
  FILE_CHUNK_BYTES,
  FILE_FRAME_HEADER_BYTES,
  type FileErrorCode,
  type FileMessage,
  fileMessageSchema,
  fileSizeAllowed,
} from "../../shared/file-transfer.ts";
import {
  FILE_BUFFER_HIGH_BYTES,
  FILE_BUFFER_LOW_BYTES,
  FILE_PROGRESS_INTERVAL_MS,
  MAX_FILE_BYTES,
  MAX_TRANSFERS_PER_PEER,
} from "../../shared/limits.ts";
import type { FileLink } from "./file-link.ts";
import { IncomingFile } from "./incoming-file.ts";

/** Messages read from the file at once (16 × 64 KB: 1 MB a read). */
const FILE_READ_FRAMES = 16;

export type Direction = "in" | "out";
type Named = {
  readonly id: number;
  readonly direction: Direction;
  readonly name: string;
  readonly size: number;
};

export type FileTransfersEvents = {
  /** An incoming file was taken: it is being saved. */
  incoming: [Named];
  /** An incoming file was refused. */
  refused: [Named & { code: FileErrorCode }];
  /** Bytes so far, each way, about every FILE_PROGRESS_INTERVAL_MS. */
  progress: [Named & { bytes: number; bytesPerSecond: number }];
  /** The end user's file was offered to the technician (hashed, waiting for them to take it). */
  offered: [Named];
  /** Done: saved under `path` (in), or received whole by the technician (out). */
  finished: [Named & { path: string | undefined; bytesPerSecond: number }];
  failed: [Named & { code: FileErrorCode }];
  cancelled: [Named & { byUs: boolean }];
  invalid: [string];
};

export type FileTransfersOptions = {
  /** The download folder (downloads-dir.ts). */
  readonly dir: string;
  /** Whether an incoming file may be taken now; a code says why not. */
  readonly policy: () => FileErrorCode | undefined;
  readonly maxBytes?: number;
};

type Incoming = Named & { readonly file: IncomingFile; readonly started: number; lastTold: number };
type Outgoing = Named & {
  readonly path: string;
  started: number;
  sending: boolean;
  cancelled: boolean;
};

type Handlers = {
  [K in FileMessage["type"]]: (message: Extract<FileMessage, { type: K }>) => void | Promise<void>;
};

export class FileTransfers extends EventEmitter<FileTransfersEvents> {
  readonly #link: FileLink;
  readonly #options: FileTransfersOptions;
  readonly #incoming = new Map<number, Incoming>();
  readonly #outgoing = new Map<number, Outgoing>();
  readonly #handlers: Handlers;
  #nextId = 1;
  #closed = false;

  constructor(link: FileLink, options: FileTransfersOptions) {
    super();
    this.#link = link;
    this.#options = options;
    this.#handlers = {
      "file.offer": (message) => this.#offered(message),
      "file.accept": (message) => this.#accepted(message),
      "file.refuse": (message) => this.#endOutgoing(message.id, "failed", message.code),
      "file.progress": (message) => this.#sendProgress(message.id, message.received),
      "file.saved": (message) => this.#endOutgoing(message.id, "finished"),
      "file.failed": (message) => this.#endOutgoing(message.id, "failed", message.code),
      "file.done": (message) => this.#done(message.id),
      "file.cancel": (message) =>
        message.by === "sender"
          ? this.#cancelIncoming(message.id, false)
          : this.#endOutgoing(message.id, "cancelled"),
    };
    link.onMessage((data) => this.#receive(data));
    link.onClose(() => void this.close());
  }

  /** Transfers under way, either way. */
  get active(): number {
    return this.#incoming.size + this.#outgoing.size;
  }

  /**
   * Offers a file of the end user's to the technician: stat, SHA-256 (read once), then the offer.
   * Rejects with the code of a file that cannot go (READ_FAILED, TOO_LARGE, TOO_MANY).
   */
  async offer(path: string): Promise<void> {
    if (this.#outgoing.size >= MAX_TRANSFERS_PER_PEER) throw new FileOfferError("TOO_MANY");
    const info = await stat(path).catch(() => undefined);
    if (info === undefined || !info.isFile()) throw new FileOfferError("READ_FAILED");
    if (!fileSizeAllowed(info.size, this.#options.maxBytes ?? MAX_FILE_BYTES))
      throw new FileOfferError("TOO_LARGE");
    const sha256 = await hashFile(path).catch(() => undefined);
    if (sha256 === undefined) throw new FileOfferError("READ_FAILED");
    if (this.#closed) return;
    const id = this.#nextId++;
    const transfer: Outgoing = {
      id,
      direction: "out",
      name: basename(path),
      size: info.size,
      path,
      started: 0,
      sending: false,
      cancelled: false,
    };
    this.#outgoing.set(id, transfer);
    this.#send({ type: "file.offer", id, name: transfer.name, size: transfer.size, sha256 });
    this.emit("offered", transfer);
  }

  /** The end user stops every transfer under way; the technician is told. */
  cancelAll(): number {
    const count = this.active;
    for (const id of [...this.#incoming.keys()]) void this.#cancelIncoming(id, true);
    for (const id of [...this.#outgoing.keys()]) this.#endOutgoing(id, "cancelled", undefined, true);
    return count;
  }

  /** The channel or peer is gone: incoming files are removed, sending stops. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const incoming = [...this.#incoming.values()];
    this.#incoming.clear();
    for (const transfer of this.#outgoing.values()) {
      transfer.cancelled = true;
      this.emit("failed", { ...transfer, code: "BAD_DATA" });
    }
    this.#outgoing.clear();
    await Promise.all(incoming.map((transfer) => transfer.file.abort()));
    for (const transfer of incoming) this.emit("cancelled", { ...transfer, byUs: false });
  }

  #send(message: FileMessage): void {
    if (this.#link.open && !this.#closed) this.#link.send(JSON.stringify(message));
  }

  #receive(data: string | Buffer): void {
    if (this.#closed) return;
    if (typeof data !== "string") {
      this.#chunk(data);
      return;
    }
    const decoded = decodeMessage(fileMessageSchema, data);
    if (!decoded.ok) {
      this.emit("invalid", decoded.error.message);
      return;
    }
    const handle = this.#handlers[decoded.value.type] as (message: FileMessage) => void | Promise<void>;
    void Promise.resolve(handle(decoded.value)).catch((error: unknown) =>
      this.emit("invalid", error instanceof Error ? error.message : String(error)),
    );
  }

  async #offered(message: Extract<FileMessage, { type: "file.offer" }>): Promise<void> {
    const named: Named = { id: message.id, direction: "in", name: message.name, size: message.size };
    const refuse = (code: FileErrorCode) => {
      this.#send({ type: "file.refuse", id: message.id, code });
      this.emit("refused", { ...named, code });
    };
    const denied = this.#options.policy();
    if (denied !== undefined) return refuse(denied);
    if (!fileSizeAllowed(message.size, this.#options.maxBytes ?? MAX_FILE_BYTES)) return refuse("TOO_LARGE");
    if (this.#incoming.has(message.id) || this.#incoming.size >= MAX_TRANSFERS_PER_PEER)
      return refuse("TOO_MANY");
    const file = new IncomingFile(this.#options.dir, message.name, message.size, message.sha256);
    const transfer: Incoming = { ...named, name: file.name, file, started: performance.now(), lastTold: 0 };
    this.#incoming.set(message.id, transfer);
    try {
      await file.open();
    } catch {
      this.#incoming.delete(message.id);
      return refuse("WRITE_FAILED");
    }
    if (this.#incoming.get(message.id) !== transfer) return void file.abort();
    this.emit("incoming", transfer);
    this.#send({ type: "file.accept", id: message.id, offset: 0 });
  }

  #chunk(frame: Buffer): void {
    const chunk = decodeFileChunk(frame);
    const transfer = chunk === undefined ? undefined : this.#incoming.get(chunk.id);
    if (chunk === undefined || transfer === undefined) {
      this.emit("invalid", "file data for no transfer");
      return;
    }
    if (!transfer.file.write(chunk.data)) {
      void this.#failIncoming(transfer, "BAD_DATA");
      return;
    }
    const now = performance.now();
    if (now - transfer.lastTold >= FILE_PROGRESS_INTERVAL_MS) {
      transfer.lastTold = now;
      this.#send({ type: "file.progress", id: transfer.id, received: transfer.file.received });
      this.emit("progress", {
        ...transfer,
        bytes: transfer.file.received,
        bytesPerSecond: rate(transfer.file.received, transfer.started),
      });
    }
  }

  async #done(id: number): Promise<void> {
    const transfer = this.#incoming.get(id);
    if (transfer === undefined) return;
    this.#send({ type: "file.progress", id, received: transfer.file.received });
    const result = await transfer.file.finish();
    if (this.#incoming.get(id) !== transfer) return;
    this.#incoming.delete(id);
    if ("code" in result) {
      this.#send({ type: "file.failed", id, code: result.code });
      this.emit("failed", { ...transfer, code: result.code });
      return;
    }
    this.#send({ type: "file.saved", id });
    this.emit("finished", {
      ...transfer,
      path: result.path,
      bytesPerSecond: rate(transfer.size, transfer.started),
    });
  }

  async #failIncoming(transfer: Incoming, code: FileErrorCode): Promise<void> {
    if (this.#incoming.get(transfer.id) !== transfer) return;
    this.#incoming.delete(transfer.id);
    this.#send({ type: "file.failed", id: transfer.id, code });
    // Told once it is true: the temporary file is gone.
    await transfer.file.abort();
    this.emit("failed", { ...transfer, code });
  }

  async #cancelIncoming(id: number, byUs: boolean): Promise<void> {
    const transfer = this.#incoming.get(id);
    if (transfer === undefined) return;
    this.#incoming.delete(id);
    if (byUs) this.#send({ type: "file.cancel", id, by: "receiver" });
    await transfer.file.abort();
    this.emit("cancelled", { ...transfer, byUs });
  }

  #accepted(message: Extract<FileMessage, { type: "file.accept" }>): void {
    const transfer = this.#outgoing.get(message.id);
    if (transfer === undefined || transfer.sending || message.offset > transfer.size) return;
    transfer.sending = true;
    transfer.started = performance.now();
    this.#stream(transfer, message.offset).catch(() =>
      this.#endOutgoing(transfer.id, "failed", "READ_FAILED", true),
    );
  }

  /**
   * Reads the file from `offset` into binary messages, never more than FILE_BUFFER_HIGH_BYTES queued.
   * One read (readv) fills FILE_READ_FRAMES messages at once: a read per 64 KB message costs more
   * in thread-pool round trips than the native files connection spends sending it.
   */
  async #stream(transfer: Outgoing, offset: number): Promise<void> {
    let handle: FileHandle | undefined;
    try {
      handle = await open(transfer.path, "r");
      let position = offset;
      while (position < transfer.size) {
        if (transfer.cancelled || this.#closed || !this.#link.open) return;
        if (this.#link.bufferedAmount > FILE_BUFFER_HIGH_BYTES) {
          await new Promise<void>((resolve) => this.#link.whenLow(FILE_BUFFER_LOW_BYTES, resolve));
          continue;
        }
        const frames: Buffer[] = [];
        let length = 0;
        for (let n = 0; n < FILE_READ_FRAMES && position + length < transfer.size; n++) {
          const part = Math.min(FILE_CHUNK_BYTES, transfer.size - position - length);
          const frame = Buffer.allocUnsafe(FILE_FRAME_HEADER_BYTES + part);
          frame.writeUInt32BE(transfer.id, 0);
          frames.push(frame);
          length += part;
        }
        const parts = frames.map((frame) => frame.subarray(FILE_FRAME_HEADER_BYTES));
        const { bytesRead } = await handle.readv(parts, position);
        if (bytesRead !== length) throw new Error("the file got shorter while it was sent");
        if (transfer.cancelled || this.#closed) return;
        for (const frame of frames) this.#link.send(frame);
        position += length;
      }
      this.#send({ type: "file.done", id: transfer.id });
    } finally {
      await handle?.close();
    }
  }

  #sendProgress(id: number, received: number): void {
    const transfer = this.#outgoing.get(id);
    if (transfer === undefined || !transfer.sending) return;
    this.emit("progress", { ...transfer, bytes: received, bytesPerSecond: rate(received, transfer.started) });
  }

  #endOutgoing(
    id: number,
    how: "finished" | "failed" | "cancelled",
    code: FileErrorCode = "BAD_DATA",
    byUs = false,
  ): void {
    const transfer = this.#outgoing.get(id);
    if (transfer === undefined) return;
    this.#outgoing.delete(id);
    transfer.cancelled = true;
    if (how === "finished")
      this.emit("finished", {
        ...transfer,
        path: undefined,
        bytesPerSecond: rate(transfer.size, transfer.started),
      });
    else if (how === "cancelled") {
      if (byUs) this.#send({ type: "file.cancel", id, by: "sender" });
      this.emit("cancelled", { ...transfer, byUs });
    } else {
      if (byUs) this.#send({ type: "file.cancel", id, by: "sender" });
      this.emit("failed", { ...transfer, code });
    }
  }
}

/** Why the end user's file could not be offered. */
export class FileOfferError extends Error {
  readonly code: FileErrorCode;
  constructor(code: FileErrorCode) {
    super(code);
    this.code = code;
  }
}

function rate(bytes: number, since: number): number {
  const seconds = (performance.now() - since) / 1000;
  return seconds > 0 ? bytes / seconds : 0;
}

/** The SHA-256 of a file, read once as a stream. */
export async function hashFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 }))
    hash.update(chunk as Buffer);
  return hash.digest("hex");
}
