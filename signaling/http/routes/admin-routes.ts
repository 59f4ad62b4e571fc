import { z } from "zod";
import {
  auditListSchema,
  auditQuerySchema,
  buildListSchema,
  channelListSchema,
  createChannelRequestSchema,
  createTechnicianRequestSchema,
  idParamsSchema,
  organizationResponseSchema,
  technicianListSchema,
  updateChannelRequestSchema,
  updateOrganizationRequestSchema,
  updateTechnicianRequestSchema,
} from "../../../shared/api.ts";
import { channelSchema, technicianSchema } from "../../../shared/model.ts";
import { type AuditLog, auditCsv, auditView } from "../../domain/audit.ts";
import type { Channels } from "../../domain/channels.ts";
import { requireAdmin } from "../../domain/policy.ts";
import type { Technicians } from "../../domain/technicians.ts";
import { channelView, technicianView } from "../../domain/views.ts";
import { listBuildsWithDigests } from "../../downloads/build-catalog.ts";
import { authenticated, authOf } from "../authenticate.ts";
import type { App } from "../types.ts";

export type AdminRoutesDeps = {
  technicians: Technicians;
  channels: Channels;
  audit: AuditLog;
  publicOrigin: () => string;
  downloadsDir: string;
};

/** Technicians, channels, the organization and the audit log: each route one domain call. */
export function adminRoutes(app: App, deps: AdminRoutesDeps): void {
  const { technicians, channels, audit } = deps;
  const auth = authenticated(technicians, deps.publicOrigin);

  app.get(
    "/api/organization",
    { schema: { tags: ["admin"], response: { 200: organizationResponseSchema } }, preHandler: auth },
    async () => ({ organization: await technicians.organization() }),
  );

  app.patch(
    "/api/organization",
    {
      schema: {
        tags: ["admin"],
        body: updateOrganizationRequestSchema,
        response: { 200: organizationResponseSchema },
      },
      preHandler: auth,
    },
    async (request) => ({
      organization: await technicians.renameOrganization(authOf(request).account, request.body.name),
    }),
  );

  app.get(
    "/api/technicians",
    {
      schema: {
        summary: "All technicians (for assign and invite)",
        tags: ["admin"],
        response: { 200: technicianListSchema },
      },
      preHandler: auth,
    },
    async (request) => ({
      technicians: (await technicians.list(authOf(request).account)).map(technicianView),
    }),
  );

  app.post(
    "/api/technicians",
    {
      schema: {
        summary: "Create a technician (admin)",
        tags: ["admin"],
        body: createTechnicianRequestSchema,
        response: { 200: z.object({ technician: technicianSchema }) },
      },
      preHandler: auth,
    },
    async (request) => ({
      technician: technicianView(await technicians.create(authOf(request).account, request.body)),
    }),
  );

  app.patch(
    "/api/technicians/:id",
    {
      schema: {
        summary: "Rename, set password or permissions, disable (admin)",
        tags: ["admin"],
        params: idParamsSchema,
        body: updateTechnicianRequestSchema,
        response: { 200: z.object({ technician: technicianSchema }) },
      },
      preHandler: auth,
    },
    async (request) => {
      const account = await technicians.update(authOf(request).account, request.params.id, request.body);
      return { technician: technicianView(account) };
    },
  );

  app.get(
    "/api/channels",
    {
      schema: {
        summary: "Home, my Private channel, and the team channels I may see",
        tags: ["channels"],
        response: { 200: channelListSchema },
      },
      preHandler: auth,
    },
    async (request) => ({
      channels: (await channels.visibleTo(authOf(request).account)).map(({ row, access }) =>
        channelView(row, access),
      ),
    }),
  );

  app.post(
    "/api/channels",
    {
      schema: {
        summary: "Create a team channel (admin)",
        tags: ["channels"],
        body: createChannelRequestSchema,
        response: { 200: z.object({ channel: channelSchema }) },
      },
      preHandler: auth,
    },
    async (request) => {
      const { row, access } = await channels.create(authOf(request).account, request.body);
      return { channel: channelView(row, access) };
    },
  );

  app.patch(
    "/api/channels/:id",
    {
      schema: {
        summary: "Rename, set session expiry or access list (admin)",
        tags: ["channels"],
        params: idParamsSchema,
        body: updateChannelRequestSchema,
        response: { 200: z.object({ channel: channelSchema }) },
      },
      preHandler: auth,
    },
    async (request) => {
      const { row, access } = await channels.update(authOf(request).account, request.params.id, request.body);
      return { channel: channelView(row, access) };
    },
  );

  app.get(
    "/api/builds",
    {
      schema: {
        summary: "The branded SOS builds in the downloads folder (admin)",
        tags: ["admin"],
        response: { 200: buildListSchema },
      },
      preHandler: auth,
    },
    async (request) => {
      requireAdmin(authOf(request).account);
      return {
        downloadsDir: deps.downloadsDir,
        builds: (await listBuildsWithDigests(deps.downloadsDir)).map((b) => ({
          target: b.target,
          file: b.file,
          size: b.size,
          modifiedAt: new Date(b.modifiedAt).toISOString(),
          sha256: b.sha256,
        })),
      };
    },
  );

  app.get(
    "/api/audit",
    {
      schema: {
        summary: "The audit log, newest first (admin); format=csv for a CSV export",
        tags: ["admin"],
        querystring: auditQuerySchema,
        response: { 200: z.union([auditListSchema, z.string()]) },
      },
      preHandler: auth,
    },
    async (request, reply) => {
      const { format, ...filter } = request.query;
      const rows = await audit.list(authOf(request).account, filter);
      if (format === "csv") {
        reply.header("content-type", "text/csv; charset=utf-8");
        reply.header("content-disposition", 'attachment; filename="sos-audit.csv"');
        return auditCsv(rows);
      }
      return { entries: rows.map(auditView) };
    },
  );
}
