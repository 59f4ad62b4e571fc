/**
 * The incoming half of one technician's file transfers (file-transfers.ts holds the channel and
 * the decode point): offers taken while the policy allows, saved through IncomingFile, suspended
 * when the channel goes and accepted again from the bytes kept, the sender kept within a window of
 * what was written, and how each ended remembered for an offer of it again.
 */
import type { EventEmitter } from "node:events";
import type { FileErrorCode, FileMessage } from "../../shared/file-transfer.ts";
import { decodeFileChunk, fileSizeAllowed } from "../../shared/file-transfer.ts";
import {
  FILE_PROGRESS_INTERVAL_MS,
  FILE_RESUME_WINDOW_MS,
  FILE_WRITE_WINDOW_BYTES,
  MAX_FILE_BYTES,
  MAX_TRANSFERS_PER_PEER,
} from "../../shared/limits.ts";
import { IncomingFile } from "./incoming-file.ts";
import type { FileTransfersEvents, FileTransfersOptions, Named } from "./transfer-events.ts";
import { rate } from "./transfer-events.ts";
import { INCOMING_TRANSITIONS, type IncomingState, move } from "./transfer-states.ts";

/** What the incoming half needs of the whole: the current channel, the events, the options. */
export type TransferSide = {
  readonly send: (message: FileMessage) => void;
  readonly events: Pick<EventEmitter<FileTransfersEvents>, "emit">;
  readonly options: FileTransfersOptions;
};

