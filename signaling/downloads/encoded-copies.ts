import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { setPriority } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { type AvailableBuild, buildSha256, listBuilds } from "./build-catalog.ts";
import { DOWNLOAD_ENCODINGS, type DownloadEncoding } from "./encodings.ts";

/** A build's content in an HTTP content coding, ready to send with `Content-Encoding`. */
export type EncodedCopy = { encoding: DownloadEncoding; path: string; size: number };

export type EncodedCopiesLog = {
  info: (detail: Record<string, unknown>, message: string) => void;
  warn: (detail: Record<string, unknown>, message: string) => void;
};

/** A partial copy nothing has written to for this long was left by a stopped gateway. */
const STALE_PARTIAL_MS = 60 * 60 * 1000;

/** The compressor's CPU priority (nice): below the gateway's, which it must never slow. */
const COMPRESS_PRIORITY = 10;
const COMPRESS_SCRIPT = fileURLToPath(new URL("./compress-file.ts", import.meta.url));

const run = promisify(execFile);

/**
 * Runs compress-file.ts at a low priority; resolves with the SHA-256 of what it compressed. Killed
 * when `signal` aborts; a failure rejects with the compressor's stderr in its message.
 */
async function compressInChild(
  source: string,
  destination: string,
  encoding: DownloadEncoding,
  signal: AbortSignal,
): Promise<string> {
  const running = run(process.execPath, [COMPRESS_SCRIPT, source, destination, encoding], {
    signal,
    killSignal: "SIGKILL",
  });
  if (running.child.pid !== undefined) {
    try {
      setPriority(running.child.pid, COMPRESS_PRIORITY);
    } catch {
      // Not allowed here: it runs at the gateway's priority.
    }
  }
  return (await running).stdout.trim();
}

/** Beside the builds, hidden: the catalog lists only build:sos's names, never this folder. */
export const ENCODED_FOLDER = ".encoded";

/**
 * The downloads' compressed copies, `<downloads>/.encoded/<sha256>.<coding>`: named by the SHA-256
 * of the plain file they were made from (hashed from the very bytes compressed), so a rebuilt file
 * never gets an older build's copy and an unchanged one is never compressed twice. Made one at a
 * time in a child process at a low CPU priority (the gateway's event loop and CPU stay its own),
 * into a partial file renamed into place when whole; copies of builds no longer offered are
 * removed.
 */
export class EncodedCopies {
  readonly #folder: string;
  readonly #downloadsDir: string;
  readonly #log: EncodedCopiesLog;
  readonly #abort = new AbortController();
  /** The queue of copies to make: each waits for the one before it. */
  #queue: Promise<void> = Promise.resolve();
  readonly #queued = new Set<string>();

  constructor(downloadsDir: string, log: EncodedCopiesLog) {
    this.#downloadsDir = downloadsDir;
    this.#folder = join(downloadsDir, ENCODED_FOLDER);
    this.#log = log;
    // Partial copies of a gateway stopped while compressing (not another gateway's on the same
    // folder, which writes to its partial file all along).
    for (const name of this.#names()) {
      const path = join(this.#folder, name);
      const stat = statSync(path, { throwIfNoEntry: false });
      if (name.endsWith(".partial") && stat !== undefined && Date.now() - stat.mtimeMs > STALE_PARTIAL_MS) {
        rmSync(path, { force: true });
      }
    }
  }

  /** The copies made so far of the build whose plain file has this SHA-256. */
  of(sha256: string): EncodedCopy[] {
    return DOWNLOAD_ENCODINGS.flatMap((encoding) => {
      const path = join(this.#folder, `${sha256}.${encoding}`);
      const stat = statSync(path, { throwIfNoEntry: false });
      return stat?.isFile() === true ? [{ encoding, path, size: stat.size }] : [];
    });
  }

  /**
   * Queues the missing copies of every build in the downloads folder and removes the copies of
   * builds no longer there. Resolves when this refresh's copies are made or have failed (logged);
   * never rejects.
   */
  async refresh(): Promise<void> {
    const builds = listBuilds(this.#downloadsDir);
    let digests: { build: AvailableBuild; sha256: string }[];
    try {
      digests = await Promise.all(
        builds.map((build) => buildSha256(build).then((sha256) => ({ build, sha256 }))),
      );
    } catch (error) {
      // A build replaced or removed while it was hashed: the next refresh sees the new state.
      this.#log.warn({ err: error }, "downloads not compressed");
      return;
    }
    const current = new Set(digests.map((d) => d.sha256));
    for (const name of this.#names()) {
      const sha256 = name.split(".")[0] ?? "";
      if (!name.startsWith(".") && !current.has(sha256)) rmSync(join(this.#folder, name), { force: true });
    }
    const made: Promise<void>[] = [];
    for (const { build, sha256 } of digests) {
      for (const encoding of DOWNLOAD_ENCODINGS) {
        const key = `${sha256}.${encoding}`;
        if (this.#queued.has(key) || this.of(sha256).some((copy) => copy.encoding === encoding)) continue;
        this.#queued.add(key);
        const next = this.#queue.then(() =>
          this.#make(build, sha256, encoding).finally(() => this.#queued.delete(key)),
        );
        this.#queue = next;
        made.push(next);
      }
    }
    await Promise.all(made);
  }

  /** Stops the copy being made (its partial file is removed); nothing more is started. */
  close(): Promise<void> {
    this.#abort.abort();
    return this.#queue;
  }

  async #make(build: AvailableBuild, sha256: string, encoding: DownloadEncoding): Promise<void> {
    if (this.#abort.signal.aborted) return;
    mkdirSync(this.#folder, { recursive: true });
    const partial = join(this.#folder, `.${sha256}.${encoding}.${randomUUID()}.partial`);
    const copy = join(this.#folder, `${sha256}.${encoding}`);
    const started = performance.now();
    try {
      const compressed = await compressInChild(build.path, partial, encoding, this.#abort.signal);
      // Replaced while it was read: the next refresh compresses the new file.
      if (compressed !== sha256) return;
      await rename(partial, copy);
      this.#log.info(
        {
          file: build.file,
          encoding,
          bytes: build.size,
          encodedBytes: statSync(copy).size,
          ms: Math.round(performance.now() - started),
        },
        "download compressed",
      );
    } catch (error) {
      if (!this.#abort.signal.aborted) {
        this.#log.warn({ file: build.file, encoding, err: error }, "download not compressed");
      }
    } finally {
      await rm(partial, { force: true });
    }
  }

  #names(): string[] {
    try {
      return readdirSync(this.#folder);
    } catch {
      return [];
    }
  }
}
