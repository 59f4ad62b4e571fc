import { SosError } from "../../../shared/errors.ts";
import type { AccessMode } from "../../../shared/status.ts";
import { newId } from "../../auth/tokens.ts";
import type { SessionRow, TechnicianRow } from "../../store/rows.ts";
import type { DeskContext } from "./context.ts";
import { permissionTransition } from "./session-machine.ts";

/** Start remote session: ask the end user's consent, then connect with what was granted. */
export class RemotePermissions {
  readonly #c: DeskContext;

  constructor(context: DeskContext) {
    this.#c = context;
  }

  /**
   * Start remote session, first click: ask the end user for permission, for view only or for
   * control. While the request waits, `access` holds what was asked (the most the answer grants).
   */
  request(actor: TechnicianRow, id: string, access: AccessMode = "control"): Promise<SessionRow> {
    const c = this.#c;
    const { store, clock } = c.d;
    const requestId = newId();
    return c.run(actor, id, async () => {
      const current = (await store.getPermission(id, actor.id)) ?? {
        sessionId: id,
        technicianId: actor.id,
        state: "none" as const,
        access: null,
        requestId: null,
        updatedAt: 0,
      };
      return {
        may: [
          c.onSession("Only the assigned or an invited technician can start a remote session."),
          this.#activeWithAgent("start a remote session"),
          () => {
            if (current.state === "requested") {
              throw new SosError("PERMISSION_PENDING", "The end user has not answered yet.");
            }
          },
        ],
        unchanged: current.state === "granted",
        change: async () => {
          await store.putPermission({
            ...current,
            state: permissionTransition(current, "request"),
            access,
            requestId,
            updatedAt: clock.now(),
          });
        },
        audit: { action: "session.permission_requested", detail: { access } },
        tell: (events) =>
          events.emit("consentRequested", id, {
            requestId,
            technician: { id: actor.id, name: actor.name },
            access,
          }),
      };
    });
  }

  /** Start remote session, second click: may this technician connect, and with what access? */
  async connectAccess(actor: TechnicianRow, id: string): Promise<AccessMode> {
    const c = this.#c;
    c.requireDesk(actor);
    const session = await c.visible(actor, id);
    await c.onSession("Only the assigned or an invited technician can connect.")(actor, session);
    this.#activeWithAgent("be connected to")(actor, session);
    const permission = await c.d.store.getPermission(id, actor.id);
    if (permission?.state !== "granted" || permission.access === null) {
      throw new SosError("PERMISSION_NOT_GRANTED", "The end user has not granted you access.");
    }
    return permission.access;
  }

  /**
   * A technician removed from the Service Desk (disabled, or the permission taken away): their
   * consent is reset on every session and their pending requests are withdrawn at the agents.
   */
  async forgetTechnician(technicianId: string): Promise<void> {
    const { store } = this.#c.d;
    const withdrawn = await store.transaction(async () =>
      this.#c.resetPermissions(await store.listPermissionsOf(technicianId)),
    );
    this.#c.tellWithdrawn(withdrawn);
    for (const { sessionId } of withdrawn) {
      const session = await store.getSession(sessionId);
      if (session !== undefined) this.#c.d.events.emit("sessionChanged", session);
    }
  }

  #activeWithAgent(what: string) {
    return (_actor: TechnicianRow, session: SessionRow) => {
      if (session.status !== "Active") {
        throw new SosError("INVALID_TRANSITION", `A ${session.status} session cannot ${what}.`);
      }
      if (!this.#c.d.presence.isConnected(session.id))
        throw new SosError("AGENT_OFFLINE", "The end user's app is not connected.");
    };
  }
}
