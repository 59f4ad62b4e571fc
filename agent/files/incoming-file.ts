/**
 * One file arriving on the agent: written to a hidden temporary name in the download folder while
 * it is hashed, and given its final name (sanitized, never overwriting: `name (1).ext`) only once
 * all bytes are there and their SHA-256 is the one offered. Cancelled or failed, the temporary
 * file is removed: nothing is ever left under a final name that does not hold the whole file.
 */
import { createHash, randomBytes } from "node:crypto";
import { createWriteStream, type WriteStream } from "node:fs";
import { link, mkdir, rename, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { numberedName, sanitizeFileName } from "../../shared/file-names.ts";
import type { FileErrorCode } from "../../shared/file-transfer.ts";

export class IncomingFile {
  readonly name: string;
  readonly size: number;
  readonly #sha256: string;
  readonly #dir: string;
  readonly #temp: string;
  readonly #hash = createHash("sha256");
  #out: WriteStream | undefined;
  #received = 0;
  /** Bytes the file system took (their write finished). */
  #written = 0;
  /** Called each time a write finished. */
  onWritten: (() => void) | undefined;
  #error: NodeJS.ErrnoException | undefined;
  #ended = false;

  constructor(dir: string, offeredName: string, size: number, sha256: string) {
    this.name = sanitizeFileName(offeredName);
    this.size = size;
    this.#sha256 = sha256;
    this.#dir = dir;
    this.#temp = join(dir, `.${this.name}.${randomBytes(4).toString("hex")}.sos-part`);
  }

  get received(): number {
    return this.#received;
  }

  /** Bytes written to the file so far (handed to the file system, not only queued). */
  get written(): number {
    return this.#written;
  }

  /** Creates the folder if needed and the temporary file (never one that exists). */
  async open(): Promise<void> {
    await mkdir(this.#dir, { recursive: true });
    const out = createWriteStream(this.#temp, { flags: "wx", mode: 0o600 });
    await new Promise<void>((resolve, reject) => {
      out.once("open", () => resolve());
      out.once("error", reject);
    });
    out.on("error", (error) => {
      this.#error ??= error;
    });
    this.#out = out;
  }

  /** Takes the next bytes; false when they go beyond the offered size (the sender is wrong). */
  write(data: Uint8Array): boolean {
    if (this.#out === undefined || this.#ended) return false;
    if (this.#received + data.byteLength > this.size) return false;
    this.#received += data.byteLength;
    this.#hash.update(data);
    this.#out.write(data, (error) => {
      if (error !== null && error !== undefined) return;
      this.#written += data.byteLength;
      this.onWritten?.();
    });
    return true;
  }

  /**
   * All bytes are there: checks size and hash, then moves the file to its final name. Resolves
   * with the final path or the code of what went wrong (the temporary file then removed).
   */
  async finish(): Promise<{ path: string } | { code: FileErrorCode }> {
    const out = this.#out;
    if (out === undefined || this.#ended) return { code: "BAD_DATA" };
    this.#ended = true;
    await new Promise<void>((resolve) => out.end(() => resolve()));
    let code: FileErrorCode | undefined;
    if (this.#error !== undefined) code = "WRITE_FAILED";
    else if (this.#received !== this.size) code = "BAD_DATA";
    else if (this.#hash.digest("hex") !== this.#sha256) code = "HASH_MISMATCH";
    if (code !== undefined) {
      await this.#removeTemp();
      return { code };
    }
    try {
      return { path: await this.#claimName() };
    } catch {
      await this.#removeTemp();
      return { code: "WRITE_FAILED" };
    }
  }

  /** Stops and removes the temporary file. Safe to call at any time, more than once. */
  async abort(): Promise<void> {
    this.#ended = true;
    const out = this.#out;
    this.#out = undefined;
    if (out !== undefined && !out.closed) {
      const closed = new Promise<void>((resolve) => out.once("close", () => resolve()));
      out.destroy();
      await closed;
    }
    await this.#removeTemp();
  }

  /**
   * The first free name of `name`, `name (1).ext`, ...: a hard link fails when the name exists, so
   * a file that appears meanwhile is never overwritten; where links are not possible (FAT), a
   * checked rename.
   */
  async #claimName(): Promise<string> {
    for (let n = 0; ; n++) {
      const path = join(this.#dir, numberedName(this.name, n));
      try {
        await link(this.#temp, path);
        await unlink(this.#temp);
        return path;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "EEXIST") continue;
        if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EXDEV" && code !== "ENOSYS") throw error;
      }
      const taken = await stat(path).then(
        () => true,
        () => false,
      );
      if (taken) continue;
      await rename(this.#temp, path);
      return path;
    }
  }

  async #removeTemp(): Promise<void> {
    await unlink(this.#temp).catch(() => undefined);
  }
}
