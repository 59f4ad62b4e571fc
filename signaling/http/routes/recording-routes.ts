import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import {
  idParamsSchema,
  recordingChunkQuerySchema,
  recordingListSchema,
  recordingResponseSchema,
  recordingVideoQuerySchema,
  stopRecordingRequestSchema,
} from "../../../shared/api.ts";
import { SosError } from "../../../shared/errors.ts";
import { MAX_RECORDING_CHUNK_BYTES } from "../../../shared/limits.ts";
import { type Recordings, recordingView } from "../../domain/recordings.ts";
import type { Technicians } from "../../domain/technicians.ts";
import type { RecordingFiles } from "../../recordings/recording-files.ts";
import { authenticated, authOf } from "../authenticate.ts";
import type { App } from "../types.ts";

export type RecordingRoutesDeps = {
  recordings: Recordings;
  files: RecordingFiles;
  technicians: Technicians;
  publicOrigin: () => string;
};

const CHUNK_TYPE = "application/octet-stream";

/**
 * A `Range: bytes=a-b` header as one range within `size` bytes. Undefined (the whole file, 200) for
 * no header, several ranges, another unit, or a range outside the file: a server may ignore a
 * Range header (RFC 9110, 14.2), and a player asks again from what it got.
 */
export function byteRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | undefined {
  if (header === undefined) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (match === null) return undefined;
  const [, from = "", to = ""] = match;
  if (from === "" && to === "") return undefined;
  const start = from === "" ? Math.max(0, size - Number(to)) : Number(from);
  const end = from === "" || to === "" ? size - 1 : Math.min(Number(to), size - 1);
  if (start > end || start >= size) return undefined;
  return { start, end };
}

/**
 * Session recordings: start, upload chunks, stop (the recording technician's console); list,
 * play (HTTP Range) and download (admins and technicians with "view recordings", audited).
 */
export function recordingRoutes(app: App, deps: RecordingRoutesDeps): void {
  const { recordings, files } = deps;
  const auth = authenticated(deps.technicians, deps.publicOrigin);

  app.post(
    "/api/sessions/:id/recordings",
    {
      schema: {
        summary:
          "Start recording: the end user's agent is told first and confirms (confirmedAt); then upload",
        tags: ["recordings"],
        params: idParamsSchema,
        response: { 200: recordingResponseSchema },
      },
      preHandler: auth,
    },
    async (request) => ({
      recording: recordingView(await recordings.start(authOf(request).account, request.params.id)),
    }),
  );

  app.get(
    "/api/sessions/:id/recordings",
    {
      schema: {
        summary: "The session's recordings, newest first (view recordings permission)",
        tags: ["recordings"],
        params: idParamsSchema,
        response: { 200: recordingListSchema },
      },
      preHandler: auth,
    },
    async (request) => ({
      recordings: (await recordings.list(authOf(request).account, request.params.id)).map(recordingView),
    }),
  );

  app.get(
    "/api/recordings/:id",
    {
      schema: {
        summary: "One recording's facts (its own technician, or the view recordings permission)",
        tags: ["recordings"],
        params: idParamsSchema,
        response: { 200: recordingResponseSchema },
      },
      preHandler: auth,
    },
    async (request) => ({
      recording: recordingView(await recordings.get(authOf(request).account, request.params.id)),
    }),
  );

  app.post(
    "/api/recordings/:id/stop",
    {
      schema: {
        summary: "Stop recording (the agent is told)",
        tags: ["recordings"],
        params: idParamsSchema,
        body: stopRecordingRequestSchema,
        response: { 200: recordingResponseSchema },
      },
      preHandler: auth,
    },
    async (request) => ({
      recording: recordingView(
        await recordings.stop(authOf(request).account, request.params.id, request.body?.durationMs ?? null),
      ),
    }),
  );

  // The chunk route takes raw bytes: its own scope, so no other route accepts octet streams.
  void app.register(async (plain) => {
    const scope = plain.withTypeProvider<ZodTypeProvider>();
    scope.addContentTypeParser(
      CHUNK_TYPE,
      { parseAs: "buffer", bodyLimit: MAX_RECORDING_CHUNK_BYTES },
      (_r, body, done) => {
        done(null, body);
      },
    );
    scope.post(
      "/api/recordings/:id/chunks",
      {
        bodyLimit: MAX_RECORDING_CHUNK_BYTES,
        schema: {
          summary: `Append the next bytes (${CHUNK_TYPE}, 1 to ${MAX_RECORDING_CHUNK_BYTES} bytes) at offset = the recording's bytes`,
          tags: ["recordings"],
          params: idParamsSchema,
          querystring: recordingChunkQuerySchema,
          response: { 200: recordingResponseSchema },
        },
        preHandler: auth,
      },
      async (request) => {
        const type = (request.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
        const body: unknown = request.body;
        if (type !== CHUNK_TYPE || !(body instanceof Buffer) || body.length === 0) {
          throw SosError.badRequest(`Send the chunk's bytes as ${CHUNK_TYPE}, at least one byte.`);
        }
        const row = await recordings.append(
          authOf(request).account,
          request.params.id,
          request.query.offset,
          body,
        );
        return { recording: recordingView(row) };
      },
    );
  });

  app.get(
    "/api/recordings/:id/video",
    {
      schema: {
        summary: "The recording (video/webm): plays in a <video> (Range requests), or download=1 as a file",
        tags: ["recordings"],
        params: idParamsSchema,
        querystring: recordingVideoQuerySchema,
        response: {
          200: z.unknown().describe("video/webm"),
          206: z.unknown().describe("video/webm, the range asked for"),
        },
      },
      preHandler: auth,
    },
    async (request, reply) => {
      const download = request.query.download === "1";
      const rangeHeader = request.headers.range;
      const id = request.params.id;
      // A watch starts with the player's first request (no range, or from byte 0); its further
      // range requests are the same watch.
      const first = download || rangeHeader === undefined || /^bytes=0-/.test(rangeHeader.trim());
      const row = await recordings.open(
        authOf(request).account,
        id,
        download ? "downloaded" : "watched",
        first,
      );
      const size = Math.min(row.bytes, await files.size(id));
      reply.header("accept-ranges", "bytes");
      reply.header("cache-control", "private, no-store");
      reply.type("video/webm");
      if (download) {
        reply.header("content-disposition", `attachment; filename="recording-${row.sessionId}-${id}.webm"`);
      }
      const range = download ? undefined : byteRange(rangeHeader, size);
      if (size === 0) return reply.header("content-length", "0").send();
      const { start, end } = range ?? { start: 0, end: size - 1 };
      reply.header("content-length", String(end - start + 1));
      if (range !== undefined) reply.code(206).header("content-range", `bytes ${start}-${end}/${size}`);
      return reply.send(files.read(id, start, end));
    },
  );
}
