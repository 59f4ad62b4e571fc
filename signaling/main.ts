import { join } from "node:path";
import { type Logger, pino } from "pino";
import type { AccessMode } from "../shared/status.ts";
import { type Clock, systemClock } from "./clock.ts";
import { type GatewayConfig, type GatewayConfigInput, gatewayConfigSchema } from "./config.ts";
import { AuditLog } from "./domain/audit.ts";
import { Channels } from "./domain/channels.ts";
import { Desk } from "./domain/desk/desk.ts";
import { domainEvents } from "./domain/events.ts";
import { PinGuard } from "./domain/pin-guard.ts";
import { Policy } from "./domain/policy.ts";
import { Supportee } from "./domain/supportee.ts";
import { Technicians } from "./domain/technicians.ts";
import { Viewing } from "./domain/viewing.ts";
import { buildHttp } from "./http/app.ts";
import { Jobs } from "./jobs.ts";
import { AgentSockets } from "./realtime/agent-socket.ts";
import { ConsoleSockets } from "./realtime/console-socket.ts";
import { Heartbeat } from "./realtime/heartbeat.ts";
import { type ConsoleConnection, Hub } from "./realtime/hub.ts";
import { openPostgresStore } from "./store/postgres-store.ts";
import { openSqliteStore } from "./store/sqlite-store.ts";
import { IceServers } from "./turn/relay.ts";

export type GatewayOptions = {
  /** Time source; tests pass one they can move. */
  clock?: Clock;
  log?: Logger;
  /** How often expired sessions are swept (default 15 s); 0 turns the sweeper off. */
  sweepIntervalMs?: number;
  /** How long a dropped agent may take to resume before its session falls back to Waiting. */
  resumeGraceMs?: number;
  /** How often sockets are pinged; a socket that missed a pong is closed (default 30 s). */
  heartbeatMs?: number;
  helloTimeoutMs?: number;
};

export type Gateway = {
  /** Where it listens, e.g. http://127.0.0.1:8080. */
  url: string;
  /** What links are built on. */
  publicUrl: string;
  config: GatewayConfig;
  /** The one-time setup token when the gateway started without any admin. */
  setupToken: string | undefined;
  /** Runs the expiry sweep now; resolves to how many sessions expired. */
  sweep(): Promise<number>;
  /** Stops listening, closes sockets and the store. Safe to call twice. */
  close(): Promise<void>;
};

