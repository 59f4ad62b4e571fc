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
  decodeFileChunk,
  type FileErrorCode,
  type FileMessage,
  fileMessageSchema,
  fileSizeAllowed,
} from "../../shared/file-transfer.ts";
import type { Transitions } from "../../shared/lifecycle.ts";
import {
  FILE_PROGRESS_INTERVAL_MS,
  FILE_RESUME_WINDOW_MS,
  FILE_WRITE_WINDOW_BYTES,
  MAX_FILE_BYTES,
  MAX_TRANSFERS_PER_PEER,
} from "../../shared/limits.ts";
import type { FileLink } from "./file-link.ts";
import { IncomingFile } from "./incoming-file.ts";
import { hashFile, streamFile } from "./outgoing-stream.ts";
import {
  INCOMING_TRANSITIONS,
  type IncomingState,
  OUTGOING_TRANSITIONS,
  type OutgoingState,
  waitsForChannel,
} from "./transfer-states.ts";

export { hashFile } from "./outgoing-stream.ts";

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
  /** The channel went away: the transfer waits up to `windowMs` for it to come back. */
  interrupted: [Named & { bytes: number; windowMs: number }];
  /** Going on from `bytes` on a channel open again. */
  resumed: [Named & { bytes: number }];
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
  /** How long an interrupted transfer waits for a channel (FILE_RESUME_WINDOW_MS unless a test says). */
  readonly resumeWindowMs?: number;
};

type Timed = { expiry: NodeJS.Timeout | undefined };
type Incoming = Named &
  Timed & {
    readonly file: IncomingFile;
    readonly sha256: string;
    state: IncomingState;
    started: number;
    startBytes: number;
    /** When and what the sender was last told (`file.progress`, bytes written). */
    lastTold: number;
    lastToldBytes: number;
    /** When the end user was last shown progress. */
    lastShown: number;
  };
