import type { Logger } from "pino";

/** Backoff for a job that failed: 1 s, 2 s, 4 s, … up to 30 s. */
export const JOB_RETRY = { baseMs: 1_000, maxMs: 30_000 } as const;

/** What health shows of failing jobs: their kind and how many (never which session: health is public). */
export type JobFailure = { job: string; count: number; since: number; attempts: number; error: string };

/** A job's name: its kind, then `#` and what makes it unique (a session id), which health leaves out. */
export function jobName(kind: string, id?: string): string {
  return id === undefined ? kind : `${kind}#${id}`;
}

type Failing = Omit<JobFailure, "job" | "count">;

/** One job's retries: whether it was cancelled (after's cancel), and the timer it waits on. */
type Retrying = { cancelled: boolean; timer: NodeJS.Timeout | undefined };

/** A job's work: store calls are asynchronous, so most work is. */
export type Work = () => void | Promise<void>;

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The gateway's timers (resume grace, expiry sweep) and the work done in socket event handlers
 * run here, never bare: a throw (the store locked, read-only, a full disk) is logged with its
 * cause, the work is tried again with backoff, the failure shows in health, and the process stays
 * up. Work given here must be safe to run again after a partial failure.
 */
export class Jobs {
  readonly #log: Logger;
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #failing = new Map<string, Failing>();
  #stopped = false;

  constructor(log: Logger) {
    this.#log = log;
  }

  /**
   * Runs `work` once after `delayMs`, and again with backoff until it succeeds. Returns a cancel
   * function (a cancelled job stops retrying and no longer counts as failing).
   */
  after(job: string, delayMs: number, work: Work): () => void {
    const retrying: Retrying = { cancelled: false, timer: undefined };
    void this.#retry(job, work, retrying, { delayMs });
    return () => {
      retrying.cancelled = true;
      if (retrying.timer !== undefined) {
        clearTimeout(retrying.timer);
        this.#timers.delete(retrying.timer);
        retrying.timer = undefined;
      }
      this.#failing.delete(job);
    };
  }

  /**
   * Runs `work` now (its first run starts in this call, so writes keep their order; also once
   * the jobs have stopped) and, if it fails, again with backoff until it succeeds.
   */
  untilDone(job: string, work: Work): void {
    void this.#retry(job, work, { cancelled: false, timer: undefined });
  }

  /**
   * Runs `work` every `intervalMs`. A failed run is tried again with backoff, never later than the
   * next tick would (an hourly job does not stay failing in health for an hour after a blip), until
   * it succeeds; ticks meanwhile, and a tick while a run is still going, start nothing. `now`: the
   * first run starts at once (a sweep that should not wait a whole interval after a start).
   */
  every(job: string, intervalMs: number, work: Work, { now = false }: { now?: boolean } = {}): void {
    if (this.#stopped) return;
    let running = false;
    const run = async () => {
      if (running) return;
      running = true;
      // Stopped while waiting to retry: this run never ends, and the ticks are cleared too.
      await this.#retry(job, work, { cancelled: false, timer: undefined }, { capMs: intervalMs });
      running = false;
    };
    const timer = setInterval(run, intervalMs);
    timer.unref();
    this.#timers.add(timer);
    if (now) void run();
  }

  /**
   * The one retry loop: after `delayMs` (none: at once, in the call) runs `work`, and after a
   * failure waits min(`capMs`, JOB_RETRY.maxMs, JOB_RETRY.baseMs · 2^n) before its (n+2)th run,
   * until a run succeeds or the job is cancelled. Resolves then; never once the jobs stop while it
   * waits.
   */
  async #retry(
    job: string,
    work: Work,
    retrying: Retrying,
    { delayMs, capMs = JOB_RETRY.maxMs }: { delayMs?: number; capMs?: number } = {},
  ): Promise<void> {
    if (delayMs !== undefined) await this.#pause(delayMs, retrying);
    for (let failures = 0; !retrying.cancelled; failures += 1) {
      if (await this.#attempt(job, work, () => retrying.cancelled)) return;
      await this.#pause(Math.min(capMs, JOB_RETRY.maxMs, JOB_RETRY.baseMs * 2 ** failures), retrying);
    }
  }

  /** Resolves after `ms`, or never once the jobs stop or the job is cancelled. */
  #pause(ms: number, retrying: Retrying): Promise<void> {
    return new Promise((resolve) => {
      if (this.#stopped || retrying.cancelled) return;
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        retrying.timer = undefined;
        resolve();
      }, ms);
      timer.unref();
      this.#timers.add(timer);
      retrying.timer = timer;
    });
  }

  /** Runs `work` now, in an event handler: a throw or rejection is logged with its cause, never thrown on. */
  safely(what: string, work: Work): void {
    const failed = (error: unknown) => this.#log.error({ err: error, what }, "event handling failed");
    try {
      const result = work();
      if (result instanceof Promise) result.catch(failed);
    } catch (error) {
      failed(error);
    }
  }

  /** Jobs whose last run failed, by kind. */
  failing(): JobFailure[] {
    const byKind = new Map<string, JobFailure>();
    for (const [name, failing] of this.#failing) {
      const job = name.split("#")[0] ?? name;
      const seen = byKind.get(job);
      byKind.set(
        job,
        seen === undefined
          ? { job, count: 1, ...failing }
          : {
              job,
              count: seen.count + 1,
              since: Math.min(seen.since, failing.since),
              attempts: Math.max(seen.attempts, failing.attempts),
              error: failing.error,
            },
      );
    }
    return [...byKind.values()];
  }

  /** Stops every timer (shutdown). Safe to call twice. */
  stop(): void {
    this.#stopped = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  /** One run; `cancelled` says whether the job was cancelled meanwhile (then it is not failing). */
  async #attempt(job: string, work: Work, cancelled: () => boolean = () => false): Promise<boolean> {
    try {
      await work();
      if (this.#failing.delete(job)) this.#log.info({ job }, "job recovered");
      return true;
    } catch (error) {
      if (cancelled()) return true;
      const before = this.#failing.get(job);
      const failing = {
        since: before?.since ?? Date.now(),
        attempts: (before?.attempts ?? 0) + 1,
        error: message(error),
      };
      this.#failing.set(job, failing);
      this.#log.error({ err: error, job, attempts: failing.attempts }, "job failed; trying again");
      return false;
    }
  }
}
