import { ChatRate } from "../../shared/chat-rate.ts";
import { SosError } from "../../shared/errors.ts";
import { MAX_CHAT_LINES_PER_SESSION } from "../../shared/limits.ts";
import type { ChatLine } from "../../shared/model.ts";
import { isLive } from "../../shared/status.ts";
import type { Clock } from "../clock.ts";
import type { ChatLineRow, NewChatLine, SessionRow, TechnicianRow } from "../store/rows.ts";
import type { Store } from "../store/store.ts";
import type { Actor, AuditLog } from "./audit.ts";
import type { Desk } from "./desk/desk.ts";
import type { AgentPresence, DomainEvents } from "./events.ts";
import type { Policy } from "./policy.ts";
import { chatLineView } from "./views.ts";

export type ChatDeps = {
  store: Store;
  clock: Clock;
  audit: AuditLog;
  events: DomainEvents;
  policy: Policy;
  presence: AgentPresence;
  desk: Desk;
};

/**
 * The chat of a support session, between the end user (in the agent's terminal) and the
 * technicians. Who may: the assignee and invited technicians write (as for a remote session);
 * everyone who may see the session reads (as its details). Each line is stored with the session
 * and audited as `session.chat_line` (who, when, the line's id: never its text). Who joins or
 * leaves the session (assigned, invited, released, moved) is a line of its own. Each sender (a
 * technician on a session, the session's end user) is held to a rate (ChatRate): a flood of lines
 * is refused, not printed on the other side.
 */
export class Chat {
  readonly #d: ChatDeps;
  readonly #rate: ChatRate;

  constructor(deps: ChatDeps) {
    this.#d = deps;
    this.#rate = new ChatRate(deps.clock);
    // Queued behind the change that emitted it (Desk.serialized), never nested in it.
    deps.events.on("sessionChanged", (session) => this.#membershipOf(session.id));
    // A disabled account leaves the chats of the sessions it is on (it can no longer write), and
    // joins them again once enabled: their sessions do not change, the account does.
    const accountChanged = (technicianId: string) => {
      void deps.store.listSessionsOf(technicianId).then(
        (sessions) => {
          for (const session of sessions) if (isLive(session.status)) this.#membershipOf(session.id);
        },
        () => {
          // The store failed: the next change of each session writes the lines then.
        },
      );
    };
    deps.events.on("technicianDisabled", accountChanged);
    deps.events.on("technicianUpdated", (account) => {
      if (!account.disabled) accountChanged(account.id);
    });
  }

  #membershipOf(sessionId: string): void {
    void this.#d.desk
      .serialized(sessionId, () => this.#membership(sessionId))
      .catch(() => {
        // The store failed: the next change of the session writes the joined/left lines then.
      });
  }

  /**
   * A technician on the session says `text` to the end user and the other technicians. `account`
   * reads the sender's account (a store read): only once the rate has a line left for them, so a
   * flood past the rate costs no store read at all.
   */
  async say(
    technicianId: string,
    account: () => Promise<TechnicianRow>,
    sessionId: string,
    text: string,
  ): Promise<void> {
    const { desk, policy, presence } = this.#d;
    const sender = `${sessionId}:technician:${technicianId}`;
    this.#rate.check(sender);
    const actor = await account();
    await desk.get(actor, sessionId);
    await this.#append(
      sessionId,
      { kind: "technician", account: actor },
      { kind: "technician", technicianId: actor.id, technicianName: actor.name, text },
      async (session) => {
        if (!(await policy.isOnSession(actor, session))) {
          throw new SosError("NOT_ON_SESSION", "Only the assigned or an invited technician can chat.");
        }
        if (!presence.isConnected(sessionId)) {
          throw new SosError("AGENT_OFFLINE", "The end user's app is not connected.");
        }
        // After who may say it: a refusal for who one is costs nothing of the rate (nor is one
        // remembered for a session the sender may not see).
        this.#rate.take(sender);
      },
    );
  }

