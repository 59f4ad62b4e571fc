import { join } from "node:path";
import { type Logger, pino } from "pino";
import type { AccessMode } from "../shared/status.ts";
import { type Clock, systemClock } from "./clock.ts";
import type { Cluster } from "./cluster/cluster.ts";
import { PostgresCluster } from "./cluster/postgres-cluster.ts";
import { singleCluster } from "./cluster/single-cluster.ts";
import { type GatewayConfig, type GatewayConfigInput, gatewayConfigSchema } from "./config.ts";
import { AuditLog } from "./domain/audit.ts";
import { Channels } from "./domain/channels.ts";
import { Chat } from "./domain/chat.ts";
import { Continuation } from "./domain/continuation.ts";
import { Desk } from "./domain/desk/desk.ts";
import { domainEvents } from "./domain/events.ts";
import { PinGuard } from "./domain/pin-guard.ts";
import { Policy } from "./domain/policy.ts";
import { Recordings } from "./domain/recordings.ts";
import { Retention, type RetentionBatches, type RetentionRun } from "./domain/retention.ts";
import { Supportee } from "./domain/supportee.ts";
import { SystemInformation } from "./domain/system-info.ts";
import { Technicians } from "./domain/technicians.ts";
import { Viewing } from "./domain/viewing.ts";
import { checkBuildCa } from "./downloads/build-ca.ts";
import { buildHttp, closeHttp } from "./http/app.ts";
import { JOB_RETRY, Jobs } from "./jobs.ts";
import { GatewayMetrics } from "./metrics/gateway-metrics.ts";
import { answerScrape, listenForScrapes } from "./metrics/scrape.ts";
import { timedStore } from "./metrics/timed-store.ts";
import { AgentSockets } from "./realtime/agent-socket.ts";
import { clusterRelay } from "./realtime/cluster-relay.ts";
import { ConsoleSockets } from "./realtime/console-socket.ts";
import { Heartbeat } from "./realtime/heartbeat.ts";
import { type ConsoleConnection, Hub } from "./realtime/hub.ts";
import { RecordingFiles } from "./recordings/recording-files.ts";
import { openPostgresStore } from "./store/postgres-store.ts";
import { openSqliteStore } from "./store/sqlite-store.ts";
import { type CertificateInfo, TlsServer } from "./tls.ts";
import { IceServers } from "./turn/relay.ts";

export type GatewayOptions = {
  /** Time source; tests pass one they can move. */
  clock?: Clock;
  log?: Logger;
  /** How often expired sessions are swept (default 15 s); 0 turns the sweeper off. */
  sweepIntervalMs?: number;
  /**
   * How often recordings past their channel's retention, and ended sessions and audit entries past
   * theirs (`--session-retention-days`, `--audit-retention-days`), are deleted (default 1 h; also
   * at start); 0 turns it off.
   */
  retentionSweepIntervalMs?: number;
  /** Tests only: smaller retention batches, to see a backlog deleted batch by batch. */
  retentionBatches?: RetentionBatches;
  /** How long a dropped agent may take to resume before its session falls back to Waiting. */
  resumeGraceMs?: number;
  /** How often sockets are pinged; a socket that missed a pong is closed (default 30 s). */
  heartbeatMs?: number;
  helloTimeoutMs?: number;
  /** Tests only: a TURN credential lifetime below `--turn-ttl`'s one-minute floor, to see renewals. */
  turnTtlSeconds?: number;
  /** PostgreSQL only: how often this instance heartbeats (default 1 s). */
  instanceHeartbeatMs?: number;
  /** PostgreSQL only: after how long without a heartbeat another instance is gone (default 5 s). */
  instanceGoneAfterMs?: number;
};

