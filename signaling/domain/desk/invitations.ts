import { linkTokenSchema } from "../../../shared/agent-protocol.ts";
import { SosError } from "../../../shared/errors.ts";
import { MAX_INVITED_TECHNICIANS } from "../../../shared/limits.ts";
import type { Invitation } from "../../../shared/model.ts";
import { isLive } from "../../../shared/status.ts";
import type { SessionRow, TechnicianRow } from "../../store/rows.ts";
import type { DeskContext } from "./context.ts";

/** What the end user is given to join (link, PIN), and the technicians invited to help. */
export class Invitations {
  readonly #c: DeskContext;

  constructor(context: DeskContext) {
    this.#c = context;
  }

  /** Copy link (audited `session.link_copied`) or Show PIN (`session.pin_shown`). */
  async invitation(actor: TechnicianRow, id: string, what: "link" | "pin"): Promise<Invitation> {
    this.#c.requireDesk(actor);
    const session = await this.#c.visible(actor, id);
    if (!isLive(session.status) || session.pin === null) {
      throw new SosError(
        session.status === "Expired" ? "SESSION_EXPIRED" : "SESSION_CLOSED",
        "The session is over.",
      );
    }
    const action = what === "link" ? "session.link_copied" : "session.pin_shown";
    await this.#c.d.audit.record({ kind: "technician", account: actor }, action, id);
    return { link: this.linkOf(session), pin: session.pin };
  }

  linkOf(session: SessionRow): string {
    return `${this.#c.d.publicUrl()}/s/${session.linkToken}`;
  }

  /** The live session behind a link token, for the end user's landing page; undefined otherwise. */
  async byLink(token: string): Promise<SessionRow | undefined> {
    const parsed = linkTokenSchema.safeParse(token);
    const session = parsed.success ? await this.#c.d.store.getSessionByLinkToken(parsed.data) : undefined;
    return session !== undefined && isLive(session.status) && session.pin !== null ? session : undefined;
  }

  /**
   * Invite technicians: at most two more than the assignee. The invites are counted inside the
   * action's transaction with the session's row held, so invites at once cannot pass the limit.
   */
  invite(actor: TechnicianRow, id: string, technicianIds: readonly string[]): Promise<SessionRow> {
    const c = this.#c;
    const { store, clock } = c.d;
    return c.run(actor, id, async (session) => {
      const invited = await store.getInvites(id);
      let targets: TechnicianRow[] = [];
      return {
        may: [
          c.lead("Only the assigned technician can invite others."),
          c.live("take invitations"),
          async () => {
            targets = [];
            for (const technicianId of new Set(technicianIds)) targets.push(await c.assignable(technicianId));
            for (const target of targets) {
              if (target.id === session.assigneeId || invited.includes(target.id)) {
                throw new SosError("ALREADY_ON_SESSION", `${target.name} is already on this session.`);
              }
            }
            if (invited.length + targets.length > MAX_INVITED_TECHNICIANS) {
              throw new SosError(
                "INVITE_LIMIT",
                `At most ${MAX_INVITED_TECHNICIANS} technicians can be invited (three in all with the assignee).`,
              );
            }
          },
        ],
        change: async () => {
          for (const target of targets) await store.addInvite(id, target.id, clock.now());
        },
        audit: { action: "session.invited", detail: { technicianIds: targets.map((t) => t.id) } },
      };
    });
  }
}
