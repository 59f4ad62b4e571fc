import type { ServerResponse } from "node:http";
import { buildJobResponseSchema, startBuildRequestSchema } from "../../../shared/api.ts";
import type { AuditAction } from "../../../shared/audit-actions.ts";
import type { Actor, AuditLog } from "../../domain/audit.ts";
import { requireAdmin } from "../../domain/policy.ts";
import type { Technicians } from "../../domain/technicians.ts";
import { type BuildJob, BuildRunner } from "../../downloads/build-runner.ts";
import { authenticated, authOf, readAuth } from "../authenticate.ts";
import type { App } from "../types.ts";

export type BuildRoutesDeps = {
  technicians: Technicians;
  audit: AuditLog;
  publicUrl: () => string;
  publicOrigin: () => string;
  downloadsDir: string;
  buildCacheDir: string;
  buildCaFile: string | undefined;
  /** Called when a build has put new files into the downloads folder (their compressed copies). */
  builtFiles: () => void;
};

/** A comment line every so often keeps proxies from closing a quiet event stream. */
const KEEP_ALIVE_MS = 15_000;

const sseEvent = (job: BuildJob) => `event: job\ndata: ${JSON.stringify(job)}\n\n`;

/**
 * SOS builds from the console (admin): start one, follow its progress as Server-Sent Events,
 * cancel it. The files land in the downloads folder, where `/api/builds` and the landing page
 * find them.
 */
export function buildRoutes(app: App, deps: BuildRoutesDeps): void {
  const { technicians, audit } = deps;
  /**
   * Audits what the request already did (a build started or cancelled cannot be taken back): in the
   * trail before the answer, so the admin who reads it next finds it; while the store fails, written
   * later (retried) instead of refusing a request whose effect stands.
   */
  const recordDone = async (actor: Actor, action: AuditAction, detail: Record<string, unknown>) => {
    try {
      await audit.record(actor, action, null, detail);
    } catch {
      audit.observed(actor, action, null, detail);
    }
  };
  const auth = authenticated(technicians, deps.publicOrigin);
  const runner = new BuildRunner({
    downloadsDir: deps.downloadsDir,
    cacheDir: deps.buildCacheDir,
    caFile: deps.buildCaFile,
    publicUrl: deps.publicUrl,
    now: Date.now,
    ended: (job) => {
      if (job.built.length > 0) deps.builtFiles();
      // Something that already happened: written later while the store fails, never thrown.
      return audit.observed({ kind: "system" }, `build.${job.state}`, null, {
        id: job.id,
        brand: job.brand,
        built: job.built.map((b) => ({ file: b.file, size: b.size, sha256: b.sha256 })),
        failed: job.failed,
      });
    },
  });
  const streams = new Set<ServerResponse>();
  app.addHook("preClose", async () => {
    for (const stream of streams) stream.end();
    await runner.close();
  });

  app.get(
    "/api/builds/job",
    {
      schema: {
        summary: "The running SOS build, or the last one since the gateway started (admin)",
        tags: ["admin"],
        response: { 200: buildJobResponseSchema },
      },
      preHandler: auth,
    },
    async (request) => {
      requireAdmin(authOf(request).account);
      return { job: runner.current() };
    },
  );

  app.post(
    "/api/builds/job",
    {
      schema: {
        summary: "Start an SOS build with this gateway baked in (admin; one at a time, else BUILD_RUNNING)",
        tags: ["admin"],
        body: startBuildRequestSchema,
        response: { 200: buildJobResponseSchema },
      },
      preHandler: auth,
    },
    async (request) => {
      const { account } = authOf(request);
      requireAdmin(account);
      const job = runner.start(request.body);
      await recordDone({ kind: "technician", account }, "build.started", {
        id: job.id,
        brand: job.brand,
        targets: job.targets,
      });
      return { job };
    },
  );

  app.delete(
    "/api/builds/job",
    {
      schema: {
        summary: "Cancel the running SOS build (admin); nothing of it stays in the downloads folder",
        tags: ["admin"],
        response: { 200: buildJobResponseSchema },
      },
      preHandler: auth,
    },
    async (request) => {
      const { account } = authOf(request);
      requireAdmin(account);
      const job = await runner.cancel();
      await recordDone({ kind: "technician", account }, "build.cancel_requested", { id: job.id });
      return { job };
    },
  );

  app.get(
    "/api/builds/job/events",
    {
      schema: {
        summary:
          "Server-Sent Events: `job` with the whole build job (buildJobSchema) now and on every change (admin)",
        tags: ["admin"],
      },
      preHandler: auth,
    },
    async (request, reply) => {
      requireAdmin(authOf(request).account);
      reply.hijack();
      const stream = reply.raw;
      stream.writeHead(200, {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        "x-content-type-options": "nosniff",
        // nginx: pass each event on at once.
        "x-accel-buffering": "no",
      });
      const current = runner.current();
      stream.write(current === null ? ": no build yet\n\n" : sseEvent(current));
      // Events are checked one after another, so they reach the page in the order they happened.
      let sending = Promise.resolve();
      const unsubscribe = runner.subscribe((job) => {
        sending = sending.then(async () => {
          // Signed out, disabled or no longer an admin since the stream opened: it ends here. A
          // store that cannot say ends it too; the browser's EventSource reconnects and asks again.
          const now = await readAuth(request, technicians).catch(() => undefined);
          if (now === undefined || now.account.role !== "admin" || now.account.disabled) {
            stream.end();
            return;
          }
          stream.write(sseEvent(job));
        });
      });
      const keepAlive = setInterval(() => stream.write(": keep-alive\n\n"), KEEP_ALIVE_MS);
      streams.add(stream);
      stream.once("close", () => {
        clearInterval(keepAlive);
        unsubscribe();
        streams.delete(stream);
      });
    },
  );
}