export type Gateway = {
  /** Where it listens, e.g. http://127.0.0.1:8080. */
  url: string;
  /** What links are built on. */
  publicUrl: string;
  /** The metrics-only listener's address (`--metrics-listen`), e.g. http://127.0.0.1:9464/metrics. */
  metricsUrl: string | undefined;
  config: GatewayConfig;
  /** This instance's id among those sharing the database (new at every start). */
  instanceId: string;
  /** The one-time setup token when the gateway started without any admin. */
  setupToken: string | undefined;
  /** The certificate served, when the gateway serves https itself. */
  certificate: CertificateInfo | undefined;
  /**
   * Reads the TLS certificate and key files again (SIGHUP): new connections get the new pair, open
   * sockets keep theirs. Throws, and keeps serving the previous pair, when the files do not load;
   * throws too when the gateway does not serve https.
   */
  reloadTls(): CertificateInfo;
  /** Runs the expiry sweep now; resolves to how many sessions expired. */
  sweep(): Promise<number>;
  /** Runs the recordings' retention sweep now (at the gateway's clock); resolves to how many it deleted. */
  sweepRecordings(): Promise<number>;
  /** Runs the sessions' and audit log's retention now (at the gateway's clock); resolves to what it deleted. */
  sweepRetention(): Promise<RetentionRun>;
  /**
   * Runs the re-confirmation sweep now (the end user asked again, a question past its deadline
   * ends its session); resolves to how many sessions it asked or ended.
   */
  continuationSweep(): Promise<number>;
  /** Stops listening, closes sockets and the store. Safe to call twice. */
  close(): Promise<void>;
};

/** How often the re-confirmation clock is looked at (at most; see sweepIntervalMs). */
const CONTINUATION_SWEEP_MS = 5_000;