export type Incoming = Named & {
  expiry: NodeJS.Timeout | undefined;
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
/** How an incoming transfer ended, answered to an offer of it again (its `file.saved` may be lost). */
type Ended = {
  readonly sha256: string;
  readonly code: FileErrorCode | undefined;
  readonly timer: NodeJS.Timeout;
};

export class IncomingTransfers {
  readonly #side: TransferSide;
  readonly #transfers = new Map<number, Incoming>();
  readonly #ended = new Map<number, Ended>();

  constructor(side: TransferSide) {
    this.#side = side;
  }

  get size(): number {
    return this.#transfers.size;
  }

  /** The channel went away: what is being received waits for the window (then fails, file removed). */
  suspendAll(windowMs: number): void {
    for (const transfer of this.#transfers.values()) {
      if (transfer.state !== "receiving") continue;
      move(transfer, "suspended", INCOMING_TRANSITIONS);
      clearTimeout(transfer.expiry);
      transfer.expiry = setTimeout(() => {
        transfer.expiry = undefined;
        if (transfer.state === "suspended") void this.#failIncoming(transfer, "INTERRUPTED");
      }, windowMs);
      transfer.expiry.unref();
      this.#side.events.emit("interrupted", { ...transfer, bytes: transfer.file.received, windowMs });
    }
  }

  /** Every incoming transfer stops, nothing kept; the sender is told. */
  cancelAll(): void {
    for (const id of [...this.#transfers.keys()]) void this.cancel(id, true);
  }

  /** The technician is gone for good: partial files removed. */
  async close(): Promise<void> {
    for (const ended of this.#ended.values()) clearTimeout(ended.timer);
    this.#ended.clear();
    const incoming = [...this.#transfers.values()];
    this.#transfers.clear();
    for (const transfer of incoming) clearTimeout(transfer.expiry);
    await Promise.all(incoming.map((transfer) => transfer.file.abort()));
    for (const transfer of incoming) this.#side.events.emit("cancelled", { ...transfer, byUs: false });
  }

  async offered(message: Extract<FileMessage, { type: "file.offer" }>): Promise<void> {
    const kept = this.#transfers.get(message.id);
    if (kept !== undefined && kept.sha256 === message.sha256 && kept.size === message.size) {
      // Offered again after the channel came back: from the bytes already here (none left to wait
      // for while it is being checked: its outcome follows).
      if (kept.state !== "checking") this.#resumeIncoming(kept);
      return;
    }
    const ended = this.#ended.get(message.id);
    if (kept === undefined && ended?.sha256 === message.sha256) {
      this.#side.send(
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
      this.#side.send({ type: "file.refuse", id: message.id, code });
      this.#side.events.emit("refused", { ...named, code });
    };
    const denied = this.#side.options.policy();
    if (denied !== undefined) return refuse(denied);
    if (!fileSizeAllowed(message.size, this.#side.options.maxBytes ?? MAX_FILE_BYTES))
      return refuse("TOO_LARGE");
    if (this.#transfers.has(message.id) || this.#transfers.size >= MAX_TRANSFERS_PER_PEER)
      return refuse("TOO_MANY");
    const file = new IncomingFile(this.#side.options.dir, message.name, message.size, message.sha256);
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
    this.#transfers.set(message.id, transfer);
    try {
      await file.open();
    } catch {
      this.#transfers.delete(message.id);
      return refuse("WRITE_FAILED");
    }
    if (this.#transfers.get(message.id) !== transfer) return void file.abort();
    this.#side.events.emit("incoming", transfer);
    this.#side.send({ type: "file.accept", id: message.id, offset: 0, window: FILE_WRITE_WINDOW_BYTES });
  }

  #resumeIncoming(transfer: Incoming): void {
    const denied = this.#side.options.policy();
    if (denied !== undefined) {
      this.#side.send({ type: "file.refuse", id: transfer.id, code: denied });
      void this.#failIncoming(transfer, denied, false);
      return;
    }
    if (transfer.state === "suspended") move(transfer, "receiving", INCOMING_TRANSITIONS);
    clearTimeout(transfer.expiry);
    transfer.expiry = undefined;
    const bytes = transfer.file.received;
    transfer.started = performance.now();
    transfer.startBytes = bytes;
    this.#side.events.emit("resumed", { ...transfer, bytes });
    transfer.lastToldBytes = transfer.file.written;
    this.#side.send({ type: "file.accept", id: transfer.id, offset: bytes, window: FILE_WRITE_WINDOW_BYTES });
  }

  chunk(frame: Buffer): void {
    const chunk = decodeFileChunk(frame);
    const transfer = chunk === undefined ? undefined : this.#transfers.get(chunk.id);
    if (chunk === undefined || transfer === undefined || transfer.state !== "receiving") {
      this.#side.events.emit("invalid", "file data for no transfer");
      return;
    }
    if (!transfer.file.write(chunk.data)) {
      void this.#failIncoming(transfer, "BAD_DATA");
      return;
    }
    const now = performance.now();
    if (now - transfer.lastShown >= FILE_PROGRESS_INTERVAL_MS) {
      transfer.lastShown = now;
      this.#side.events.emit("progress", {
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
    if (transfer.state !== "receiving" || this.#transfers.get(transfer.id) !== transfer) return;
    const written = transfer.file.written;
    const now = performance.now();
    const due =
      now - transfer.lastTold >= FILE_PROGRESS_INTERVAL_MS ||
      written - transfer.lastToldBytes >= FILE_WRITE_WINDOW_BYTES / 4;
    if (!due || written === transfer.lastToldBytes) return;
    transfer.lastTold = now;
    transfer.lastToldBytes = written;
    this.#side.send({ type: "file.progress", id: transfer.id, received: written });
  }

  async done(id: number): Promise<void> {
    const transfer = this.#transfers.get(id);
    if (transfer?.state !== "receiving") return;
    move(transfer, "checking", INCOMING_TRANSITIONS);
    this.#side.send({ type: "file.progress", id, received: transfer.file.written });
    const result = await transfer.file.finish();
    if (this.#transfers.get(id) !== transfer) return;
    this.#transfers.delete(id);
    const code = "code" in result ? result.code : undefined;
    this.#remember(transfer, code);
    if (code !== undefined) {
      this.#side.send({ type: "file.failed", id, code });
      this.#side.events.emit("failed", { ...transfer, code });
      return;
    }
    this.#side.send({ type: "file.saved", id });
    this.#side.events.emit("finished", {
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
      this.#side.options.resumeWindowMs ?? FILE_RESUME_WINDOW_MS,
    );
    timer.unref();
    this.#ended.set(transfer.id, { sha256: transfer.sha256, code, timer });
  }

  async #failIncoming(transfer: Incoming, code: FileErrorCode, tell = true): Promise<void> {
    if (this.#transfers.get(transfer.id) !== transfer) return;
    this.#transfers.delete(transfer.id);
    clearTimeout(transfer.expiry);
    this.#remember(transfer, code);
    if (tell) this.#side.send({ type: "file.failed", id: transfer.id, code });
    // Told once it is true: the temporary file is gone.
    await transfer.file.abort();
    this.#side.events.emit("failed", { ...transfer, code });
  }

  async cancel(id: number, byUs: boolean): Promise<void> {
    const transfer = this.#transfers.get(id);
    if (transfer === undefined) return;
    this.#transfers.delete(id);
    clearTimeout(transfer.expiry);
    if (byUs) this.#side.send({ type: "file.cancel", id, by: "receiver" });
    await transfer.file.abort();
    this.#side.events.emit("cancelled", { ...transfer, byUs });
  }
}
