import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import fastifyCookie from "@fastify/cookie";
import fastifyRateLimit, { normalizeIP } from "@fastify/rate-limit";
import fastifyStatic from "@fastify/static";
import fastifySwagger from "@fastify/swagger";
import fastifyWebsocket, { type WebsocketPluginOptions } from "@fastify/websocket";
import Fastify, { type FastifyReply, type FastifyRequest, type FastifyServerFactory } from "fastify";
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from "fastify-type-provider-zod";
import type { Logger } from "pino";
import { SosError } from "../../shared/errors.ts";
import { MAX_SOCKET_FRAME_BYTES } from "../../shared/limits.ts";
import type { AuditLog } from "../domain/audit.ts";
import type { Channels } from "../domain/channels.ts";
import type { Chat } from "../domain/chat.ts";
import type { Desk } from "../domain/desk/desk.ts";
import type { Recordings } from "../domain/recordings.ts";
import type { SystemInformation } from "../domain/system-info.ts";
import type { Technicians } from "../domain/technicians.ts";
import { EncodedCopies } from "../downloads/encoded-copies.ts";
import type { ScrapeAnswer } from "../metrics/scrape.ts";
import type { AgentSockets } from "../realtime/agent-socket.ts";
import type { ConsoleSockets } from "../realtime/console-socket.ts";
import { GatewaySocket, gatewaySocket } from "../realtime/gateway-socket.ts";
import type { Hub } from "../realtime/hub.ts";
import { CLOSE } from "../realtime/wire.ts";
import type { RecordingFiles } from "../recordings/recording-files.ts";
import { originAllowed, readAuth } from "./authenticate.ts";
import { ClientFaultLog, faultName, isClientFault } from "./client-faults.ts";
import {
  canAnswer,
  clientErrorRefusal,
  createErrorHandler,
  sendError,
  writeRawError,
} from "./error-handler.ts";
import { acceptEmptyJsonBodies } from "./json-body.ts";
import { swaggerOptions } from "./openapi.ts";
import { guardPath } from "./request-target.ts";
import { adminRoutes } from "./routes/admin-routes.ts";
import { authRoutes } from "./routes/auth-routes.ts";
import { buildRoutes } from "./routes/build-routes.ts";
import { landingRoutes } from "./routes/landing-routes.ts";
import { type Health, metaRoutes } from "./routes/meta-routes.ts";
import { metricsRoutes } from "./routes/metrics-routes.ts";
import { recordingRoutes } from "./routes/recording-routes.ts";
import { sessionRoutes } from "./routes/session-routes.ts";
import { faultListener, keepSocketOnly, type SocketFault } from "./socket-upgrade.ts";
import type { App } from "./types.ts";

export type HttpDeps = {
  log: Logger;
  technicians: Technicians;
  audit: AuditLog;
  channels: Channels;
  desk: Desk;
  chat: Chat;
  systemInfo: SystemInformation;
  recordings: Recordings;
  recordingFiles: RecordingFiles;
  hub: Hub;
  agentSockets: AgentSockets;
  consoleSockets: ConsoleSockets;
  publicUrl: () => string;
  /** The reverse proxies whose X-Forwarded-* headers are believed; empty: none. */
  trustProxy: readonly string[];
  /** Makes the server (https, signaling/tls.ts); without it fastify makes a plain http one. */
  serverFactory?: FastifyServerFactory;
  /** Where the branded SOS builds are offered from. */
  downloadsDir: string;
  /** `build:sos --cache` for builds started from the console. */
  buildCacheDir: string;
  /** Baked into every console build (`build:sos --ca`); checked at start. */
  buildCaFile: string | undefined;
  /** Requests per minute per address on the API, before RATE_LIMITED. */
  apiRateLimit: number;
  health: () => Promise<Health>;
  /** Answers `GET /metrics` here (with a metrics token); undefined: not served on this listener. */
  scrapeMetrics: ((authorization: string | undefined) => Promise<ScrapeAnswer>) | undefined;
};

/** One year; not includeSubDomains, which would bind other hosts of the admin's domain. */
const HSTS = "max-age=31536000";

const PUBLIC_DIR = fileURLToPath(new URL("../public/", import.meta.url));

/**
 * The rate limit's key: the client's address as the limiter normalizes it. A request whose
 * connection Node's parser already closed (a malformed chunked body) has no address left; it gets
 * one shared key instead of a TypeError in the limiter.
 */
function rateLimitKey(request: FastifyRequest): string {
  const ip: string | undefined = request.ip;
  return typeof ip === "string" ? normalizeIP(ip) : "closed-connection";
}

/** A plain GET on a socket path. */
function notAnUpgrade(_request: FastifyRequest, reply: FastifyReply) {
  return sendError(reply, new SosError("NOT_FOUND", "This path only takes a WebSocket upgrade."));
}

