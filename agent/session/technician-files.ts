/**
 * The file transfers of a session, one FileTransfers per technician (not per view): a view's files
 * channel that goes away, or a view replaced by a new one for the same technician, leaves their
 * transfers waiting (the resume window), and the next channel to that technician takes them up.
 * What the end user is told of them is worded here.
 */
import { basename } from "node:path";
import type { Logger } from "pino";
import { sanitizeFileName } from "../../shared/file-names.ts";
import type { FileErrorCode, TransferredFile } from "../../shared/file-transfer.ts";
import type { PersonRef } from "../../shared/model.ts";
import { FileOfferError, FileTransfers } from "../files/file-transfers.ts";
import type { Messages } from "./messages.ts";
import type { EndUserTerminal } from "./terminal.ts";

export type TechnicianFilesDeps = {
  readonly terminal: Pick<EndUserTerminal, "say">;
  readonly messages: Messages;
  readonly log: Logger;
  /** The download folder. */
  readonly dir: string;
  /** Whether a file from this technician may come in now (undefined), else why not. */
  readonly policy: (technicianId: string) => FileErrorCode | undefined;
  /** --files-resume-timeout (FILE_RESUME_WINDOW_MS when not given). */
  readonly resumeWindowMs?: number;
  /** A file moved whole to or from the technician: for the gateway's audit (`file.transferred`). */
  readonly transferred: (technicianId: string, file: TransferredFile) => void;
};

export class TechnicianFiles {
  readonly #deps: TechnicianFilesDeps;
  readonly #byTechnician = new Map<string, FileTransfers>();

  constructor(deps: TechnicianFilesDeps) {
    this.#deps = deps;
  }

  /** The technician's transfers, made on their first view (with that view's file size limit). */
  of(technician: PersonRef, maxBytes: number): FileTransfers {
    const existing = this.#byTechnician.get(technician.id);
    if (existing !== undefined) return existing;
    const { resumeWindowMs } = this.#deps;
    const files = new FileTransfers(undefined, {
      dir: this.#deps.dir,
      policy: () => this.#deps.policy(technician.id),
      maxBytes,
      ...(resumeWindowMs === undefined ? {} : { resumeWindowMs }),
    });
    this.#announce(files, technician);
    this.#byTechnician.set(technician.id, files);
    return files;
  }

  /** The end user's `f <path>` to one technician's transfers; a file that cannot go is said. */
  offer(files: FileTransfers, path: string): void {
    const { terminal, messages } = this.#deps;
    files.offer(path).catch((error: unknown) => {
      const code = error instanceof FileOfferError ? error.code : "READ_FAILED";
      terminal.say(messages.fileNotOffered(path, code));
    });
  }

  /** The end user's `x`: every transfer either way stops (waiting ones too), nothing is kept. */
  cancelAll(): number {
    let count = 0;
    for (const files of this.#byTechnician.values()) count += files.cancelAll();
    return count;
  }

  /** The session ends: every transfer ends, partial files removed. Safe to call twice. */
  async closeAll(): Promise<void> {
    const all = [...this.#byTechnician.values()];
    this.#byTechnician.clear();
    await Promise.all(all.map((files) => files.close()));
  }

  /**
   * What the end user is told of a technician's transfers: each incoming file with its name and
   * size before any byte is written, progress at each quarter, a break and its resumption, the end
   * (saved where, sent, failed, stopped), and every refusal.
   */
  #announce(files: FileTransfers, technician: PersonRef): void {
    const { terminal, messages, log } = this.#deps;
    const name = technician.name;
    const quarters = new Map<string, number>();
    const percent = (bytes: number, size: number) => (size === 0 ? 100 : Math.floor((bytes / size) * 100));
    files.on("incoming", (t) => terminal.say(messages.fileIncoming(name, t.name, t.size, this.#deps.dir)));
    files.on("offered", (t) => terminal.say(messages.fileOffered(t.name, t.size, name)));
    files.on("refused", (t) => terminal.say(messages.fileRefused(name, t.name, t.size, t.code)));
    files.on("progress", (t) => {
      const key = `${t.direction}${t.id}`;
      const quarter = t.size === 0 ? 0 : Math.floor((t.bytes / t.size) * 4);
      if (quarter < 1 || quarter > 3 || quarter <= (quarters.get(key) ?? 0)) return;
      quarters.set(key, quarter);
      terminal.say(messages.fileProgress(t.name, quarter * 25, t.bytesPerSecond));
    });
    files.on("interrupted", (t) => {
      log.info(
        { technicianId: technician.id, direction: t.direction, bytes: t.bytes },
        "file transfer interrupted",
      );
      terminal.say(messages.fileInterrupted(t.name, Math.round(t.windowMs / 1000)));
    });
    files.on("resumed", (t) => {
      log.info(
        { technicianId: technician.id, direction: t.direction, bytes: t.bytes },
        "file transfer resumed",
      );
      terminal.say(messages.fileResumed(t.name, percent(t.bytes, t.size)));
    });
    files.on("finished", (t) => {
      log.info(
        { direction: t.direction, size: t.size, bytesPerSecond: Math.round(t.bytesPerSecond) },
        "file transferred",
      );
      terminal.say(
        t.path === undefined
          ? messages.fileSent(t.name, name, t.bytesPerSecond)
          : messages.fileSaved(t.path, t.size, t.bytesPerSecond),
      );
      this.#deps.transferred(technician.id, {
        direction: t.direction === "in" ? "to_end_user" : "from_end_user",
        // As saved here (in), or as offered (out): one plain line either way.
        name: sanitizeFileName(t.path === undefined ? t.name : basename(t.path)),
        size: t.size,
        sha256: t.sha256,
      });
    });
    files.on("failed", (t) => terminal.say(messages.fileFailed(t.name, t.code)));
    files.on("cancelled", (t) => terminal.say(messages.fileCancelled(t.name, t.byUs)));
    files.on("invalid", (reason) =>
      log.warn({ technicianId: technician.id, reason }, "files channel: dropped a message"),
    );
  }
}
