import { type ConsentDecision, hasFeature, type Join } from "../../shared/agent-protocol.ts";
import { SosError } from "../../shared/errors.ts";
import type { DeviceInfo } from "../../shared/model.ts";
import { isLive } from "../../shared/status.ts";
import { hashSecret, newSecret } from "../auth/tokens.ts";
import type { Clock } from "../clock.ts";
import type { SessionRow } from "../store/rows.ts";
import type { Store } from "../store/store.ts";
import type { AuditLog } from "./audit.ts";
import type { Continuation } from "./continuation.ts";
import type { Desk } from "./desk/desk.ts";
import { permissionTransition, resetPermissions, transition } from "./desk/session-machine.ts";
import type { AgentPresence, DomainEvents } from "./events.ts";
import type { PinGuard } from "./pin-guard.ts";

export type SupporteeDeps = {
  store: Store;
  clock: Clock;
  audit: AuditLog;
  events: DomainEvents;
  presence: AgentPresence;
  pins: PinGuard;
  desk: Desk;
  continuation: Continuation;
};

const MINUTE = 60_000;

/**
 * The supportee's (end user's) actions through their agent: join, consent, revoke, leave. The
 * technicians' side is the Desk.
 */
export class Supportee {
  readonly #d: SupporteeDeps;

  constructor(deps: SupporteeDeps) {
    this.#d = deps;
  }

