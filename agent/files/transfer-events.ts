/** What the file transfers of one technician tell (file-transfers.ts), and what they are given. */
import type { FileErrorCode } from "../../shared/file-transfer.ts";

export type Direction = "in" | "out";
export type Named = {
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
  /** Done: saved under `path` (in), or received whole by the technician (out); `sha256` checked. */
  finished: [Named & { path: string | undefined; sha256: string; bytesPerSecond: number }];
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

/** Bytes a second since `since` (performance.now()). */
export function rate(bytes: number, since: number): number {
  const seconds = (performance.now() - since) / 1000;
  return seconds > 0 ? bytes / seconds : 0;
}
