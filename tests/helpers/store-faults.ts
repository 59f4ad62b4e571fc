/**
 * Faults of the disk and database under a running gateway, made for real: another process holding
 * SQLite's write lock, and a filesystem whose database files stop accepting writes. Needs root
 * (loop mount, chattr); the suite runs as root in CI.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

/** Runs in the child: holds BEGIN IMMEDIATE on the database until a line arrives on stdin. */
const LOCK_HOLDER = `
const { DatabaseSync } = require("node:sqlite");
const db = new DatabaseSync(process.argv[1]);
db.exec("BEGIN IMMEDIATE");
process.stdout.write("locked\\n");
process.stdin.once("data", () => { db.exec("COMMIT"); db.close(); process.exit(0); });
`;

export type WriteLock = { release(): Promise<void> };

/** Another process takes the database's write lock and keeps it until release(). */
export async function holdWriteLock(dbPath: string): Promise<WriteLock> {
  const child = spawn(process.execPath, ["-e", LOCK_HOLDER, dbPath], { stdio: ["pipe", "pipe", "inherit"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const lines = createInterface({ input: child.stdout });
  await new Promise<void>((resolve, reject) => {
    lines.once("line", () => resolve());
    child.once("exit", (code) => reject(new Error(`lock holder exited with ${code} before locking`)));
  });
  return {
    async release() {
      if (child.exitCode === null) child.stdin.write("release\n");
      await exited;
    },
  };
}

/**
 * A small ext4 filesystem on a loop device, for a data directory whose disk can fail. `failWrites()`
 * sets the immutable flag on the database, its WAL and the folder: the kernel then refuses every
 * write to them as it would on a disk turned read-only (a `remount,ro` itself is refused while the
 * gateway holds the file open for writing). The shared-memory index (-shm) is left alone: SQLite
 * maps it into memory, and a real read-only disk does not take away pages already mapped.
 */
export class LoopDisk {
  readonly dir: string;
  readonly #image: string;
  readonly #mount: string;

  constructor() {
    const base = mkdtempSync(join(tmpdir(), "sos-disk-"));
    this.#image = join(base, "disk.img");
    this.#mount = join(base, "mnt");
    mkdirSync(this.#mount);
    execFileSync("truncate", ["-s", "32M", this.#image]);
    execFileSync("mkfs.ext4", ["-q", "-F", this.#image]);
    execFileSync("mount", ["-o", "loop", this.#image, this.#mount]);
    this.dir = join(this.#mount, "data");
    mkdirSync(this.dir);
  }

  #files(): string[] {
    return [this.dir, join(this.dir, "gateway.db"), join(this.dir, "gateway.db-wal")].filter((file) =>
      existsSync(file),
    );
  }

  failWrites(): void {
    execFileSync("chattr", ["+i", ...this.#files()]);
  }

  acceptWrites(): void {
    execFileSync("chattr", ["-i", ...this.#files()]);
  }

  /** Unmounts and removes everything. Safe to call twice. */
  close(): void {
    try {
      if (this.#files().length > 0) this.acceptWrites();
    } catch {
      // Already writable, or already gone.
    }
    try {
      execFileSync("umount", [this.#mount]);
    } catch {
      // Not mounted (any more).
    }
    rmSync(join(this.#mount, ".."), { recursive: true, force: true });
  }
}
