import type { SessionEndReason } from "../../shared/agent-protocol.ts";
import {
  type ContinuationEvent,
  type ContinueAnswer,
  isCounting,
  nextContinuation,
} from "../../shared/continuation.ts";
import { SosError } from "../../shared/errors.ts";
import { CONTINUE_ANSWER_AFTER_RECONNECT_MS, CONTINUE_ANSWER_MS } from "../../shared/limits.ts";
import { isLive } from "../../shared/status.ts";
import { newId } from "../auth/tokens.ts";
import type { Clock } from "../clock.ts";
import type { ContinuationRow, SessionRow } from "../store/rows.ts";
import type { Store } from "../store/store.ts";
import type { Actor, AuditLog } from "./audit.ts";
import type { Desk } from "./desk/desk.ts";
import { resetPermissions, transition } from "./desk/session-machine.ts";
import type { AgentPresence, DomainEvents } from "./events.ts";

export type ContinuationDeps = {
  store: Store;
  clock: Clock;
  audit: AuditLog;
  events: DomainEvents;
  presence: AgentPresence;
  desk: Desk;
};

const MINUTE = 60_000;

/** The question as the agent is sent it (`continue.request`). */
export type ContinueQuestion = { requestId: string; minutes: number; seconds: number };

/**
 * Consent that stays current (shared/continuation.ts). The gateway keeps each session's clock in
 * the store: it starts when a new agent joins, the sweep asks once the channel's interval has
 * passed and ends the session when the answer's deadline passes, and the end user's yes starts it
 * again. Decided on stored times only, so a gateway restart or another instance on the same
 * database carries on where it was. The clock does not end a session whose agent is away: a
 * question still open when it comes back is sent again, with at least
 * CONTINUE_ANSWER_AFTER_RECONNECT_MS left to answer.
 */
export class Continuation {
  readonly #d: ContinuationDeps;

  constructor(deps: ContinuationDeps) {
    this.#d = deps;
  }

  /**
   * An agent joined; call inside the join's transaction, before the agent counts as connected.
   * A new agent (PIN or link), or a resume of a session without a clock yet (it began before the
   * gateway kept one): the clock starts now if the agent can be asked (`askable`: it named the
   * `continue` feature), else the session is marked `unsupported` and never asked. A resume: a
   * question still open gets at least CONTINUE_ANSWER_AFTER_RECONNECT_MS to be answered (its end
   * user could not answer meanwhile), decided before the sweep can see the agent connected.
   */
  async joined(sessionId: string, now: number, resumed: boolean, askable: boolean): Promise<void> {
    const { store } = this.#d;
    const current = await store.getContinuation(sessionId);
    const restart = !resumed || current === undefined || (askable && current.state === "unsupported");
    if (restart) {
      await store.putContinuation({
        sessionId,
        state: step(current?.state ?? "running", askable ? "joined" : "joinedUnaskable"),
        since: now,
        requestId: null,
        deadline: null,
      });
      return;
    }
    if (current.state !== "asked") return;
    const deadline = Math.max(current.deadline ?? now, now + CONTINUE_ANSWER_AFTER_RECONNECT_MS);
    if (deadline !== current.deadline) await store.putContinuation({ ...current, deadline });
  }

  /** The question the session's agent must see now, if one is open (sent again after a resume). */
  async pending(sessionId: string): Promise<ContinueQuestion | undefined> {
    const row = await this.#d.store.getContinuation(sessionId);
    return row?.state === "asked" ? question(row, this.#d.clock.now()) : undefined;
  }

  /**
   * Asks every session whose interval has passed, and ends every one whose question is past its
   * deadline; only sessions whose agent is connected (here or on another instance). Returns how
   * many it asked or ended.
   */
  async sweep(): Promise<number> {
    const { store, clock, presence } = this.#d;
    let count = 0;
    for (const due of await store.listContinuationsDue(clock.now())) {
      if (!presence.isConnected(due.sessionId)) continue;
      const done =
        due.state === "asked"
          ? await this.#end(due.sessionId, { kind: "system" }, "timeout", undefined)
          : await this.#ask(due.sessionId);
      if (done) count += 1;
    }
    return count;
  }

  /** The end user's answer in the agent's terminal: yes starts the clock again, no ends the session. */
  async answer(sessionId: string, requestId: string, answer: ContinueAnswer, address: string): Promise<void> {
    const actor: Actor = { kind: "agent", sessionId, address };
    if (answer === "no") {
      await this.#end(sessionId, actor, "no", requestId);
      return;
    }
    const { store, clock, audit, events } = this.#d;
    const session = await this.#d.desk.serialized(sessionId, () =>
      store.transaction(async () => {
        const session = await store.lockSession(sessionId);
        const row = await store.getContinuation(sessionId);
        if (session === undefined || row?.state !== "asked" || row.requestId !== requestId) {
          throw new SosError("NOT_FOUND", "No such question is open.");
        }
        const now = clock.now();
        await store.putContinuation({
          ...row,
          state: step(row.state, "yes"),
          since: now,
          requestId: null,
          deadline: null,
        });
        await audit.record(actor, "session.continue_confirmed", sessionId, { requestId });
        return session;
      }),
    );
    events.emit("sessionChanged", session);
  }