/** The composition root: builds every part of the gateway, wires them, and listens. */
export async function startGateway(
  input: GatewayConfigInput,
  options: GatewayOptions = {},
): Promise<Gateway> {
  const config = gatewayConfigSchema.parse(input);
  // Before the store: a certificate that does not load refuses the start and changes nothing.
  const tls = config.tls === undefined ? undefined : new TlsServer(config.tls);
  const buildCaFile = config.buildCaFile === undefined ? undefined : checkBuildCa(config.buildCaFile);
  const clock = options.clock ?? systemClock;
  const log = options.log ?? pino({ level: config.logLevel, base: { service: "sos-gateway" } });
  const metrics = new GatewayMetrics();
  // The one place the store is chosen: PostgreSQL when a database URL is given, else SQLite.
  const opened =
    config.databaseUrl === undefined
      ? openSqliteStore(config.dataDir)
      : await openPostgresStore(config.databaseUrl);
  const store = timedStore(opened, (operation, seconds) => metrics.storeOperation(operation, seconds));
  // With the store: other instances on the same PostgreSQL database are reached over its
  // LISTEN/NOTIFY; SQLite serves one instance alone.
  const cluster: Cluster =
    config.databaseUrl === undefined
      ? singleCluster()
      : new PostgresCluster(config.databaseUrl, {
          log,
          ...(options.instanceHeartbeatMs === undefined ? {} : { heartbeatMs: options.instanceHeartbeatMs }),
          ...(options.instanceGoneAfterMs === undefined ? {} : { goneAfterMs: options.instanceGoneAfterMs }),
        });
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
  // The domain emits; Viewing subscribes first (it closes the views an event ends), then the hub
  // (it translates every event into socket messages).
  const events = domainEvents();
  const channels = new Channels({
    store,
    clock,
    audit,
    policy,
    events,
    defaultExpiryMinutes: config.sessionExpiryMinutes,
  });
  // STUN for everyone; the TURN relay only per remote view, with a credential minted for its peer.
  const iceServers = new IceServers({
    iceUrls: config.iceUrls,
    relay:
      config.turnSecret === undefined
        ? undefined
        : {
            urls: config.turnUrls,
            secret: config.turnSecret,
            ttlSeconds: options.turnTtlSeconds ?? config.turnTtlSeconds,
          },
    clock,
    sessionLifetimeSeconds: (sessionId) => channels.sessionLifetimeSeconds(sessionId),
  });
  const viewing: Viewing<ConsoleConnection> = new Viewing({
    events,
    // The desk is built below with the hub this needs; called only once everything is built.
    access: (actor, sessionId): Promise<AccessMode> => desk.permissions.connectAccess(actor, sessionId),
    audit,
    iceServers: (peer) => iceServers.forPeer(peer),
    fileLimit: (sessionId) => channels.fileLimitBytes(sessionId),
    serialized: (sessionId, work) => desk.serialized(sessionId, work),
    clock,
    schedule: (job, delayMs, work) => jobs.after(job, delayMs, work),
  });
  const hub = new Hub({
    store,
    policy,
    organizationName,
    viewing,
    events,
    cluster,
    failed: (error, what) => log.error({ err: error, what }, "telling the sockets failed"),
    retry: (job, work) => {
      jobs.after(job, JOB_RETRY.baseMs, work);
    },
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
  const pins = new PinGuard(clock, events);
  // Attempts counted on one instance count on every one: a guesser gains nothing from the balancer.
  events.on("pinTried", (address, outcome) => cluster.publish({ type: "pin.tried", address, outcome }));
  events.on("signInTried", (email, address, outcome) =>
    cluster.publish({ type: "sign_in.tried", email, address, outcome }),
  );
  const continuation = new Continuation({ store, clock, audit, events, presence: hub, desk });
  const supportee = new Supportee({
    store,
    clock,
    audit,
    events,
    presence: hub,
    pins,
    desk,
    continuation,
  });
  const chat = new Chat({ store, clock, audit, events, policy, presence: hub, desk });
  const systemInfo = new SystemInformation({ store, clock, audit, events, desk });
  // Recordings' files live in the data directory (shared storage when several instances share a database).
  const recordingFiles = new RecordingFiles(config.recordingsDir ?? join(config.dataDir, "recordings"));
  const recordings = new Recordings({
    store,
    clock,
    audit,
    events,
    desk,
    files: recordingFiles,
    deleted: () => metrics.retentionDeleted("recordings", 1),
  });
  const retention = new Retention({
    store,
    clock,
    audit,
    events,
    sessionDays: config.sessionRetentionDays,
    auditDays: config.auditRetentionDays,
    deleted: (kind, count) => metrics.retentionDeleted(kind, count),
    batches: options.retentionBatches,
  });
  // A technician's view that closes ends their recordings of the session (the end user is told).
  viewing.events.on("closed", (peer) =>
    jobs.safely("recordings of a closed view", () =>
      recordings.viewClosed(peer.sessionId, peer.technicianId),
    ),
  );
  events.on("channelRecordingOff", (channelId) =>
    jobs.safely("recordings of a channel set to off", async () => {
      await recordings.channelOff(channelId);
    }),
  );
  const agentSockets = new AgentSockets({
    hub,
    supportee,
    chat,
    systemInfo,
    recordings,
    continuation,
    viewing,
    organizationName,
    iceServers: () => iceServers.general(),
    log,
    jobs,
    helloTimeoutMs: options.helloTimeoutMs ?? 10_000,
    relayed: (direction, startedAt) => metrics.relayed(direction, startedAt),
    ...(options.resumeGraceMs === undefined ? {} : { resumeGraceMs: options.resumeGraceMs }),
  });
  const consoleSockets = new ConsoleSockets({
    hub,
    desk,
    chat,
    systemInfo,
    viewing,
    log,
    jobs,
    relayed: (direction, startedAt) => metrics.relayed(direction, startedAt),
  });
  // Metrics count what the domain and viewing emit (after the hub: they never change an outcome)
  // and read connections, sessions and store health when scraped.
  metrics.subscribe(events, viewing.events);
  metrics.watch({
    connections: () => ({ agents: hub.agentCount(), consoles: hub.consoleCount() }),
    sessionsWithStatus: (status) => store.listSessionsWithStatus(status),
    storeHealth: () => store.health(),
  });
  const { metricsToken } = config;

  const setupToken = await technicians.bootstrap(config.admin);
  // Technicians from before private channels were made with the account get theirs now, not on a GET.
  await channels.ensurePrivateChannels();
  const app = await buildHttp({
    log,
    technicians,
    audit,
    channels,
    desk,
    chat,
    systemInfo,
    recordings,
    recordingFiles,
    hub,
    agentSockets,
    consoleSockets,
    publicUrl: () => publicUrl,
    trustProxy: config.trustProxy,
    ...(tls === undefined ? {} : { serverFactory: (handler) => tls.create(handler) }),
    downloadsDir: config.downloadsDir ?? join(config.dataDir, "downloads"),
    buildCacheDir: config.buildCacheDir ?? join(config.dataDir, "build-cache"),
    buildCaFile,
    apiRateLimit: config.apiRateLimit,
    health: async () => {
      const storeHealth = await store.health();
      const failing = jobs.failing();
      return { ok: storeHealth.ok && failing.length === 0, store: storeHealth, jobs: failing };
    },
    scrapeMetrics:
      metricsToken === undefined
        ? undefined
        : (authorization) => answerScrape(metrics, metricsToken, authorization),
  });
  const heartbeat = new Heartbeat(app.websocketServer, options.heartbeatMs ?? 30_000);

  // Registered before any socket is accepted: what this instance holds is never taken for a gone
  // instance's.
  const orphans = async () => {
    for (const session of await store.listSessionsWithStatus("Active")) agentSockets.orphaned(session.id);
  };
  try {
    const relay = clusterRelay({
      hub,
      viewing,
      log,
      orphansMayExist: () => jobs.safely("instance gone", orphans),
      pins,
      technicians,
    });
    await cluster.start(relay);
    await hub.rejoined();
  } catch (error) {
    await app.close();
    await cluster.close();
    await store.close();
    throw error;
  }
  log.info({ instance: cluster.instanceId }, "instance registered");

  const address = await app.listen({ port: config.port, host: config.host });
  const scrapes =
    config.metricsListen === undefined
      ? undefined
      : await listenForScrapes(metrics, metricsToken, config.metricsListen).catch(async (error: unknown) => {
          await app.close();
          await cluster.close();
          await store.close();
          throw error;
        });
  const port = new URL(address).port;
  const scheme = tls === undefined ? "http" : "https";
  const url = `${scheme}://${config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host}:${port}`;
  if (publicUrl === "") publicUrl = `${scheme}://localhost:${port}`;

  // Active sessions whose agent is connected nowhere (not to another instance either) get the
  // grace period to come back: after a restart, and whenever another instance is gone.
  await orphans();
  const sweepMs = options.sweepIntervalMs ?? 15_000;
  jobs.safely("expiry sweep at start", async () => {
    await desk.lifecycle.expireDue();
  });
  if (sweepMs > 0) {
    jobs.every("expiry sweep", sweepMs, async () => {
      await desk.lifecycle.expireDue();
    });
    // The end user's re-confirmation: asked, and the session ended, within this of their time.
    jobs.every("continuation sweep", Math.min(sweepMs, CONTINUATION_SWEEP_MS), async () => {
      await continuation.sweep();
    });
  }
  // Retention: every instance sweeps, at start and hourly; running a sweep on several instances
  // at once, or twice, deletes each recording, session or audit entry once.
  const retentionMs = options.retentionSweepIntervalMs ?? 60 * 60_000;
  const sweeps = [
    ["recording retention", () => recordings.sweep()],
    ["data retention", () => retention.sweep()],
  ] as const;
  if (retentionMs > 0) {
    for (const [job, sweep] of sweeps) {
      jobs.every(
        job,
        retentionMs,
        async () => {
          await sweep();
        },
        { now: true },
      );
    }
  }
  heartbeat.start();

  let closed: Promise<void> | undefined;
  return {
    url,
    publicUrl,
    metricsUrl: scrapes?.url,
    config,
    instanceId: cluster.instanceId,
    setupToken,
    get certificate() {
      return tls?.certificate;
    },
    reloadTls() {
      if (tls === undefined) throw new Error("the gateway does not serve https (no --tls-cert)");
      return tls.reload();
    },
    sweep: () => desk.lifecycle.expireDue(),
    sweepRecordings: () => recordings.sweep(),
    sweepRetention: () => retention.sweep(),
    continuationSweep: () => continuation.sweep(),
    close() {
      closed ??= (async () => {
        jobs.stop();
        heartbeat.stop();
        agentSockets.stop();
        hub.closeAll();
        await closeHttp(app);
        await scrapes?.close();
        await cluster.close();
        await store.close();
      })();
      return closed;
    },
  };
}
