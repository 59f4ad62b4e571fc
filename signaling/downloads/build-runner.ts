import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { rename } from "node:fs/promises";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { z } from "zod";
import type { buildJobSchema, startBuildRequestSchema } from "../../shared/api.ts";
import { SosError } from "../../shared/errors.ts";
import { buildSha256, listBuilds } from "./build-catalog.ts";

export type BuildJob = z.infer<typeof buildJobSchema>;
export type StartBuildRequest = z.infer<typeof startBuildRequestSchema>;

/** The repository: `build/cli.ts` runs from here (it reads `agent/` and `build/` relative to it). */
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** A build's private folder inside the downloads folder; the catalog never lists it. */
const STAGING_PREFIX = ".building-";
/** Enough for every line of a four-target build; older lines are dropped beyond it. */
const MAX_PROGRESS_LINES = 200;

export type BuildRunnerDeps = {
  downloadsDir: string;
  /** `build:sos --cache`: bundles, registry downloads and finished executables keyed by inputs. */
  cacheDir: string;
  /** `build:sos --ca`: a CA the built agent trusts for the gateway's certificate. */
  caFile: string | undefined;
  /** The gateway baked into the build. */
  publicUrl: () => string;
  now: () => number;
  /** Called once per build when it has ended (succeeded, failed or cancelled); must not throw. */
  ended: (job: BuildJob) => void | Promise<void>;
};

/**
 * SOS builds started from the console: `build/cli.ts` in a child process (the gateway's event loop
 * stays free), one at a time, into a private folder inside the downloads folder whose files are
 * renamed into place only when the build has finished, so a cancelled or failed build leaves no
 * partial file where the landing page looks.
 */
export class BuildRunner {
  readonly #d: BuildRunnerDeps;
  #job: BuildJob | null = null;
  #child: ChildProcess | undefined;
  #cancelled = false;
  #done: Promise<void> = Promise.resolve();
  readonly #listeners = new Set<(job: BuildJob) => void>();

  constructor(deps: BuildRunnerDeps) {
    this.#d = deps;
    this.#sweep();
  }

  /** The running build, or the last one since the gateway started. */
  current(): BuildJob | null {
    return this.#job;
  }

  /** Calls `listener` with the job on every change; returns the unsubscribe. */
  subscribe(listener: (job: BuildJob) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  start(request: StartBuildRequest): BuildJob {
    if (this.#job?.state === "running") {
      throw new SosError("BUILD_RUNNING", "An SOS build is already running.");
    }
    const id = randomUUID();
    // Absolute: the child runs in the repository, the gateway perhaps elsewhere.
    const staging = resolve(this.#d.downloadsDir, `${STAGING_PREFIX}${id}`);
    const cacheDir = resolve(this.#d.cacheDir);
    mkdirSync(staging, { recursive: true });
    const args = [
      join(ROOT, "build", "cli.ts"),
      "--gateway",
      this.#d.publicUrl(),
      "--brand",
      request.brand,
      ...(request.supportMessage === undefined ? [] : ["--support-message", request.supportMessage]),
      ...(request.primaryColor === undefined ? [] : ["--primary-color", request.primaryColor]),
      "--target",
      ...request.targets,
      "--out",
      staging,
      "--cache",
      cacheDir,
      ...(this.#d.caFile === undefined ? [] : ["--ca", resolve(this.#d.caFile)]),
    ];
    // Its own process group, so cancel also ends what it started (esbuild, the SEA injection).
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      // npm (registry packages for other targets) keeps its cache with the build's, not in a home
      // folder a sandboxed service may not have.
      env: { ...process.env, npm_config_cache: join(cacheDir, "npm") },
    });
    this.#child = child;
    this.#cancelled = false;
    const job: BuildJob = {
      id,
      state: "running",
      brand: request.brand,
      targets: [...request.targets],
      startedAt: new Date(this.#d.now()).toISOString(),
      progress: [],
      built: [],
      failed: [],
    };
    this.#job = job;
    const stdout: string[] = [];
    createInterface({ input: child.stdout }).on("line", (line) => stdout.push(line));
    createInterface({ input: child.stderr }).on("line", (line) => {
      const text = line.replace(/^build:sos: /, "");
      if (text.trim() === "") return;
      this.#update({ progress: [...(this.#job?.progress ?? []), text].slice(-MAX_PROGRESS_LINES) });
    });
    this.#done = new Promise((resolve) => {
      // A child that cannot start reports "error" and may also report "close": finish once.
      let finished = false;
      const finish = (code: number | null, lines: string[]) => {
        if (finished) return;
        finished = true;
        void this.#finish(staging, code, lines).then(resolve);
      };
      child.once("error", (error) => finish(null, [`cannot start the build: ${error.message}`]));
      child.once("close", (code) => finish(code, stdout));
    });
    return job;
  }

  /** Ends the running build; its files never reach the downloads folder. */
  async cancel(): Promise<BuildJob> {
    const job = this.#job;
    if (job?.state !== "running") throw new SosError("BUILD_NOT_RUNNING", "No SOS build is running.");
    this.#cancelled = true;
    this.#kill();
    await this.#done;
    return this.#job ?? job;
  }

  /** On shutdown: a running build is cancelled and its folder removed. */
  async close(): Promise<void> {
    if (this.#job?.state === "running") await this.cancel();
    this.#listeners.clear();
  }

  #kill(): void {
    const pid = this.#child?.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }

  async #finish(staging: string, code: number | null, stdout: string[]): Promise<void> {
    this.#child = undefined;
    const failed: BuildJob["failed"] = [];
    const built: BuildJob["built"] = [];
    let state: BuildJob["state"] = "cancelled";
    try {
      if (!this.#cancelled) {
        for (const build of listBuilds(staging)) {
          const sha256 = await buildSha256(build);
          // Same file system: the landing page sees the whole file or the previous one, never a part.
          await rename(build.path, join(this.#d.downloadsDir, build.file));
          built.push({ target: build.target, file: build.file, size: build.size, sha256 });
        }
        for (const target of this.#job?.targets ?? []) {
          if (built.some((b) => b.target === target)) continue;
          const line = stdout.find((l) => l.startsWith(`${target} `) && l.includes("(not built)"));
          const reason = line?.replace(/^\S+\s+\(not built\)\s+/, "") ?? `build:sos ended with code ${code}`;
          failed.push({ target, reason });
        }
        state = failed.length === 0 && code === 0 ? "succeeded" : "failed";
      }
    } catch (error) {
      state = "failed";
      failed.push(
        ...(this.#job?.targets ?? [])
          .filter((target) => !built.some((b) => b.target === target))
          .map((target) => ({ target, reason: error instanceof Error ? error.message : String(error) })),
      );
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
    const job = this.#update({ state, built, failed, endedAt: new Date(this.#d.now()).toISOString() });
    if (job !== null) await this.#d.ended(job);
  }

  #update(change: Partial<BuildJob>): BuildJob | null {
    if (this.#job === null) return null;
    this.#job = { ...this.#job, ...change };
    for (const listener of this.#listeners) listener(this.#job);
    return this.#job;
  }

  /** Folders of builds the gateway was stopped in the middle of. */
  #sweep(): void {
    let names: string[];
    try {
      names = readdirSync(this.#d.downloadsDir);
    } catch {
      return;
    }
    for (const name of names) {
      if (name.startsWith(STAGING_PREFIX)) {
        rmSync(join(this.#d.downloadsDir, name), { recursive: true, force: true });
      }
    }
  }
}