  /**
   * Joins by PIN, link or resume secret. Returns the session and a fresh resume secret (each secret
   * works once). A fresh join (not a resume) forgets earlier consent: a new app asks again.
   *
   * `features` are those the agent's hello named (AGENT_FEATURES): without `continue` the session
   * is never asked whether it may continue (Continuation.joined).
   * `attach` registers the agent as present; it is called once the join is stored, before any
   * other action on the session runs, so two joins at once cannot both find the session free.
   */
  async join(
    join: Join,
    device: DeviceInfo,
    features: readonly string[],
    address: string,
    attach: (session: SessionRow) => void,
  ): Promise<{ session: SessionRow; secret: string; resumed: boolean }> {
    const { store, clock, audit, presence } = this.#d;
    await this.#d.desk.lifecycle.expireDue();
    const found = await this.#find(join, address);
    const resumed = join.kind === "resume";
    const askable = hasFeature(features, "continue");
    return this.#d.desk.serialized(found.id, async () => {
      const secret = newSecret();
      const next = await store.transaction(async () => {
        // Decided again on the row as it is now: the session may have ended, or its secret been
        // used by the join before this one.
        const session = await store.lockSession(found.id);
        if (session === undefined) throw SosError.sessionNotFound();
        if (resumed && session.resumeSecretHash !== found.resumeSecretHash) throw resumeInvalid();
        this.#live(session);
        if (!resumed && presence.isConnected(session.id)) {
          throw new SosError("AGENT_ALREADY_CONNECTED", "Another app is already connected to this session.");
        }
        const next: SessionRow = {
          ...transition(session, "agentJoined", true),
          resumeSecretHash: hashSecret(secret),
          device,
          lastActivityAt: clock.now(),
        };
        await store.updateSession(next);
        // A new app was never asked: nothing to withdraw at it.
        if (!resumed) await resetPermissions(store, clock.now(), await store.getPermissions(session.id));
        // Its end user agreed just now (a new app), or has a moment to answer an open question (a resume).
        await this.#d.continuation.joined(session.id, clock.now(), resumed, askable);
        await audit.record(
          { kind: "agent", sessionId: session.id, address },
          resumed ? "agent.resumed" : "agent.joined",
          session.id,
          {
            via: join.kind,
            hostname: device.hostname,
            os: device.os,
            user: device.user,
          },
        );
        return next;
      });
      attach(next);
      // The socket layer publishes the change once the agent is registered as present.
      return { session: next, secret, resumed };
    });
  }

  /** Consent requests still waiting for the end user (sent again after a resume). */
  async pendingConsent(sessionId: string) {
    const { store } = this.#d;
    const pending = (await store.getPermissions(sessionId)).filter(
      (permission) => permission.state === "requested" && permission.requestId !== null,
    );
    const requests = [];
    for (const permission of pending) {
      const account = await store.getTechnician(permission.technicianId);
      requests.push({
        requestId: permission.requestId ?? "",
        technician: { id: permission.technicianId, name: account?.name ?? "" },
        access: permission.access ?? "control",
      });
    }
    return requests;
  }

  consent(sessionId: string, requestId: string, decision: ConsentDecision, address: string): Promise<void> {
    const { store, clock, audit } = this.#d;
    return this.#d.desk.serialized(sessionId, async () => {
      const changed = await store.transaction(async () => {
        await store.lockSession(sessionId);
        const permission = (await store.getPermissions(sessionId)).find((p) => p.requestId === requestId);
        // Withdrawn (the technician left; consent.cancel is on its way): a late answer changes nothing.
        if (permission?.state === "none") return false;
        if (permission === undefined || permission.state !== "requested") {
          throw new SosError("NOT_FOUND", "No such consent request is waiting.");
        }
        const state = permissionTransition(permission, decision === "deny" ? "deny" : "grant");
        // Never more than was asked: `control` answered to a view-only request grants view.
        const granted = decision === "deny" ? null : permission.access === "view" ? "view" : decision;
        await store.putPermission({
          ...permission,
          state,
          access: granted,
          updatedAt: clock.now(),
        });
        await audit.record(
          { kind: "agent", sessionId, address },
          decision === "deny" ? "session.consent_denied" : "session.consent_granted",
          sessionId,
          { technicianId: permission.technicianId, access: granted },
        );
        return true;
      });
      if (changed) await this.#changed(sessionId);
    });
  }

  /** The end user withdraws consent from one technician, or from all. */
  revoke(sessionId: string, technicianId: string | undefined, address: string): Promise<void> {
    const { store, clock, audit, events } = this.#d;
    return this.#d.desk.serialized(sessionId, async () => {
      const affected = await store.transaction(async () => {
        await store.lockSession(sessionId);
        const affected = (await store.getPermissions(sessionId)).filter(
          (p) =>
            (technicianId === undefined || p.technicianId === technicianId) &&
            (p.state === "granted" || p.state === "requested"),
        );
        if (affected.length === 0) return affected;
        for (const permission of affected) {
          await store.putPermission({
            ...permission,
            state: permissionTransition(permission, "revoke"),
            access: null,
            updatedAt: clock.now(),
          });
        }
        await audit.record({ kind: "agent", sessionId, address }, "session.consent_revoked", sessionId, {
          technicianIds: affected.map((p) => p.technicianId),
        });
        return affected;
      });
      if (affected.length === 0) return;
      for (const permission of affected)
        events.emit("technicianOffSession", sessionId, permission.technicianId, "revoked");
      await this.#changed(sessionId);
    });
  }

  /**
   * The agent is gone for good: ended by the end user, or away past the resume grace.
   * Active falls back to Waiting, all consent is forgotten, remote views close.
   */
  left(sessionId: string, how: "ended" | "lost", address: string): Promise<void> {
    return this.#d.desk.serialized(sessionId, () => this.#left(sessionId, how, address));
  }

  async #left(sessionId: string, how: "ended" | "lost", address: string): Promise<void> {
    const { store, clock, audit, events, presence } = this.#d;
    const outcome = await store.transaction(async () => {
      const session = await store.lockSession(sessionId);
      // An agent that joined meanwhile keeps the session.
      if (session === undefined || !isLive(session.status) || presence.isConnected(sessionId)) {
        return undefined;
      }
      const channel = await store.getChannel(session.channelId);
      const now = clock.now();
      const next: SessionRow = {
        ...transition(session, "agentLeft", false),
        lastActivityAt: now,
        expiresAt: now + (channel?.sessionExpiryMinutes ?? 60) * MINUTE,
        resumeSecretHash: how === "ended" ? null : session.resumeSecretHash,
      };
      const permissions = (await store.getPermissions(sessionId)).filter((p) => p.state !== "none");
      await store.updateSession(next);
      await resetPermissions(store, now, permissions);
      await audit.record(
        { kind: "agent", sessionId, address },
        how === "ended" ? "agent.ended" : "agent.lost",
        sessionId,
      );
      return { next, permissions };
    });
    if (outcome === undefined) return;
    const { next, permissions } = outcome;
    for (const permission of permissions) {
      events.emit(
        "technicianOffSession",
        sessionId,
        permission.technicianId,
        how === "ended" ? "ended_by_user" : "agent_offline",
      );
    }
    events.emit("sessionChanged", next);
  }

  async #changed(sessionId: string): Promise<void> {
    const session = await this.#d.store.getSession(sessionId);
    if (session !== undefined) this.#d.events.emit("sessionChanged", session);
  }

  async #find(join: Join, address: string): Promise<SessionRow> {
    const { store, pins } = this.#d;
    switch (join.kind) {
      case "pin": {
        pins.check(address);
        const session = await store.getSessionByPin(join.pin);
        if (session === undefined || !isLive(session.status)) {
          pins.failed(address);
          throw SosError.sessionNotFound();
        }
        pins.succeeded(address);
        return session;
      }
      case "link": {
        const session = await store.getSessionByLinkToken(join.token);
        if (session === undefined) throw SosError.sessionNotFound();
        return this.#live(session);
      }
      case "resume": {
        const session = await store.getSession(join.sessionId);
        if (session === undefined || session.resumeSecretHash !== hashSecret(join.secret)) {
          throw resumeInvalid();
        }
        return this.#live(session);
      }
    }
  }

  #live(session: SessionRow): SessionRow {
    if (session.status === "Closed")
      throw new SosError("SESSION_CLOSED", "The technician closed this session.");
    if (session.status === "Expired") throw new SosError("SESSION_EXPIRED", "This session has expired.");
    return session;
  }
}

function resumeInvalid(): SosError {
  return new SosError(
    "RESUME_INVALID",
    "The reconnect secret is not valid; join again with the PIN or link.",
  );
}
