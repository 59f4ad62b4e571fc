import type { FileDirection, FileErrorCode, FileMessage } from "../../../shared/file-transfer.ts";
import { createStore, type Store } from "../lib/store.ts";

/**
 * What the console's file link (file-link.ts) shows and what its two halves share: the list of
 * transfers the panel renders (one store), and the link's context (the current channel, whether
 * the link closed, and the one way to send a message on the channel).
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

/** A file moved whole (SHA-256 checked). */
export type Transferred = { direction: FileDirection; name: string; size: number; sha256: string };

/** The transfers as the panel shows them: each is keyed by its direction and id. */
export type TransferList = {
  readonly store: Store<readonly Transfer[]>;
  /** Adds a transfer (one of the same direction and id, a different file, is replaced). */
  add(transfer: Transfer): void;
  update(direction: Transfer["direction"], id: number, change: Partial<Transfer>): void;
  phaseOf(direction: Transfer["direction"], id: number): TransferPhase | undefined;
  /** The link closed: every transfer not ended fails (INTERRUPTED unless it has a code). */
  failUnfinished(): void;
};

const ENDED: readonly TransferPhase[] = ["done", "failed", "cancelled"];

export function createTransferList(): TransferList {
  const store = createStore<readonly Transfer[]>([]);
  const key = (direction: Transfer["direction"], id: number) => `${direction}:${id}`;
  const update = (direction: Transfer["direction"], id: number, change: Partial<Transfer>): void => {
    store.set(
      store
        .get()
        .map((transfer) =>
          key(transfer.direction, transfer.id) === key(direction, id) ? { ...transfer, ...change } : transfer,
        ),
    );
  };
  return {
    store,
    add: (transfer) =>
      store.set([
        ...store.get().filter((t) => key(t.direction, t.id) !== key(transfer.direction, transfer.id)),
        transfer,
      ]),
    update,
    phaseOf: (direction, id) => store.get().find((t) => t.direction === direction && t.id === id)?.phase,
    failUnfinished() {
      for (const transfer of store.get()) {
        if (!ENDED.includes(transfer.phase))
          update(transfer.direction, transfer.id, { phase: "failed", code: transfer.code ?? "INTERRUPTED" });
      }
    },
  };
}

/** What each half of the link (outgoing, incoming) needs of the link itself. */
export type LinkContext = {
  readonly list: TransferList;
  /** The largest file either way (the session's channel's limit). */
  readonly maxBytes: number;
  /** The current channel (null between one and the next, and once closed). */
  channel(): RTCDataChannel | null;
  /** The current channel is open. */
  isOpen(): boolean;
  /** The link closed (the view ended). */
  closed(): boolean;
  /** Sends on the current channel when it is open and the link is not closed; dropped otherwise. */
  send(message: FileMessage): void;
};

/** Bytes a second over `bytes` since `since` (performance.now()). */
export function rate(bytes: number, since: number): number {
  const seconds = (performance.now() - since) / 1000;
  return seconds > 0 ? bytes / seconds : 0;
}