/** The gateway's HTTP face: REST API, OpenAPI, sockets, the console and the landing page. */
export async function buildHttp(deps: HttpDeps): Promise<App> {
  const { technicians, hub, publicUrl } = deps;
  const publicOrigin = () => new URL(publicUrl()).origin;
  const clientFaults = new ClientFaultLog(deps.log);
  const errorHandler = createErrorHandler(clientFaults);
  const app = Fastify({
    loggerInstance: deps.log,
    // Never `true` (everyone's headers): only the configured proxies' (config.ts).
    trustProxy: deps.trustProxy.length === 0 ? false : [...deps.trustProxy],
    ...(deps.serverFactory === undefined ? {} : { serverFactory: deps.serverFactory }),
    bodyLimit: 256 * 1024,
    // Errors the router answers before any route (a bad %-escape, an over-long path parameter) get
    // the same { error: { code } } body as every other refusal.
    frameworkErrors: (error, request, reply) => errorHandler(error, request, reply),
    // Requests Node's parser refuses (malformed, headers too large, a broken chunked body): the
    // documented body, and a client fault in the log, not an error.
    clientErrorHandler: (error, socket) => {
      clientFaults.report({ address: socket.remoteAddress, fault: faultName(error), reason: error.message });
      if (faultName(error) !== "ECONNRESET" && !socket.destroyed && canAnswer(socket)) {
        writeRawError(socket, clientErrorRefusal(error));
      } else {
        socket.destroy();
      }
    },
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(errorHandler);
  app.decorateRequest("auth", null);
  acceptEmptyJsonBodies(app);

  // Setup closes for good once an admin exists: every variant of its path is refused before routing.
  // Every guard on a path reads guardPath(request.url): the path the router routes, whatever the
  // form of the request target (origin or absolute form), in one canonical spelling.
  app.addHook("onRequest", async (request, reply) => {
    const path = guardPath(request.url);
    if ((path.startsWith("/api/setup") || path.startsWith("/setup")) && !(await technicians.setupOpen())) {
      return sendError(reply, new SosError("SETUP_CLOSED", "Not found."));
    }
  });
  app.addHook("onSend", async (request, reply, payload) => {
    reply.header("x-content-type-options", "nosniff");
    reply.header("x-frame-options", "DENY");
    // https here, or at a trusted proxy in front (X-Forwarded-Proto): browsers keep to https.
    if (request.protocol === "https") reply.header("strict-transport-security", HSTS);
    return payload;
  });

  await app.register(fastifyCookie);
  await app.register(fastifyRateLimit, {
    max: deps.apiRateLimit,
    timeWindow: "1 minute",
    keyGenerator: rateLimitKey,
    allowList: (request) => !guardPath(request.url).startsWith("/api/"),
    errorResponseBuilder: (_request, context) =>
      new SosError("RATE_LIMITED", "Too many requests.", { retryAfter: Math.ceil(context.ttl / 1000) }),
  });
  await app.register(fastifySwagger, swaggerOptions(publicUrl));
  // An invalid frame or a dropped connection is the client's fault: a budgeted info line, no stack
  // (the plugin's default logs each at error level with its stack). Anything else is ours.
  const socketFault: SocketFault = (error, socket) => {
    if (isClientFault(error)) {
      clientFaults.report({ address: socket.address, fault: faultName(error), reason: error.message });
    } else {
      app.log.error({ address: socket.address, err: error }, "socket handler failed");
    }
    socket.terminate();
  };
  const onSocketFault = faultListener(socketFault);
  // @types/ws wants the class together with the ws module's statics (Server, createWebSocketStream,
  // ...), which ws never reads from it: the one cast.
  const socketClass = GatewaySocket as unknown as NonNullable<
    NonNullable<WebsocketPluginOptions["options"]>["WebSocket"]
  >;
  await app.register(fastifyWebsocket, {
    // Every socket is a GatewaySocket: what the gateway keeps of it is in its fields.
    options: { maxPayload: MAX_SOCKET_FRAME_BYTES, WebSocket: socketClass },
    errorHandler: (error, ws, request) => {
      const socket = gatewaySocket(ws);
      if (socket.address === "") socket.address = request.ip;
      socketFault(error, socket);
    },
  });
  // An upgrade is only for GET on a socket path. Anything else is refused before its body is read:
  // Node hands an upgrade's connection over without parsing a body, so a POST with Upgrade would
  // wait for one forever and hold its connection (and the gateway's shutdown) open.
  app.addHook("onRequest", async (request, reply) => {
    // IncomingMessage.upgrade: Node's parser saw Connection: upgrade and an Upgrade header.
    if (!("upgrade" in request.raw) || request.raw.upgrade !== true) return;
    const socketRoute =
      request.routeOptions.url === "/ws/agent" || request.routeOptions.url === "/ws/console";
    if (request.method !== "GET" || !socketRoute) {
      return sendError(reply, new SosError("NOT_FOUND", "No WebSocket endpoint here."));
    }
  });
  // A handshake the WebSocket layer refuses (bad key, version, Upgrade or subprotocol header): the
  // documented body instead of ws's text/html.
  app.websocketServer.on("wsClientError", (error, socket, request) => {
    clientFaults.report({
      address: request.socket.remoteAddress,
      fault: "WS_HANDSHAKE",
      reason: error.message,
    });
    const version = error.message.includes("Sec-WebSocket-Version")
      ? { "sec-websocket-version": "13, 8" }
      : {};
    writeRawError(socket, SosError.badRequest(`WebSocket handshake refused: ${error.message}.`), version);
  });

  metaRoutes(app, () => ({ agents: hub.agentCount(), consoles: hub.consoleCount() }), deps.health);
  metricsRoutes(app, deps.scrapeMetrics);
  authRoutes(app, { technicians, publicOrigin, secureCookies: () => publicOrigin().startsWith("https:") });
  adminRoutes(app, {
    technicians,
    channels: deps.channels,
    audit: deps.audit,
    publicOrigin,
    downloadsDir: deps.downloadsDir,
  });
  // The downloads' compressed copies: made for the builds already there once the gateway listens,
  // and for each build the console makes; a copy being made stops with the gateway.
  const encodedCopies = new EncodedCopies(deps.downloadsDir, app.log);
  app.addHook("onReady", async () => {
    void encodedCopies.refresh();
  });
  app.addHook("preClose", async () => {
    await encodedCopies.close();
  });
  buildRoutes(app, { ...deps, publicOrigin, builtFiles: () => void encodedCopies.refresh() });
  sessionRoutes(app, {
    desk: deps.desk,
    chat: deps.chat,
    systemInfo: deps.systemInfo,
    hub,
    technicians,
    publicOrigin,
  });
  recordingRoutes(app, {
    recordings: deps.recordings,
    files: deps.recordingFiles,
    technicians,
    publicOrigin,
  });
  landingRoutes(app, {
    liveSession: (token) => deps.desk.invitations.byLink(token),
    organizationName: async () => (await technicians.organization()).name,
    publicUrl,
    downloadsDir: deps.downloadsDir,
    encodedCopies,
  });

  // The socket paths answer a request without an upgrade with the documented body (the plugin's
  // own answer is an empty 404), through its `handler` + `wsHandler` route form.
  app.route({
    method: "GET",
    url: "/ws/agent",
    schema: { hide: true },
    handler: notAnUpgrade,
    wsHandler: (socket, request) => {
      deps.agentSockets.accept(keepSocketOnly(socket, request, onSocketFault));
    },
  });
  app.route({
    method: "GET",
    url: "/ws/console",
    schema: { hide: true },
    // Refused before the upgrade: a foreign Origin (cross-site WebSocket hijacking) or no sign-in.
    preValidation: async (request, reply) => {
      if (request.headers.origin === undefined || !originAllowed(request, publicOrigin)) {
        return sendError(reply, new SosError("ORIGIN_FORBIDDEN", "Cross-site socket refused."));
      }
      const auth = await readAuth(request, technicians);
      if (auth === undefined) return sendError(reply, new SosError("UNAUTHENTICATED", "Sign in first."));
      request.auth = auth;
    },
    handler: notAnUpgrade,
    wsHandler: (ws, request) => {
      const socket = keepSocketOnly(ws, request, onSocketFault);
      if (request.auth === null) {
        socket.close(CLOSE.unauthenticated, "sign in first");
        return;
      }
      deps.consoleSockets.accept(socket, request.auth.account);
    },
  });

  if (existsSync(PUBLIC_DIR)) {
    await app.register(fastifyStatic, { root: PUBLIC_DIR, index: ["index.html"], wildcard: false });
  }
  app.setNotFoundHandler(async (request, reply) => {
    const path = guardPath(request.url);
    if (
      path.startsWith("/api/") ||
      path.startsWith("/ws/") ||
      !path.startsWith("/") ||
      !existsSync(`${PUBLIC_DIR}index.html`)
    ) {
      return sendError(reply, new SosError("NOT_FOUND", "Not found."));
    }
    // The console is a single page: unknown non-API paths load it.
    return reply.sendFile("index.html");
  });
  return app;
}

/**
 * How long a stopping gateway lets requests in flight finish. After that every connection is
 * closed: a client holding a connection without a finished request (a browser's speculative
 * connection, a stalled upload) would otherwise hold the stop until the service manager kills it.
 */
export const SHUTDOWN_GRACE_MS = 2_000;

/** Stops listening and closes the HTTP side, within SHUTDOWN_GRACE_MS of in-flight work. */
export async function closeHttp(app: App): Promise<void> {
  const force = setTimeout(() => app.server.closeAllConnections(), SHUTDOWN_GRACE_MS);
  try {
    await app.close();
  } finally {
    clearTimeout(force);
  }
}
