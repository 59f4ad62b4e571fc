import { SosError } from "../../shared/errors.ts";
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

  constructor(deps: SystemInformationDeps) {
    this.#d = deps;
  }

  async request(actor: TechnicianRow, sessionId: string): Promise<void> {
    const { store, clock, audit, events, desk } = this.#d;
    // On the session, Active with its agent, and the end user granted this technician access.
    await desk.permissions.connectAccess(actor, sessionId);
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
