import type { AuditAction } from "../../shared/audit-actions.ts";
import type { AuditEntry } from "../../shared/model.ts";
import { type Clock, iso } from "../clock.ts";
import type { AuditFilter, AuditRow, TechnicianRow } from "../store/rows.ts";
import type { Store } from "../store/store.ts";
import { requireAdmin } from "./policy.ts";

/** Who did something: a signed-in technician, the end user's agent, or the gateway itself. */
export type Actor =
  | { kind: "technician"; account: TechnicianRow }
  | { kind: "agent"; sessionId: string; address: string }
  | { kind: "system" };

/** Runs a write again later until it succeeds (the gateway's Jobs). */
export type Retry = (job: string, work: () => Promise<void>) => void;

/** The audit trail: who did what to which session, and when. Append-only. */
export class AuditLog {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #retry: Retry;
  /** Tells entries retried at once apart. */
  #observedCount = 0;

  constructor(store: Store, clock: Clock, retry: Retry) {
    this.#store = store;
    this.#clock = clock;
    this.#retry = retry;
  }

  /** Records a decision; rejects if the store fails, so the caller's transaction fails with it. */
  async record(
    actor: Actor,
    action: AuditAction,
    sessionId: string | null,
    detail: Record<string, unknown> = {},
  ): Promise<void> {
    await this.#store.appendAudit(this.#entry(actor, action, sessionId, detail));
  }

  /**
   * Records something that already happened and cannot be undone (a remote view closed, a socket
   * gone): never throws; while the store fails the entry is written later, with its original time.
   */
  observed(
    actor: Actor,
    action: AuditAction,
    sessionId: string | null,
    detail: Record<string, unknown> = {},
  ): void {
    const entry = this.#entry(actor, action, sessionId, detail);
    this.#observedCount += 1;
    this.#retry(`audit ${action}#${this.#observedCount}`, async () => {
      await this.#store.appendAudit(entry);
    });
  }

  /** The trail, newest first, for an admin. */
  list(actor: TechnicianRow, filter: AuditFilter): Promise<AuditRow[]> {
    requireAdmin(actor);
    return this.#store.listAudit(filter);
  }

  #entry(actor: Actor, action: AuditAction, sessionId: string | null, detail: Record<string, unknown>) {
    const who =
      actor.kind === "technician"
        ? { actorId: actor.account.id, actorName: actor.account.name }
        : actor.kind === "agent"
          ? { actorId: null, actorName: `agent@${actor.address}` }
          : { actorId: null, actorName: null };
    return { at: this.#clock.now(), actorKind: actor.kind, ...who, action, sessionId, detail };
  }
}

export function auditView(row: AuditRow): AuditEntry {
  return {
    id: row.id,
    at: iso(row.at),
    actor: { kind: row.actorKind, id: row.actorId, name: row.actorName },
    action: row.action,
    sessionId: row.sessionId,
    detail: row.detail,
  };
}

function csvCell(value: string): string {
  // Quote every cell; neutralize spreadsheet formulas (a cell starting with = + - @).
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return `"${safe.replaceAll('"', '""')}"`;
}

export function auditCsv(rows: readonly AuditRow[]): string {
  const header = ["id", "at", "actor_kind", "actor_id", "actor_name", "action", "session_id", "detail"];
  const lines = rows.map((row) =>
    [
      String(row.id),
      iso(row.at),
      row.actorKind,
      row.actorId ?? "",
      row.actorName ?? "",
      row.action,
      row.sessionId ?? "",
      JSON.stringify(row.detail),
    ]
      .map(csvCell)
      .join(","),
  );
  return `${[header.join(","), ...lines].join("\r\n")}\r\n`;
}