  /** The interval has passed (decided again on the locked rows): the question goes to the agent. */
  #ask(sessionId: string): Promise<boolean> {
    const { store, clock, audit, events } = this.#d;
    return this.#d.desk.serialized(sessionId, async () => {
      const asked = await store.transaction(async () => {
        const session = await store.lockSession(sessionId);
        const row = await store.getContinuation(sessionId);
        if (session === undefined || !isLive(session.status) || row === undefined) return undefined;
        const channel = await store.getChannel(session.channelId);
        const interval = (channel?.reconfirmMinutes ?? 0) * MINUTE;
        const now = clock.now();
        if (!isCounting(row.state) || interval === 0 || row.since + interval > now) return undefined;
        const next: ContinuationRow = {
          ...row,
          state: step(row.state, "due"),
          requestId: newId(),
          deadline: now + CONTINUE_ANSWER_MS,
        };
        await store.putContinuation(next);
        await audit.record({ kind: "system" }, "session.continue_asked", sessionId, {
          requestId: next.requestId,
          minutes: Math.floor((now - row.since) / MINUTE),
        });
        return { session, question: question(next, now) };
      });
      if (asked === undefined) return false;
      events.emit("continueRequested", sessionId, asked.question);
      events.emit("sessionChanged", asked.session);
      return true;
    });
  }

  /**
   * The end user said no, or did not answer by the deadline: the session closes (link and PIN
   * die, pending consent requests are withdrawn), the agent is told why, every view closes.
   */
  #end(
    sessionId: string,
    actor: Actor,
    how: "no" | "timeout",
    requestId: string | undefined,
  ): Promise<boolean> {
    const { store, clock, audit, events, presence } = this.#d;
    return this.#d.desk.serialized(sessionId, async () => {
      const ended = await store.transaction(async () => {
        const session = await store.lockSession(sessionId);
        const row = await store.getContinuation(sessionId);
        const now = clock.now();
        const open =
          session !== undefined &&
          isLive(session.status) &&
          row?.state === "asked" &&
          (requestId === undefined ? (row.deadline ?? now) <= now : row.requestId === requestId);
        if (!open) {
          if (how === "no") throw new SosError("NOT_FOUND", "No such question is open.");
          return undefined;
        }
        await store.putContinuation({
          ...row,
          state: step(row.state, how),
          since: now,
          requestId: null,
          deadline: null,
        });
        const next: SessionRow = {
          ...transition(session, "lapsed", presence.isConnected(sessionId)),
          pin: null,
          resumeSecretHash: null,
          lastActivityAt: now,
        };
        await store.updateSession(next);
        const pending = (await store.getPermissions(sessionId)).filter((p) => p.state === "requested");
        const withdrawn = await resetPermissions(store, now, pending);
        await audit.record(
          actor,
          how === "no" ? "session.continue_declined" : "session.continue_unanswered",
          sessionId,
          { requestId: row.requestId, status: next.status },
        );
        return { next, withdrawn };
      });
      if (ended === undefined) return false;
      for (const { requestId: withdrawnId } of ended.withdrawn)
        events.emit("consentCancelled", sessionId, withdrawnId);
      const reason: SessionEndReason = how === "no" ? "declined" : "unconfirmed";
      events.emit("sessionEnded", sessionId, reason);
      events.emit("sessionChanged", ended.next);
      return true;
    });
  }
}

function step(from: ContinuationRow["state"], event: ContinuationEvent): ContinuationRow["state"] {
  const to = nextContinuation(from, event);
  if (to === undefined) {
    throw new SosError("INVALID_TRANSITION", `The session's clock cannot go from ${from} by ${event}.`);
  }
  return to;
}

function question(row: ContinuationRow, now: number): ContinueQuestion {
  return {
    requestId: row.requestId ?? "",
    minutes: Math.max(0, Math.floor((now - row.since) / MINUTE)),
    seconds: Math.max(0, Math.ceil(((row.deadline ?? now) - now) / 1000)),
  };
}