  /** The end user says `text` in the agent's terminal. */
  async fromEndUser(sessionId: string, text: string, address: string): Promise<void> {
    this.#rate.take(`${sessionId}:enduser`);
    return this.#append(
      sessionId,
      { kind: "agent", sessionId, address },
      { kind: "enduser", technicianId: null, technicianName: null, text },
      () => undefined,
    );
  }

  /** A session's chat, oldest first, for a technician who may see the session. */
  async history(actor: TechnicianRow, sessionId: string): Promise<ChatLine[]> {
    await this.#d.desk.get(actor, sessionId);
    return (await this.#d.store.listChatLines(sessionId)).map(chatLineView);
  }

  #append(
    sessionId: string,
    actor: Actor,
    line: Omit<NewChatLine, "sessionId" | "at">,
    may: (session: SessionRow) => void | Promise<void>,
  ): Promise<void> {
    const { store, clock, audit, events, desk } = this.#d;
    return desk.serialized(sessionId, async () => {
      const row = await store.transaction(async () => {
        const session = await store.lockSession(sessionId);
        if (session === undefined) throw SosError.sessionNotFound();
        live(session);
        await may(session);
        if ((await store.countChatLines(sessionId)) >= MAX_CHAT_LINES_PER_SESSION) {
          throw new SosError("CHAT_FULL", `This session's chat holds ${MAX_CHAT_LINES_PER_SESSION} lines.`);
        }
        const row = await store.appendChatLine({ ...line, sessionId, at: clock.now() });
        await audit.record(actor, "session.chat_line", sessionId, { lineId: row.id, kind: row.kind });
        return row;
      });
      events.emit("chatLine", row);
    });
  }

  /**
   * The technicians on a live session compared with who joined the chat and has not left: a line
   * for each difference (not past the session's limit). Looked at first without a transaction: most
   * changes of a session (a permission, a view) change nobody's place on it.
   */
  async #membership(sessionId: string): Promise<void> {
    const { store, clock, events } = this.#d;
    if ((await this.#changes(await store.getSession(sessionId))).length === 0) return;
    const rows = await store.transaction(async () => {
      const session = await store.lockSession(sessionId);
      const lines = await store.listChatLines(sessionId);
      const changes = await this.#changes(session, lines);
      const room = Math.max(0, MAX_CHAT_LINES_PER_SESSION - lines.length);
      const stored = [];
      for (const change of changes.slice(0, room)) {
        stored.push(await store.appendChatLine({ ...change, sessionId, at: clock.now(), text: "" }));
      }
      return stored;
    });
    for (const row of rows) events.emit("chatLine", row);
  }

  /**
   * Who joined or left the session since the chat last said so. A technician whose account is
   * disabled is not on the chat (they may stay assignee or invited, but can no longer write).
   */
  async #changes(
    session: SessionRow | undefined,
    known?: readonly ChatLineRow[],
  ): Promise<Array<Omit<NewChatLine, "sessionId" | "at" | "text">>> {
    const { store } = this.#d;
    if (session === undefined || !isLive(session.status)) return [];
    const people = await store.getInvites(session.id);
    if (session.assigneeId !== null) people.push(session.assigneeId);
    const accounts = new Map<string, TechnicianRow | undefined>();
    for (const id of people) accounts.set(id, await store.getTechnician(id));
    const onSession = new Set(people.filter((id) => accounts.get(id)?.disabled !== true));
    const joined = new Map<string, string>();
    for (const line of known ?? (await store.listChatLines(session.id))) {
      if (line.technicianId === null) continue;
      if (line.kind === "joined") joined.set(line.technicianId, line.technicianName ?? "");
      if (line.kind === "left") joined.delete(line.technicianId);
    }
    const changes: Array<Omit<NewChatLine, "sessionId" | "at" | "text">> = [];
    for (const [id, name] of joined) {
      if (!onSession.has(id)) changes.push({ kind: "left", technicianId: id, technicianName: name });
    }
    for (const id of onSession) {
      if (joined.has(id)) continue;
      changes.push({ kind: "joined", technicianId: id, technicianName: accounts.get(id)?.name ?? "" });
    }
    return changes;
  }
}

function live(session: SessionRow): void {
  if (session.status === "Closed") throw new SosError("SESSION_CLOSED", "The session is closed.");
  if (session.status === "Expired") throw new SosError("SESSION_EXPIRED", "The session has expired.");
}
