import { type Clock, iso } from "../clock.ts";
import type { Store } from "../store/store.ts";
import type { AuditLog } from "./audit.ts";
import type { DomainEvents } from "./events.ts";

/** The longest retention a setting takes (100 years: "keep" without being forever). */
export const MAX_RETENTION_DAYS = 36_500;

const DAY_MS = 86_400_000;

/**
 * Sessions deleted per transaction, with their parts. A batch is one transaction (SQLite's write
 * lock, PostgreSQL's row locks) and the store serves others between two batches, so a backlog of
 * any size never holds it for long.
 */
export const SESSION_BATCH = 200;
/** Audit entries per delete, for the same reason. */
export const AUDIT_BATCH = 1_000;

/**
 * What the retentions delete, as the metrics count it: this data retention's sessions and audit
 * entries, and the recordings their channels' own retention deletes (recordings.ts).
 */
export const RETENTION_KINDS = ["sessions", "audit_entries", "recordings"] as const;
export type RetentionKind = (typeof RETENTION_KINDS)[number];

export type RetentionDeps = {
  store: Store;
  clock: Clock;
  audit: AuditLog;
  /** Each deleted session is `sessionRemoved`: consoles that list it drop it, on every instance. */
  events: DomainEvents;
  /** Ended sessions are kept this many days after they ended; undefined: forever. */
  sessionDays: number | undefined;
  /** Audit entries are kept this many days; undefined: forever. */
  auditDays: number | undefined;
  /** Told of every batch deleted (the metrics). */
  deleted?: (kind: Exclude<RetentionKind, "recordings">, count: number) => void;
  /** Tests only: smaller batches (default SESSION_BATCH, AUDIT_BATCH). */
  batches?: RetentionBatches | undefined;
};

export type RetentionBatches = { sessions: number; auditEntries: number };

/** What one run deleted. */
export type RetentionRun = { sessions: number; auditEntries: number };

/**
 * Data retention (`--session-retention-days`, `--audit-retention-days`): ended sessions with their
 * chat, system information, invitations and permissions, and audit entries, deleted once they are
 * older than their setting. Every gateway instance runs it hourly (main.ts); instances running it
 * at once delete each row once. A session with a recording waits until the recordings' own
 * retention has deleted it (recordings.ts). A run that deleted something leaves one audit entry.
 */
export class Retention {
  readonly #d: RetentionDeps;

  constructor(deps: RetentionDeps) {
    this.#d = deps;
  }

  /**
   * Deletes what is past its retention at the clock's now, batch by batch; resolves to how much
   * this run deleted. A store that fails stops the run (its job tries it again with backoff); what
   * was deleted until then is audited all the same.
   */
  async sweep(): Promise<RetentionRun> {
    const { store, clock, audit, sessionDays, auditDays } = this.#d;
    const now = clock.now();
    const endedBefore = sessionDays === undefined ? undefined : now - sessionDays * DAY_MS;
    const auditBefore = auditDays === undefined ? undefined : now - auditDays * DAY_MS;
    const size = this.#d.batches ?? { sessions: SESSION_BATCH, auditEntries: AUDIT_BATCH };
    const run: RetentionRun = { sessions: 0, auditEntries: 0 };
    const deleted =
      (kind: Exclude<RetentionKind, "recordings">, key: keyof RetentionRun) => (count: number) => {
        run[key] += count;
        if (count > 0) this.#d.deleted?.(kind, count);
      };
    try {
      if (endedBefore !== undefined) {
        await batches(
          size.sessions,
          async () => {
            const removed = await store.transaction((tx) =>
              tx.deleteEndedSessions(endedBefore, size.sessions),
            );
            for (const session of removed) this.#d.events.emit("sessionRemoved", session);
            return removed.length;
          },
          deleted("sessions", "sessions"),
        );
      }
      if (auditBefore !== undefined) {
        await batches(
          size.auditEntries,
          () => store.deleteAuditBefore(auditBefore, size.auditEntries),
          deleted("audit_entries", "auditEntries"),
        );
      }
    } finally {
      if (run.sessions + run.auditEntries > 0) {
        // Already done and not to be undone: written even while the store fails, once it serves again.
        audit.observed({ kind: "system" }, "retention.deleted", null, {
          ...(endedBefore === undefined ? {} : { sessions: run.sessions, endedBefore: iso(endedBefore) }),
          ...(auditBefore === undefined
            ? {}
            : { auditEntries: run.auditEntries, auditBefore: iso(auditBefore) }),
        });
      }
    }
    return run;
  }
}

/** Deletes batch after batch until one comes back short, counting each as it commits. */
async function batches(size: number, batch: () => Promise<number>, counted: (count: number) => void) {
  for (;;) {
    const count = await batch();
    counted(count);
    if (count < size) return;
  }
}
