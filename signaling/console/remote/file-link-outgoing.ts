import { type FileErrorCode, type FileMessage, fileSizeAllowed } from "../../../shared/file-transfer.ts";
import { FILE_RESUME_WINDOW_MS } from "../../../shared/limits.ts";
import { type LinkContext, rate, type TransferPhase, type Transferred } from "./file-link-list.ts";
import { type OutgoingState, outgoingLife } from "./file-link-states.ts";
import { hashFile, streamFile } from "./file-link-stream.ts";

/**
 * The technician's files to the end user, one half of the console's file link (file-link.ts): a
 * picked file is hashed, offered, and streamed from where the agent's `file.accept` says, within
 * the window of what the agent wrote (file-link-stream.ts); `file.saved` ends it. A channel that
 * goes mid-way pauses it for FILE_RESUME_WINDOW_MS; the next channel offers it again.
 */

type Message<K extends FileMessage["type"]> = Extract<FileMessage, { type: K }>;

/** A file on its way to the end user (states: file-link-states.ts). */
export type Outgoing = {
  readonly file: File;
  readonly sha256: string;
  readonly life: ReturnType<typeof outgoingLife>;
  expiry: ReturnType<typeof setTimeout> | null;
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

export type OutgoingFiles = {
  /** The handlers of the agent's answers to our files. */
  readonly accepted: (message: Message<"file.accept">) => void;
  readonly refused: (message: Message<"file.refuse">) => void;
  readonly progress: (message: Message<"file.progress">) => void;
  readonly saved: (message: Message<"file.saved">) => void;
  readonly failed: (message: Message<"file.failed">) => void;
  /** The agent (the receiver) cancelled one of our files. */
  readonly cancelledByReceiver: (id: number) => void;
  /** The channel went away: what runs waits for the next one, for the resume window. */
  pauseAll(): void;
  /** A channel is open (again): our files are offered again; the agent says from where. */
  resumeAll(): void;
  send(file: File): void;
  /** The technician cancels one of our files. */
  cancel(id: number): void;
  /** The link closes: the agent is told of every file still here (while the channel still is). */
  tellClosing(): void;
  /** The link closed: timers stopped, streams woken (to stop), nothing kept. */
  close(): void;
};

export function createOutgoingFiles(
  link: LinkContext,
  transferred: (file: Transferred) => void,
): OutgoingFiles {
  const { list, send } = link;
  const outgoing = new Map<number, Outgoing>();
  let nextId = 1;

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

  const end = (id: number, phase: TransferPhase, code: FileErrorCode | null = null): void => {
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
    list.update("out", id, { phase, code, ...(bytes === undefined ? {} : { bytes }) });
  };

  const stream = async (id: number, transfer: Outgoing, offset: number): Promise<void> => {
    const on = link.channel();
    const run = ++transfer.run;
    const stopped = (): boolean =>
      link.closed() ||
      transfer.run !== run ||
      outgoing.get(id) !== transfer ||
      link.channel() !== on ||
      !link.isOpen();
    if (on === null) return;
    if (!(await streamFile(on, id, transfer, offset, stopped))) return;
    transfer.life.set("sent");
    send({ type: "file.done", id });
  };

  /** Offered or paused: waiting for the agent's accept (a channel's first, or the next one's). */
  const awaitingAccept = (state: OutgoingState): boolean => state === "offered" || state === "paused";

  return {
    accepted(message) {
      const transfer = outgoing.get(message.id);
      if (transfer === undefined || message.offset > transfer.file.size) return;
      if (!awaitingAccept(transfer.life.state)) return;
      if (transfer.expiry !== null) clearTimeout(transfer.expiry);
      transfer.expiry = null;
      transfer.life.set("sending");
      transfer.started = performance.now();
      transfer.startBytes = message.offset;
      transfer.acknowledged = message.offset;
      transfer.window = message.window;
      list.update("out", message.id, { phase: "sending", bytes: message.offset });
      stream(message.id, transfer, message.offset).catch(() => {
        send({ type: "file.cancel", id: message.id, by: "sender" });
        end(message.id, "failed", "READ_FAILED");
      });
    },
    refused: (message) => end(message.id, "failed", message.code),
    progress(message) {
      const transfer = outgoing.get(message.id);
      if (transfer === undefined || transfer.life.state === "paused") return;
      transfer.acknowledged = Math.max(transfer.acknowledged, message.received);
      wake(transfer);
      list.update("out", message.id, {
        bytes: message.received,
        bytesPerSecond: rate(message.received - transfer.startBytes, transfer.started),
      });
    },
    saved: (message) => end(message.id, "done"),
    failed: (message) => end(message.id, "failed", message.code),
    cancelledByReceiver: (id) => end(id, "cancelled"),
    pauseAll() {
      for (const [id, transfer] of outgoing) {
        if (awaitingAccept(transfer.life.state)) continue;
        transfer.life.set("paused");
        transfer.run++;
        wake(transfer);
        transfer.expiry ??= setTimeout(() => {
          send({ type: "file.cancel", id, by: "sender" });
          end(id, "failed", "INTERRUPTED");
        }, FILE_RESUME_WINDOW_MS);
        list.update("out", id, { phase: "paused" });
      }
    },
    resumeAll() {
      for (const [id, transfer] of outgoing) {
        if (awaitingAccept(transfer.life.state)) offer(id, transfer);
      }
    },
    send(file) {
      const id = nextId++;
      list.add({
        direction: "out",
        id,
        name: file.name,
        size: file.size,
        phase: "hashing",
        bytes: 0,
        bytesPerSecond: 0,
        code: null,
      });
      if (!fileSizeAllowed(file.size, link.maxBytes)) {
        list.update("out", id, { phase: "failed", code: "TOO_LARGE" });
        return;
      }
      void hashFile(file)
        .then((digest) => {
          if (link.closed() || list.phaseOf("out", id) !== "hashing") return;
          const transfer: Outgoing = {
            file,
            sha256: digest,
            life: outgoingLife(),
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
          list.update("out", id, { phase: "offered" });
        })
        .catch(() => list.update("out", id, { phase: "failed", code: "READ_FAILED" }));
    },
    cancel(id) {
      if (list.phaseOf("out", id) === "hashing") list.update("out", id, { phase: "cancelled" });
      if (!outgoing.has(id)) return;
      send({ type: "file.cancel", id, by: "sender" });
      end(id, "cancelled");
    },
    tellClosing() {
      for (const id of outgoing.keys()) send({ type: "file.cancel", id, by: "sender" });
    },
    close() {
      for (const transfer of outgoing.values()) if (transfer.expiry !== null) clearTimeout(transfer.expiry);
      for (const transfer of outgoing.values()) wake(transfer);
      outgoing.clear();
    },
  };
}