type Outgoing = Named &
  Timed & {
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
/** How an incoming transfer ended, answered to an offer of it again (its `file.saved` may be lost). */
type Ended = {
  readonly sha256: string;
  readonly code: FileErrorCode | undefined;
  readonly timer: NodeJS.Timeout;
};

type Handlers = {
  [K in FileMessage["type"]]: (message: Extract<FileMessage, { type: K }>) => void | Promise<void>;
};

export class FileTransfers extends EventEmitter<FileTransfersEvents> {
  readonly #options: FileTransfersOptions;
  readonly #incoming = new Map<number, Incoming>();
  readonly #outgoing = new Map<number, Outgoing>();
  readonly #ended = new Map<number, Ended>();
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
    for (const id of [...this.#incoming.keys()]) void this.#cancelIncoming(id, true);
    for (const id of [...this.#outgoing.keys()]) this.#endOutgoing(id, "cancelled", undefined, true);
    return count;
  }

  /** The technician is gone for good: incoming files are removed, sending stops. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#link = undefined;
    for (const ended of this.#ended.values()) clearTimeout(ended.timer);
    this.#ended.clear();
    const incoming = [...this.#incoming.values()];
    this.#incoming.clear();
    for (const transfer of this.#outgoing.values()) {
      clearTimeout(transfer.expiry);
      transfer.run++;
      wake(transfer);
      this.emit("failed", { ...transfer, code: "INTERRUPTED" });
    }
    this.#outgoing.clear();
    for (const transfer of incoming) clearTimeout(transfer.expiry);
    await Promise.all(incoming.map((transfer) => transfer.file.abort()));
    for (const transfer of incoming) this.emit("cancelled", { ...transfer, byUs: false });
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

  /** The channel went away: running transfers wait for the window, offers stay offered. */
  #suspendAll(): void {
    const windowMs = this.#options.resumeWindowMs ?? FILE_RESUME_WINDOW_MS;
    for (const transfer of this.#incoming.values()) {
      if (transfer.state !== "receiving") continue;
      move(transfer, "suspended", INCOMING_TRANSITIONS);
      this.#startExpiry(transfer, windowMs);
      this.emit("interrupted", { ...transfer, bytes: transfer.file.received, windowMs });
    }
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

  #startExpiry(transfer: Incoming | Outgoing, windowMs: number): void {
    clearTimeout(transfer.expiry);
    transfer.expiry = setTimeout(() => {
      transfer.expiry = undefined;
      if (!waitsForChannel(transfer.state)) return;
      if (transfer.direction === "in") void this.#failIncoming(transfer as Incoming, "INTERRUPTED");
      else {
        if (!this.linkOpen) this.#expiredOut.add(transfer.id);
        this.#endOutgoing(transfer.id, "failed", "INTERRUPTED", true);
      }
    }, windowMs);
    transfer.expiry.unref();
  }

  async #offered(message: Extract<FileMessage, { type: "file.offer" }>): Promise<void> {
    const kept = this.#incoming.get(message.id);
    if (kept !== undefined && kept.sha256 === message.sha256 && kept.size === message.size) {
      // Offered again after the channel came back: from the bytes already here (none left to wait
      // for while it is being checked: its outcome follows).
      if (kept.state !== "checking") this.#resumeIncoming(kept);
      return;
    }
    const ended = this.#ended.get(message.id);
    if (kept === undefined && ended?.sha256 === message.sha256) {
      this.#send(
        ended.code === undefined
          ? { type: "file.saved", id: message.id }
          : { type: "file.failed", id: message.id, code: ended.code },
      );
      return;
    }
    // Another file under a number still kept (a new console after a reload): the old one is over.
    if (kept !== undefined && kept.state !== "checking") await this.#failIncoming(kept, "INTERRUPTED");
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
    const transfer: Incoming = {
      ...named,
      name: file.name,
      file,
      sha256: message.sha256,
      state: "receiving",
      started: performance.now(),
      startBytes: 0,
      lastTold: 0,
      lastToldBytes: 0,
      lastShown: 0,
      expiry: undefined,
    };
    file.onWritten = () => this.#tell(transfer);
    this.#incoming.set(message.id, transfer);
    try {
      await file.open();
    } catch {
      this.#incoming.delete(message.id);
      return refuse("WRITE_FAILED");
    }
    if (this.#incoming.get(message.id) !== transfer) return void file.abort();
    this.emit("incoming", transfer);
    this.#send({ type: "file.accept", id: message.id, offset: 0, window: FILE_WRITE_WINDOW_BYTES });
  }

  #resumeIncoming(transfer: Incoming): void {
    const denied = this.#options.policy();
    if (denied !== undefined) {
      this.#send({ type: "file.refuse", id: transfer.id, code: denied });
      void this.#failIncoming(transfer, denied, false);
      return;
    }
    if (transfer.state === "suspended") move(transfer, "receiving", INCOMING_TRANSITIONS);
    clearTimeout(transfer.expiry);
    transfer.expiry = undefined;
    const bytes = transfer.file.received;
    transfer.started = performance.now();
    transfer.startBytes = bytes;
    this.emit("resumed", { ...transfer, bytes });
    transfer.lastToldBytes = transfer.file.written;
    this.#send({ type: "file.accept", id: transfer.id, offset: bytes, window: FILE_WRITE_WINDOW_BYTES });
  }

  #chunk(frame: Buffer): void {
    const chunk = decodeFileChunk(frame);
    const transfer = chunk === undefined ? undefined : this.#incoming.get(chunk.id);
    if (chunk === undefined || transfer === undefined || transfer.state !== "receiving") {
      this.emit("invalid", "file data for no transfer");
      return;
    }
    if (!transfer.file.write(chunk.data)) {
      void this.#failIncoming(transfer, "BAD_DATA");
      return;
    }
    const now = performance.now();
    if (now - transfer.lastShown >= FILE_PROGRESS_INTERVAL_MS) {
      transfer.lastShown = now;
      this.emit("progress", {
        ...transfer,
        bytes: transfer.file.received,
        bytesPerSecond: rate(transfer.file.received - transfer.startBytes, transfer.started),
      });
    }
  }

  /**
   * A write finished: the sender is told the bytes written (its window counts from them) every
   * FILE_PROGRESS_INTERVAL_MS, and whenever a quarter of the window was written since the last
   * time: a sender that waits for room hears of it before it would stall.
   */
  #tell(transfer: Incoming): void {
    if (transfer.state !== "receiving" || this.#incoming.get(transfer.id) !== transfer) return;
    const written = transfer.file.written;
    const now = performance.now();
    const due =
      now - transfer.lastTold >= FILE_PROGRESS_INTERVAL_MS ||
      written - transfer.lastToldBytes >= FILE_WRITE_WINDOW_BYTES / 4;
    if (!due || written === transfer.lastToldBytes) return;
    transfer.lastTold = now;
    transfer.lastToldBytes = written;
    this.#send({ type: "file.progress", id: transfer.id, received: written });
  }

  async #done(id: number): Promise<void> {
    const transfer = this.#incoming.get(id);
    if (transfer?.state !== "receiving") return;
    move(transfer, "checking", INCOMING_TRANSITIONS);
    this.#send({ type: "file.progress", id, received: transfer.file.written });
    const result = await transfer.file.finish();
    if (this.#incoming.get(id) !== transfer) return;
    this.#incoming.delete(id);
    const code = "code" in result ? result.code : undefined;
    this.#remember(transfer, code);
    if (code !== undefined) {
      this.#send({ type: "file.failed", id, code });
      this.emit("failed", { ...transfer, code });
      return;
    }
    this.#send({ type: "file.saved", id });
    this.emit("finished", {
      ...transfer,
      path: "path" in result ? result.path : undefined,
      bytesPerSecond: rate(transfer.size - transfer.startBytes, transfer.started),
    });
  }

  /** Keeps how an incoming transfer ended for the resume window: an offer of it again gets that answer. */
  #remember(transfer: Incoming, code: FileErrorCode | undefined): void {
    clearTimeout(this.#ended.get(transfer.id)?.timer);
    const timer = setTimeout(
      () => this.#ended.delete(transfer.id),
      this.#options.resumeWindowMs ?? FILE_RESUME_WINDOW_MS,
    );
    timer.unref();
    this.#ended.set(transfer.id, { sha256: transfer.sha256, code, timer });
  }

  async #failIncoming(transfer: Incoming, code: FileErrorCode, tell = true): Promise<void> {
    if (this.#incoming.get(transfer.id) !== transfer) return;
    this.#incoming.delete(transfer.id);
    clearTimeout(transfer.expiry);
    this.#remember(transfer, code);
    if (tell) this.#send({ type: "file.failed", id: transfer.id, code });
    // Told once it is true: the temporary file is gone.
    await transfer.file.abort();
    this.emit("failed", { ...transfer, code });
  }

  async #cancelIncoming(id: number, byUs: boolean): Promise<void> {
    const transfer = this.#incoming.get(id);
    if (transfer === undefined) return;
    this.#incoming.delete(id);
    clearTimeout(transfer.expiry);
    if (byUs) this.#send({ type: "file.cancel", id, by: "receiver" });
    await transfer.file.abort();
    this.emit("cancelled", { ...transfer, byUs });
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

/** Moves a transfer to `to`, or throws when its table does not allow it (a bug here, not a condition). */
function move<S extends string>(transfer: { state: S }, to: S, table: Transitions<S>): void {
  if (!table[transfer.state].includes(to))
    throw new Error(`file transfer: no transition from ${transfer.state} to ${to}`);
  transfer.state = to;
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
