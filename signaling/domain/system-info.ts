import { SosError } from "../../shared/errors.ts";
import { SYSTEM_INFO_REQUEST_INTERVAL_MS } from "../../shared/limits.ts";
import type { SystemInfo } from "../../shared/system-info.ts";
import { newId } from "../auth/tokens.ts";
import type { Clock } from "../clock.ts";
import type { TechnicianRow } from "../store/rows.ts";
import type { Store } from "../store/store.ts";
import type { AuditLog } from "./audit.ts";
import type { Desk } from "./desk/desk.ts";
import type { DomainEvents } from "./events.ts";

export type SystemInformationDeps = {
  store: Store;
  clock: Clock;
  audit: AuditLog;
  events: DomainEvents;
  desk: Desk;
};

/**
 * The end user's computer's facts (shared/system-info.ts), on a technician's request and only
 * after consent: who may connect to the session's screen may ask (Start remote session's rule),
 * the agent answers the request it was sent (and checks the technician itself). The last answer
 * is kept with the session; both the request and the answer are audited.
 */
export class SystemInformation {
  readonly #d: SystemInformationDeps;
  /** When each session's last request was taken (this instance's), for the request interval. */
  readonly #askedAt = new Map<string, number>();

  constructor(deps: SystemInformationDeps) {
    this.#d = deps;
  }

  /**
   * A technician asks the session's agent for its facts. At most one request per session every
   * SYSTEM_INFO_REQUEST_INTERVAL_MS: each one is printed in the end user's terminal, computed by
   * the agent and audited twice, so a request sooner is RATE_LIMITED (before any store read; a
   * refusal for who asks takes nothing of the interval).
   */
  async request(actor: TechnicianRow, sessionId: string): Promise<void> {
    const { store, clock, audit, events, desk } = this.#d;
    this.#notTooSoon(sessionId);
    // On the session, Active with its agent, and the end user granted this technician access.
    await desk.permissions.connectAccess(actor, sessionId);
    // Again, and taken at once: another request may have been taken meanwhile.
    this.#notTooSoon(sessionId);
    this.#askedAt.set(sessionId, clock.now());
    const requestId = newId();
    await desk.serialized(sessionId, () =>
      store.transaction(async () => {
        await store.lockSession(sessionId);
        await store.putSystemInfoRequest(sessionId, requestId, actor.id, clock.now());
        await audit.record(
          { kind: "technician", account: actor },
          "session.system_info_requested",
          sessionId,
        );
      }),
    );
    events.emit("systemInfoRequested", sessionId, {
      requestId,
      technician: { id: actor.id, name: actor.name },
    });
  }

  #notTooSoon(sessionId: string): void {
    const now = this.#d.clock.now();
    if (this.#askedAt.size >= 1_000) {
      for (const [id, at] of this.#askedAt) {
        if (now - at >= SYSTEM_INFO_REQUEST_INTERVAL_MS) this.#askedAt.delete(id);
      }
    }
    const at = this.#askedAt.get(sessionId);
    if (at === undefined || now - at >= SYSTEM_INFO_REQUEST_INTERVAL_MS) return;
    const retryAfter = Math.max(1, Math.ceil((at + SYSTEM_INFO_REQUEST_INTERVAL_MS - now) / 1000));
    throw new SosError("RATE_LIMITED", "The end user's computer was asked a moment ago.", { retryAfter });
  }

  /** The agent's answer to the session's last request; any other is NOT_FOUND and kept nowhere. */
  async received(sessionId: string, requestId: string, info: SystemInfo, address: string): Promise<void> {
    const { store, clock, audit, events, desk } = this.#d;
    const at = clock.now();
    await desk.serialized(sessionId, () =>
      store.transaction(async () => {
        await store.lockSession(sessionId);
        const pending = await store.getSystemInfo(sessionId);
        if (pending === undefined || pending.requestId !== requestId || pending.receivedAt !== null) {
          throw new SosError("NOT_FOUND", "No such request for system information is waiting.");
        }
        await store.putSystemInfo(sessionId, info, at);
        await audit.record({ kind: "agent", sessionId, address }, "session.system_info_sent", sessionId, {
          requestedBy: pending.requestedBy,
        });
      }),
    );
    events.emit("systemInfo", sessionId, info, at);
  }

  /** The last facts received, for a technician who may see the session. */
  async last(
    actor: TechnicianRow,
    sessionId: string,
  ): Promise<{ info: SystemInfo | null; at: number | null }> {
    await this.#d.desk.get(actor, sessionId);
    const row = await this.#d.store.getSystemInfo(sessionId);
    return { info: row?.info ?? null, at: row?.receivedAt ?? null };
  }
}
