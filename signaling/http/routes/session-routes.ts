import type { z } from "zod";
import {
  assignRequestSchema,
  chatHistorySchema,
  createSessionRequestSchema,
  createSessionResponseSchema,
  idParamsSchema,
  invitationQuerySchema,
  inviteRequestSchema,
  okSchema,
  permissionRequestSchema,
  sessionListQuerySchema,
  sessionListSchema,
  sessionResponseSchema,
  systemInfoResponseSchema,
  transferRequestSchema,
} from "../../../shared/api.ts";
import { invitationSchema } from "../../../shared/model.ts";
import { iso } from "../../clock.ts";
import type { Chat } from "../../domain/chat.ts";
import type { Desk } from "../../domain/desk/desk.ts";
import type { SystemInformation } from "../../domain/system-info.ts";
import type { Technicians } from "../../domain/technicians.ts";
import type { Hub } from "../../realtime/hub.ts";
import type { SessionRow } from "../../store/rows.ts";
import { authenticated, authOf } from "../authenticate.ts";
import type { App } from "../types.ts";

export type SessionRoutesDeps = {
  desk: Desk;
  chat: Chat;
  systemInfo: SystemInformation;
  hub: Hub;
  technicians: Technicians;
  publicOrigin: () => string;
};

/** The Service Desk's session actions, one route each. */
export function sessionRoutes(app: App, deps: SessionRoutesDeps): void {
  const { desk, hub } = deps;
  const auth = authenticated(deps.technicians, deps.publicOrigin);
  const one = async (session: Promise<SessionRow>) => ({ session: await hub.view(await session) });
  /** The options of a session action (`/api/sessions/:id/...`, answering the session). */
  const action = (summary: string) => ({
    schema: { summary, tags: ["sessions"], params: idParamsSchema, response: { 200: sessionResponseSchema } },
    preHandler: auth,
  });
  /** The same, for an action that takes a body. */
  const actionWithBody = <B extends z.ZodType>(summary: string, body: B) => {
    const options = action(summary);
    return { ...options, schema: { ...options.schema, body } };
  };

  app.get(
    "/api/sessions",
    {
      schema: {
        summary: "Sessions of a channel (home = assigned to me or invited), or all I may see",
        tags: ["sessions"],
        querystring: sessionListQuerySchema,
        response: { 200: sessionListSchema },
      },
      preHandler: auth,
    },
    async (request) => ({
      sessions: await hub.views(await desk.list(authOf(request).account, request.query.channelId)),
    }),
  );

  app.post(
    "/api/sessions",
    {
      schema: {
        summary: "New session: Waiting, with a link and a PIN for the end user",
        tags: ["sessions"],
        body: createSessionRequestSchema,
        response: { 200: createSessionResponseSchema },
      },
      preHandler: auth,
    },
    async (request) => {
      const session = await desk.lifecycle.create(authOf(request).account, request.body);
      return {
        session: await hub.view(session),
        invitation: { link: desk.invitations.linkOf(session), pin: session.pin ?? "" },
      };
    },
  );

  app.get("/api/sessions/:id", action("One session"), async (request) =>
    one(desk.get(authOf(request).account, request.params.id)),
  );

  app.get(
    "/api/sessions/:id/chat",
    {
      schema: {
        summary: "The session's chat, oldest line first (new lines come as chat.line on the console socket)",
        tags: ["sessions"],
        params: idParamsSchema,
        response: { 200: chatHistorySchema },
      },
      preHandler: auth,
    },
    async (request) => ({ lines: await deps.chat.history(authOf(request).account, request.params.id) }),
  );

  app.get(
    "/api/sessions/:id/system-info",
    {
      schema: {
        summary: "The end user's computer's facts as last sent (ask over the console socket: system.request)",
        tags: ["sessions"],
        params: idParamsSchema,
        response: { 200: systemInfoResponseSchema },
      },
      preHandler: auth,
    },
    async (request) => {
      const { info, at } = await deps.systemInfo.last(authOf(request).account, request.params.id);
      return { info, at: at === null ? null : iso(at) };
    },
  );

  app.get(
    "/api/sessions/:id/invitation",
    {
      schema: {
        summary: "Copy link (for=link) / Show PIN (for=pin, the default); each is audited as such",
        tags: ["sessions"],
        params: idParamsSchema,
        querystring: invitationQuerySchema,
        response: { 200: invitationSchema },
      },
      preHandler: auth,
    },
    async (request) =>
      desk.invitations.invitation(authOf(request).account, request.params.id, request.query.for),
  );

  app.post(
    "/api/sessions/:id/permission",
    actionWithBody(
      "Start remote session: ask the end user for view only or for control",
      permissionRequestSchema,
    ),
    async (request) =>
      one(
        desk.permissions.request(
          authOf(request).account,
          request.params.id,
          request.body?.access ?? "control",
        ),
      ),
  );

  app.post(
    "/api/sessions/:id/assign",
    actionWithBody("Assign technician (yourself, or another with the share permission)", assignRequestSchema),
    async (request) =>
      one(desk.lifecycle.assign(authOf(request).account, request.params.id, request.body.technicianId)),
  );

  app.post(
    "/api/sessions/:id/transfer",
    actionWithBody("Transfer to a technician or a channel", transferRequestSchema),
    async (request) => one(desk.lifecycle.transfer(authOf(request).account, request.params.id, request.body)),
  );

  app.post(
    "/api/sessions/:id/invite",
    actionWithBody("Invite technicians (three in all)", inviteRequestSchema),
    async (request) =>
      one(desk.invitations.invite(authOf(request).account, request.params.id, request.body.technicianIds)),
  );

  app.post("/api/sessions/:id/release", action("Release to the queue"), async (request) =>
    one(desk.lifecycle.release(authOf(request).account, request.params.id)),
  );

  app.post("/api/sessions/:id/close", action("Close: link and PIN die"), async (request) =>
    one(desk.lifecycle.close(authOf(request).account, request.params.id)),
  );

  app.delete(
    "/api/sessions/:id",
    {
      schema: {
        summary: "Delete from the channel",
        tags: ["sessions"],
        params: idParamsSchema,
        response: { 200: okSchema },
      },
      preHandler: auth,
    },
    async (request) => {
      await desk.lifecycle.remove(authOf(request).account, request.params.id);
      return { ok: true as const };
    },
  );
}
