import { createReadStream, type ReadStream } from "node:fs";
import { mkdir, open, stat, statfs, truncate, unlink } from "node:fs/promises";
import { join } from "node:path";
import { SosError } from "../../shared/errors.ts";
import { RECORDING_DISK_RESERVE_BYTES } from "../../shared/limits.ts";

function errorCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error && typeof error.code === "string"
    ? error.code
    : undefined;
}

function storageFailed(cause: unknown): SosError {
  return new SosError("RECORDING_STORAGE_FAILED", "The gateway could not store the recording's file.", {
    cause,
  });
}

/**
 * The recordings' files: `<dir>/<id>.webm` (ids are the gateway's own, `[A-Za-z0-9_-]`), written
 * append-only. The store's `bytes` is what counts: a file longer than that (a write that reached
 * the disk while the store refused to count it) is cut back to it before the next chunk, and a
 * write that fails half-way is cut back too, so a refused chunk leaves the file as it was. Every
 * failure of the disk is RECORDING_STORAGE_FAILED, never a crash; so is a chunk that would leave
 * less than `reserveBytes` free on the disk (the database's room to write).
 */
export class RecordingFiles {
  readonly dir: string;
  readonly #reserveBytes: number;

  constructor(dir: string, reserveBytes = RECORDING_DISK_RESERVE_BYTES) {
    this.dir = dir;
    this.#reserveBytes = reserveBytes;
  }

  path(id: string): string {
    return join(this.dir, `${id}.webm`);
  }

  /** Appends `data` to a file the store says is `length` bytes long. */
  async append(id: string, length: number, data: Uint8Array): Promise<void> {
    const path = this.path(id);
    try {
      await mkdir(this.dir, { recursive: true });
      const disk = await statfs(this.dir);
      if (disk.bavail * disk.bsize - data.length < this.#reserveBytes) {
        throw new Error(
          `the disk keeps its last ${this.#reserveBytes} bytes free for the gateway's database`,
        );
      }
      const handle = await open(path, "a");
      try {
        const { size } = await handle.stat();
        if (size < length) throw new Error(`the file has ${size} bytes, the store counts ${length}`);
        if (size > length) await handle.truncate(length);
        try {
          await handle.write(data, 0, data.length, length);
          await handle.sync();
        } catch (error) {
          await handle.truncate(length).catch(() => undefined);
          throw error;
        }
      } finally {
        await handle.close();
      }
    } catch (error) {
      throw storageFailed(error);
    }
  }

  /** Cuts the file back to what the store counts (after the store refused to count a chunk). */
  async cutBack(id: string, length: number): Promise<void> {
    await truncate(this.path(id), length).catch(() => undefined);
  }

  /** The file's size; 0 when it was never written. */
  async size(id: string): Promise<number> {
    try {
      return (await stat(this.path(id))).size;
    } catch (error) {
      if (errorCode(error) === "ENOENT") return 0;
      throw storageFailed(error);
    }
  }

  /** Reads bytes `start` to `end` (inclusive). */
  read(id: string, start: number, end: number): ReadStream {
    return createReadStream(this.path(id), { start, end });
  }

  /** Deletes the file; a file already gone (another run, another instance) is fine. */
  async remove(id: string): Promise<void> {
    try {
      await unlink(this.path(id));
    } catch (error) {
      if (errorCode(error) !== "ENOENT") throw storageFailed(error);
    }
  }
}
