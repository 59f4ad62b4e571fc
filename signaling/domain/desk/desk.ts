import { SosError } from "../../../shared/errors.ts";
import { HOME_CHANNEL_ID } from "../../../shared/model.ts";
import type { SessionRow, TechnicianRow } from "../../store/rows.ts";
import { DeskContext, type DeskDeps } from "./context.ts";
import { Invitations } from "./invitations.ts";
import { SessionLifecycle } from "./lifecycle.ts";
import { RemotePermissions } from "./permissions.ts";

export type { DeskDeps } from "./context.ts";

/**
 * The Service Desk: the technicians' actions on support sessions, one module per family. Every
 * action is declared once (who may, what changes, what is audited, who is told; see
 * SessionAction) and applied by one runner; a refused action throws SosError and changes nothing.
 */
export class Desk {
  readonly lifecycle: SessionLifecycle;
  readonly invitations: Invitations;
  readonly permissions: RemotePermissions;
  readonly #c: DeskContext;

  constructor(deps: DeskDeps) {
    this.#c = new DeskContext(deps);
    this.lifecycle = new SessionLifecycle(this.#c);
    this.invitations = new Invitations(this.#c);
    this.permissions = new RemotePermissions(this.#c);
  }

  /** The sessions of a channel (Home: assigned to me or invited), or all the actor may see. */
  async list(actor: TechnicianRow, channelId: string | undefined): Promise<SessionRow[]> {
    this.#c.requireDesk(actor);
    const { store, policy } = this.#c.d;
    if (channelId === undefined) {
      const [all, visible] = await Promise.all([store.listSessions(), policy.sessionsVisibleTo(actor)]);
      return all.filter(visible);
    }
    if (channelId === HOME_CHANNEL_ID) return store.listSessionsOf(actor.id);
    const channel = await store.getChannel(channelId);
    if (channel === undefined || !(await policy.canSeeChannel(actor, channel))) {
      throw new SosError("CHANNEL_NOT_FOUND", "No such channel.");
    }
    return store.listSessionsInChannel(channel.id);
  }

  get(actor: TechnicianRow, id: string): Promise<SessionRow> {
    this.#c.requireDesk(actor);
    return this.#c.visible(actor, id);
  }

  /** Runs work on a session after the session's earlier actions (DeskContext.serialized). */
  serialized<T>(sessionId: string, work: () => Promise<T>): Promise<T> {
    return this.#c.serialized(sessionId, work);
  }
}
