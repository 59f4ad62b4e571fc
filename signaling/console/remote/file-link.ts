import { decodeMessage } from "../../../shared/decode.ts";
import { type FileMessage, fileMessageSchema } from "../../../shared/file-transfer.ts";
import { FILE_BUFFER_LOW_BYTES } from "../../../shared/limits.ts";
import type { Store } from "../lib/store.ts";
import { createIncomingFiles } from "./file-link-incoming.ts";
import { createTransferList, type LinkContext, type Transfer, type Transferred } from "./file-link-list.ts";
import { createOutgoingFiles } from "./file-link-outgoing.ts";

export { downloadBlob } from "./file-link-download.ts";
export type { Transfer, TransferPhase, Transferred } from "./file-link-list.ts";

/**
 * The console's side of the `files` channel (protocol: shared/file-transfer.ts): files the
 * technician picks or drops go to the end user (hashed here first, then offered; the agent saves
 * them in its download folder: file-link-outgoing.ts), and files the end user offers (`f <path>`
 * in the agent's terminal) are fetched on the technician's click and handed to the browser as a
 * download once their SHA-256 matches (file-link-incoming.ts). This module is the link itself:
 * the current channel, the one decode point and the one handler per message type; the transfers
 * are a store the panel shows (file-link-list.ts), their states data (file-link-states.ts).
 *
 * The link outlives its channel: the view's files connection made again, or the view's peer
 * replaced, hands it the next channel (attach()). A transfer the old channel broke off is
 * `paused` for FILE_RESUME_WINDOW_MS: on the next channel the console offers its files again and
 * accepts the end user's from the bytes it already has; a window that runs out fails it.
 */

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

type Handlers = { [K in FileMessage["type"]]: (message: Extract<FileMessage, { type: K }>) => void };

export function createFileLink(
  maxBytes: number,
  saveAs: (blob: Blob, name: string) => void,
  /** A file moved whole (SHA-256 checked); the gateway's audit has it from the agent, not from here. */
  transferred: (file: Transferred) => void = () => undefined,
): FileLink {
  const list = createTransferList();
  let channel: RTCDataChannel | null = null;
  let closed = false;
  const isOpen = (): boolean => channel?.readyState === "open";
  const context: LinkContext = {
    list,
    maxBytes,
    channel: () => channel,
    isOpen,
    closed: () => closed,
    send(message) {
      if (!closed && channel !== null && channel.readyState === "open") channel.send(JSON.stringify(message));
    },
  };
  const outgoing = createOutgoingFiles(context, transferred);
  const incoming = createIncomingFiles(context, saveAs, transferred);

  const handlers: Handlers = {
    "file.offer": incoming.offered,
    "file.accept": outgoing.accepted,
    "file.refuse": outgoing.refused,
    "file.progress": outgoing.progress,
    "file.saved": outgoing.saved,
    "file.failed": outgoing.failed,
    "file.done": incoming.done,
    "file.cancel": (message) =>
      message.by === "receiver"
        ? outgoing.cancelledByReceiver(message.id)
        : incoming.cancelledBySender(message.id),
  };

  const pauseAll = (): void => {
    outgoing.pauseAll();
    incoming.pauseAll();
  };

  const onMessage = (event: MessageEvent<unknown>): void => {
    if (closed || event.target !== channel) return;
    if (event.data instanceof ArrayBuffer) {
      incoming.chunk(event.data);
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
    transfers: list.store,
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
      if (next.readyState === "open") outgoing.resumeAll();
      else
        next.addEventListener("open", () => {
          if (channel === next) outgoing.resumeAll();
        });
    },
    send: (file) => outgoing.send(file),
    fetch: (id) => incoming.fetch(id),
    cancel: (direction, id) => (direction === "out" ? outgoing.cancel(id) : incoming.cancel(id)),
    close() {
      if (closed) return;
      // The technician leaves: the agent is told while the channel is still there (it would
      // otherwise keep the transfers for the resume window).
      outgoing.tellClosing();
      incoming.tellClosing();
      closed = true;
      channel = null;
      outgoing.close();
      incoming.close();
      list.failUnfinished();
    },
  };
}

/** A file link on `channel` from the start (the bench's browser end, scripts/bench-files-browser.ts). */
export function openFileLink(
  channel: RTCDataChannel,
  maxBytes: number,
  saveAs: (blob: Blob, name: string) => void,
  transferred?: (file: Transferred) => void,
): FileLink {
  const link = createFileLink(maxBytes, saveAs, transferred);
  link.attach(channel);
  return link;
}
