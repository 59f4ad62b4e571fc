/**
 * File transfers between the agent and one technician (the protocol: shared/file-transfer.ts), over
 * whichever `files` channel to that technician is current (attach()). Incoming offers are taken
 * only while `policy` allows (control granted, files not refused) and saved to the download folder
 * (incoming-file.ts); the end user's own offers go out with flow control (outgoing-stream.ts).
 *
 * The channel may go away mid-transfer (the files connection failed and is made again, the view's
 * peer was replaced): what runs is suspended for the resume window, the incoming file kept under
 * its temporary name, and resumed from the bytes the receiver has once a channel is open again; a
 * window that runs out fails it (INTERRUPTED) and removes the partial file. The states are data
 * (transfer-states.ts). Every message is decoded in one place and handled by the one handler of
 * its type. What the end user should be told is emitted; technician-peers.ts words it.
 */
import { EventEmitter } from "node:events";
import { stat } from "node:fs/promises";
import { basename } from "node:path";
import { decodeMessage } from "../../shared/decode.ts";
import {
  type FileErrorCode,
  type FileMessage,
  fileMessageSchema,
  fileSizeAllowed,
} from "../../shared/file-transfer.ts";
import { FILE_RESUME_WINDOW_MS, MAX_FILE_BYTES, MAX_TRANSFERS_PER_PEER } from "../../shared/limits.ts";
import type { FileLink } from "./file-link.ts";
import { IncomingTransfers } from "./incoming-transfers.ts";
import { hashFile, streamFile } from "./outgoing-stream.ts";
import { type FileTransfersEvents, type FileTransfersOptions, type Named, rate } from "./transfer-events.ts";
import { move, OUTGOING_TRANSITIONS, type OutgoingState } from "./transfer-states.ts";

export { hashFile } from "./outgoing-stream.ts";
export type { Direction, FileTransfersEvents, FileTransfersOptions } from "./transfer-events.ts";

type Outgoing = Named & {
  expiry: NodeJS.Timeout | undefined;
  readonly path: string;
  readonly sha256: string;
  state: OutgoingState;
  started: number;
  startBytes: number;
  /** What the receiver last said it has (`file.progress`). */
  acknowledged: number;
  /** The receiver's `file.accept {window}`: how far past `acknowledged` the stream may go. */
  window: number | undefined;
  /** Wakes a stream waiting for the receiver's progress (or to find it should stop). */
  wake: (() => void) | undefined;
  /** Counts the streams started: an older one stops when it sees a newer. */
  run: number;
};
type Handlers = {
  [K in FileMessage["type"]]: (message: Extract<FileMessage, { type: K }>) => void | Promise<void>;
};

export class FileTransfers extends EventEmitter<FileTransfersEvents> {
  readonly #options: FileTransfersOptions;
  readonly #incoming: IncomingTransfers;
  readonly #outgoing = new Map<number, Outgoing>();
  /** Outgoing transfers whose window ran out while no channel was open: the receiver is told on the next. */
  readonly #expiredOut = new Set<number>();
  readonly #handlers: Handlers;
  #link: FileLink | undefined;
  /** The link whose opening was acted on (offers sent again): once per link. */
  #resumedOn: FileLink | undefined;
  #nextId = 1;
  #closed = false;

