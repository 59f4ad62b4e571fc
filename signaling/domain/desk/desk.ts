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
  list(actor: TechnicianRow, channelId: string | undefined): SessionRow[] {
    this.#c.requireDesk(actor);
    const { store, policy } = this.#c.d;
    if (channelId === undefined) return store.listSessions().filter((s) => policy.canSeeSession(actor, s));
    if (channelId === HOME_CHANNEL_ID) return store.listSessionsOf(actor.id);
    const channel = store.getChannel(channelId);
    if (channel === undefined || !policy.canSeeChannel(actor, channel)) {
      throw new SosError("CHANNEL_NOT_FOUND", "No such channel.");
    }
    return store.listSessionsInChannel(channel.id);
  }

  get(actor: TechnicianRow, id: string): SessionRow {
    this.#c.requireDesk(actor);
    return this.#c.visible(actor, id);
  }
}
