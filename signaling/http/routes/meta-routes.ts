import { z } from "zod";
import { agentMessageSchema, gatewayToAgentSchema } from "../../../shared/agent-protocol.ts";
import { consoleMessageSchema, gatewayToConsoleSchema } from "../../../shared/console-protocol.ts";
import { agentControlSchema, technicianControlSchema } from "../../../shared/control.ts";
import { ERROR_CODES } from "../../../shared/errors.ts";
import { fileMessageSchema } from "../../../shared/file-transfer.ts";
import { MAX_SOCKET_FRAME_BYTES, PROTOCOL_VERSION } from "../../../shared/limits.ts";
import { screenControlSchema } from "../../../shared/screen.ts";
import type { JobFailure } from "../../jobs.ts";
import type { StoreHealth } from "../../store/store.ts";
import type { App } from "../types.ts";

/** What /healthz reports: unhealthy (503) while the store fails writes or a timer job keeps failing. */
export type Health = { ok: boolean; store: StoreHealth; jobs: JobFailure[] };

/** The socket protocol as JSON Schema, generated from the shared zod schemas. */
export function protocolDocument() {
  const schema = (s: z.ZodType) => z.toJSONSchema(s, { unrepresentable: "any", io: "input" });
  return {
    version: PROTOCOL_VERSION,
    maxFrameBytes: MAX_SOCKET_FRAME_BYTES,
    errorCodes: ERROR_CODES,
    sockets: {
      "/ws/agent": {
        clientToGateway: schema(agentMessageSchema),
        gatewayToClient: schema(gatewayToAgentSchema),
      },
      "/ws/console": {
        clientToGateway: schema(consoleMessageSchema),
        gatewayToClient: schema(gatewayToConsoleSchema),
      },
    },
    dataChannels: {
      control: {
        technicianToAgent: schema(technicianControlSchema),
        agentToTechnician: schema(agentControlSchema),
      },
      // Both ways the same text messages; file data goes as binary messages (4-byte id, then data).
      files: { eitherWay: schema(fileMessageSchema) },
      // The agent sends binary records (docs/screen-copy-path.md, "Wire format, version 1").
      screen: { technicianToAgent: schema(screenControlSchema) },
    },
  };
}

export function metaRoutes(
  app: App,
  status: () => { agents: number; consoles: number },
  health: () => Promise<Health>,
): void {
  app.get("/healthz", { schema: { hide: true } }, async (_request, reply) => {
    const now = await health();
    return reply.code(now.ok ? 200 : 503).send({ ...now, ...status() });
  });
  app.get("/api/openapi.json", { schema: { hide: true } }, async () => app.swagger());
  const protocol = protocolDocument();
  app.get("/api/protocol.json", { schema: { hide: true } }, async () => protocol);
}