/** The composition root: builds every part of the gateway, wires them, and listens. */
export async function startGateway(
  input: GatewayConfigInput,
  options: GatewayOptions = {},
): Promise<Gateway> {
  const config = gatewayConfigSchema.parse(input);
  const clock = options.clock ?? systemClock;
  const log = options.log ?? pino({ level: config.logLevel, base: { service: "sos-gateway" } });
  // The one place the store is chosen: PostgreSQL when a database URL is given, else SQLite.
  const store =
    config.databaseUrl === undefined
      ? openSqliteStore(config.dataDir)
      : await openPostgresStore(config.databaseUrl);
  log.info(
    { store: config.databaseUrl === undefined ? `sqlite:${config.dataDir}` : String(config.databaseUrl) },
    "store opened",
  );
  const jobs = new Jobs(log);
  const audit = new AuditLog(store, clock, (job, work) => jobs.untilDone(job, work));
  let publicUrl = config.publicUrl ?? "";
  let technicians: Technicians | undefined;
  const organizationName = async () => (await technicians?.organization())?.name ?? "SOS";

  const policy = new Policy(store, () => config.license);
  // STUN for everyone; the TURN relay only per remote view, with a credential minted for its peer.
  const iceServers = new IceServers({
    iceUrls: config.iceUrls,
    relay:
      config.turnSecret === undefined
        ? undefined
        : { urls: config.turnUrls, secret: config.turnSecret, ttlSeconds: config.turnTtlSeconds },
    clock,
    sessionLifetimeSeconds: async (sessionId) => {
      const session = await store.getSession(sessionId);
      const channel = session === undefined ? undefined : await store.getChannel(session.channelId);
      return channel === undefined ? undefined : channel.sessionExpiryMinutes * 60;
    },
  });
  // The domain emits; Viewing subscribes first (it closes the views an event ends), then the hub
  // (it translates every event into socket messages).
  const events = domainEvents();
  const viewing: Viewing<ConsoleConnection> = new Viewing({
    events,
    // The desk is built below with the hub this needs; called only once everything is built.
    access: (actor, sessionId): Promise<AccessMode> => desk.permissions.connectAccess(actor, sessionId),
    audit,
    iceServers: (peer) => iceServers.forPeer(peer),
    serialized: (sessionId, work) => desk.serialized(sessionId, work),
  });
  const hub = new Hub({
    store,
    policy,
    organizationName,
    viewing,
    events,
    failed: (error, what) => log.error({ err: error, what }, "telling the sockets failed"),
  });
  const desk = new Desk({
    store,
    clock,
    audit,
    policy,
    events,
    presence: hub,
    publicUrl: () => publicUrl,
  });
  const channels = new Channels({
    store,
    clock,
    audit,
    policy,
    events,
    defaultExpiryMinutes: config.sessionExpiryMinutes,
  });
  technicians = new Technicians({
    store,
    clock,
    audit,
    desk,
    channels,
    events,
    licensedFeatures: config.license,
  });
  if (config.organizationName !== undefined && (await store.getSetting("organization_name")) === undefined) {
    await store.setSetting("organization_name", config.organizationName);
  }
  const supportee = new Supportee({
    store,
    clock,
    audit,
    events,
    presence: hub,
    pins: new PinGuard(clock),
    desk,
  });
  const agentSockets = new AgentSockets({
    hub,
    supportee,
    viewing,
    organizationName,
    iceServers: () => iceServers.general(),
    log,
    jobs,
    helloTimeoutMs: options.helloTimeoutMs ?? 10_000,
    ...(options.resumeGraceMs === undefined ? {} : { resumeGraceMs: options.resumeGraceMs }),
  });
  const consoleSockets = new ConsoleSockets({ hub, desk, viewing, log, jobs });

  const setupToken = await technicians.bootstrap(config.admin);
  // Technicians from before private channels were made with the account get theirs now, not on a GET.
  await channels.ensurePrivateChannels();
  const app = await buildHttp({
    log,
    technicians,
    audit,
    channels,
    desk,
    hub,
    agentSockets,
    consoleSockets,
    publicUrl: () => publicUrl,
    trustProxy: config.trustProxy,
    downloadsDir: config.downloadsDir ?? join(config.dataDir, "downloads"),
    apiRateLimit: config.apiRateLimit,
    health: async () => {
      const storeHealth = await store.health();
      const failing = jobs.failing();
      return { ok: storeHealth.ok && failing.length === 0, store: storeHealth, jobs: failing };
    },
  });
  const heartbeat = new Heartbeat(app.websocketServer, options.heartbeatMs ?? 30_000);

  const address = await app.listen({ port: config.port, host: config.host });
  const port = new URL(address).port;
  const url = `http://${config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host}:${port}`;
  if (publicUrl === "") publicUrl = `http://localhost:${port}`;

  // Agents of sessions that were Active before a restart get the grace period to come back.
  for (const session of await store.listSessionsWithStatus("Active")) agentSockets.orphaned(session.id);
  const sweepMs = options.sweepIntervalMs ?? 15_000;
  jobs.safely("expiry sweep at start", async () => {
    await desk.lifecycle.expireDue();
  });
  if (sweepMs > 0) {
    jobs.every("expiry sweep", sweepMs, async () => {
      await desk.lifecycle.expireDue();
    });
  }
  heartbeat.start();

  let closed: Promise<void> | undefined;
  return {
    url,
    publicUrl,
    config,
    setupToken,
    sweep: () => desk.lifecycle.expireDue(),
    close() {
      closed ??= (async () => {
        jobs.stop();
        heartbeat.stop();
        agentSockets.stop();
        hub.closeAll();
        await app.close();
        await store.close();
      })();
      return closed;
    },
  };
}