  constructor(link: FileLink | undefined, options: FileTransfersOptions) {
    super();
    this.#options = options;
    this.#incoming = new IncomingTransfers({
      send: (message) => this.#send(message),
      events: this,
      options,
    });
    this.#handlers = {
      "file.offer": (message) => this.#incoming.offered(message),
      "file.accept": (message) => this.#accepted(message),
      "file.refuse": (message) => this.#endOutgoing(message.id, "failed", message.code),
      "file.progress": (message) => this.#sendProgress(message.id, message.received),
      "file.saved": (message) => this.#endOutgoing(message.id, "finished"),
      "file.failed": (message) => this.#endOutgoing(message.id, "failed", message.code),
      "file.done": (message) => this.#incoming.done(message.id),
      "file.cancel": (message) =>
        message.by === "sender"
          ? this.#incoming.cancel(message.id, false)
          : this.#endOutgoing(message.id, "cancelled"),
    };
    if (link !== undefined) this.attach(link);
  }

  /** Transfers under way, either way (waiting for a channel included). */
  get active(): number {
    return this.#incoming.size + this.#outgoing.size;
  }

  /** Whether a channel is open now. */
  get linkOpen(): boolean {
    return this.#link?.open === true;
  }

  /**
   * The technician's current `files` channel. What ran on the previous one is suspended and, once
   * this one opens, offered again. A link is attached once.
   */
  attach(link: FileLink): void {
    if (this.#closed || link === this.#link) return;
    this.#suspendAll();
    this.#link = link;
    link.onMessage((data) => {
      if (this.#link === link) this.#receive(data);
    });
    link.onClose(() => this.release(link));
    link.onOpen(() => {
      if (this.#link === link && this.#resumedOn !== link) {
        this.#resumedOn = link;
        this.#resumeAll();
      }
    });
  }

  /** `link` is gone (closed, or its peer closed): what runs on it waits for the next one. */
  release(link: FileLink): void {
    if (this.#link !== link) return;
    this.#link = undefined;
    this.#suspendAll();
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
      sha256,
      state: "offered",
      started: 0,
      startBytes: 0,
      acknowledged: 0,
      window: undefined,
      wake: undefined,
      run: 0,
      expiry: undefined,
    };
    this.#outgoing.set(id, transfer);
    this.#sendOffer(transfer);
    this.emit("offered", transfer);
  }

  /** The end user stops every transfer under way; the technician is told. */
  cancelAll(): number {
    const count = this.active;
    this.#incoming.cancelAll();
    for (const id of [...this.#outgoing.keys()]) this.#endOutgoing(id, "cancelled", undefined, true);
    return count;
  }

  /** The technician is gone for good: incoming files are removed, sending stops. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#link = undefined;
    for (const transfer of this.#outgoing.values()) {
      clearTimeout(transfer.expiry);
      transfer.run++;
      wake(transfer);
      this.emit("failed", { ...transfer, code: "INTERRUPTED" });
    }
    this.#outgoing.clear();
    await this.#incoming.close();
  }

  #send(message: FileMessage): void {
    const link = this.#link;
    if (link?.open === true && !this.#closed) link.send(JSON.stringify(message));
  }

  #sendOffer(transfer: Outgoing): void {
    const { id, name, size, sha256 } = transfer;
    this.#send({ type: "file.offer", id, name, size, sha256 });
  }

  #receive(data: string | Buffer): void {
    if (this.#closed) return;
    if (typeof data !== "string") {
      this.#incoming.chunk(data);
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

  /** The channel went away: running transfers wait for the window, offers stay offered. */
  #suspendAll(): void {
    const windowMs = this.#options.resumeWindowMs ?? FILE_RESUME_WINDOW_MS;
    this.#incoming.suspendAll(windowMs);
    for (const transfer of this.#outgoing.values()) {
      if (transfer.state !== "sending" && transfer.state !== "sent") continue;
      move(transfer, "suspended", OUTGOING_TRANSITIONS);
      wake(transfer);
      this.#startExpiry(transfer, windowMs);
      this.emit("interrupted", { ...transfer, bytes: transfer.acknowledged, windowMs });
    }
  }

  /** A channel is open (again): the end user's files are offered again; the receiver says from where. */
  #resumeAll(): void {
    for (const id of this.#expiredOut) this.#send({ type: "file.cancel", id, by: "sender" });
    this.#expiredOut.clear();
    for (const transfer of this.#outgoing.values()) {
      if (transfer.state === "suspended") move(transfer, "resuming", OUTGOING_TRANSITIONS);
      if (transfer.state === "offered" || transfer.state === "resuming") this.#sendOffer(transfer);
    }
  }

  /** The window of an outgoing transfer waiting for a channel: then it fails (the receiver told on the next one). */
  #startExpiry(transfer: Outgoing, windowMs: number): void {
    clearTimeout(transfer.expiry);
    transfer.expiry = setTimeout(() => {
      transfer.expiry = undefined;
      if (transfer.state !== "suspended" && transfer.state !== "resuming") return;
      if (!this.linkOpen) this.#expiredOut.add(transfer.id);
      this.#endOutgoing(transfer.id, "failed", "INTERRUPTED", true);
    }, windowMs);
    transfer.expiry.unref();
  }

  #accepted(message: Extract<FileMessage, { type: "file.accept" }>): void {
    const transfer = this.#outgoing.get(message.id);
    const link = this.#link;
    if (transfer === undefined || link === undefined || message.offset > transfer.size) return;
    if (transfer.state !== "offered" && transfer.state !== "resuming") return;
    const resumed = transfer.state === "resuming";
    move(transfer, "sending", OUTGOING_TRANSITIONS);
    clearTimeout(transfer.expiry);
    transfer.expiry = undefined;
    transfer.started = performance.now();
    transfer.startBytes = message.offset;
    transfer.acknowledged = message.offset;
    transfer.window = message.window;
    if (resumed) this.emit("resumed", { ...transfer, bytes: message.offset });
    const run = ++transfer.run;
    const stopped = () =>
      transfer.run !== run || transfer.state !== "sending" || this.#link !== link || this.#closed;
    const { window } = message;
    const room =
      window === undefined
        ? undefined
        : {
            limit: () => transfer.acknowledged + window,
            wait: () =>
              new Promise<void>((resolve) => {
                transfer.wake = resolve;
              }),
          };
    streamFile(link, transfer, message.offset, stopped, room)
      .then((whole) => {
        if (!whole || stopped()) return;
        move(transfer, "sent", OUTGOING_TRANSITIONS);
        this.#send({ type: "file.done", id: transfer.id });
      })
      .catch(() => {
        if (!stopped()) this.#endOutgoing(transfer.id, "failed", "READ_FAILED", true);
      });
  }

  #sendProgress(id: number, received: number): void {
    const transfer = this.#outgoing.get(id);
    if (transfer === undefined || (transfer.state !== "sending" && transfer.state !== "sent")) return;
    transfer.acknowledged = Math.max(transfer.acknowledged, received);
    wake(transfer);
    this.emit("progress", {
      ...transfer,
      bytes: received,
      bytesPerSecond: rate(received - transfer.startBytes, transfer.started),
    });
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
    clearTimeout(transfer.expiry);
    transfer.run++;
    wake(transfer);
    if (how === "finished")
      this.emit("finished", {
        ...transfer,
        path: undefined,
        bytesPerSecond: rate(transfer.size - transfer.startBytes, transfer.started),
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

/** Lets a stream waiting for room go on (or find that it should stop). */
function wake(transfer: Outgoing): void {
  const waiting = transfer.wake;
  transfer.wake = undefined;
  waiting?.();
}

/** Why the end user's file could not be offered. */
export class FileOfferError extends Error {
  readonly code: FileErrorCode;
  constructor(code: FileErrorCode) {
    super(code);
    this.code = code;
  }
}
