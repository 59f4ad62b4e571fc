import { performance } from "node:perf_hooks";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { LIVE_STATUSES, type SessionStatus } from "../../shared/status.ts";
import type { DomainEvents } from "../domain/events.ts";
import { RETENTION_KINDS, type RetentionKind } from "../domain/retention.ts";
import type { TypedEvents } from "../domain/typed-events.ts";
import type { ViewingEvents } from "../domain/viewing.ts";
import type { SessionRow } from "../store/rows.ts";
import type { StoreHealth } from "../store/store.ts";

/** Which way a `signal` message went through the gateway. */
export type RelayDirection = "agent_to_console" | "console_to_agent";

/** What the metrics read at scrape time, from the parts that already keep it. */
export type MetricSources = {
  connections: () => { agents: number; consoles: number };
  /** The sessions with a status (the store's own query; sync today, a promise for a networked store). */
  sessionsWithStatus: (status: SessionStatus) => readonly SessionRow[] | Promise<readonly SessionRow[]>;
  storeHealth: () => StoreHealth | Promise<StoreHealth>;
};

/** Seconds: the gateway relays a signal in well under a millisecond when nothing waits. */
const RELAY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25];
/** Seconds: a read takes microseconds, a commit with `synchronous = FULL` milliseconds; a lock up to 1 s. */
const STORE_BUCKETS = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1,
];

/**
 * The gateway's Prometheus metrics (docs/metrics.md lists them): the process's default metrics
 * (event-loop lag, CPU, memory, descriptors; one set per process) and the gateway's own, in one
 * registry per gateway, derived from the domain's and viewing's events and read from the hub and the store at scrape time.
 */
export class GatewayMetrics {
  /** The gateway's own metrics; a scrape adds the process's (processMetrics). */
  readonly registry = new Registry();
  readonly #relay: Histogram<"direction">;
  readonly #store: Histogram<"operation">;
  readonly #pinRefusals: Counter<"reason">;
  readonly #signInRefusals: Counter<"reason">;
  readonly #sessionsEnded: Counter<"reason">;
  readonly #viewsOpened: Counter;
  readonly #viewsClosed: Counter<"reason">;
  readonly #retentionDeleted: Counter<"kind">;
  /** Open remote views by peer id: kept from viewing's opened/closed, so a repeated close counts once. */
  readonly #openViews = new Set<string>();
  #sources: MetricSources | undefined;

  constructor() {
    const registers = [this.registry];
    this.#relay = new Histogram({
      name: "sos_signal_relay_seconds",
      help: "Time the gateway takes to relay one WebRTC signal message: from the decoded message to the forwarded frame handed to the other socket.",
      labelNames: ["direction"],
      buckets: RELAY_BUCKETS,
      registers,
    });
    this.#store = new Histogram({
      name: "sos_store_operation_seconds",
      help: "Duration of each store operation as the gateway sees it (transaction: the whole transaction with its commit).",
      labelNames: ["operation"],
      buckets: STORE_BUCKETS,
      registers,
    });
    this.#pinRefusals = new Counter({
      name: "sos_pin_refusals_total",
      help: "Agent joins by PIN refused: a wrong or dead PIN (wrong), or an address held back by the PIN guard (rate_limited).",
      labelNames: ["reason"],
      registers,
    });
    this.#signInRefusals = new Counter({
      name: "sos_sign_in_refusals_total",
      help: "Technician sign-ins refused: wrong email or password or a disabled account (invalid_credentials), or throttled.",
      labelNames: ["reason"],
      registers,
    });
    this.#sessionsEnded = new Counter({
      name: "sos_sessions_ended_total",
      help: "Support sessions that ended: closed by a technician, expired, deleted while live, or not let continue by the end user (declined, unconfirmed).",
      labelNames: ["reason"],
      registers,
    });
    this.#viewsOpened = new Counter({
      name: "sos_remote_views_opened_total",
      help: "Remote views opened (a technician's viewer peer with an agent).",
      registers,
    });
    this.#viewsClosed = new Counter({
      name: "sos_remote_views_closed_total",
      help: "Remote views closed, by reason.",
      labelNames: ["reason"],
      registers,
    });
    this.#retentionDeleted = new Counter({
      name: "sos_retention_deleted_total",
      help: "What the retentions deleted: ended sessions (with their chat, system information, invitations and permissions), audit entries, recordings.",
      labelNames: ["kind"],
      registers,
    });
    // Labels that exist from the start, so a rate() over them starts at zero rather than at the first event.
    for (const reason of ["wrong", "rate_limited"]) this.#pinRefusals.inc({ reason }, 0);
    for (const reason of ["invalid_credentials", "throttled"]) this.#signInRefusals.inc({ reason }, 0);
    for (const reason of ["closed", "expired", "deleted"]) this.#sessionsEnded.inc({ reason }, 0);
    for (const kind of RETENTION_KINDS) this.#retentionDeleted.inc({ kind }, 0);
    for (const direction of ["agent_to_console", "console_to_agent"]) this.#relay.zero({ direction });

    const sources = () => this.#sources;
    const openViews = this.#openViews;
    new Gauge({
      name: "sos_remote_views",
      help: "Remote views open now.",
      registers,
      collect() {
        this.set(openViews.size);
      },
    });
    new Gauge({
      name: "sos_connected_agents",
      help: "SOS agents connected and joined to a session now.",
      registers,
      collect() {
        const source = sources();
        if (source !== undefined) this.set(source.connections().agents);
      },
    });
    new Gauge({
      name: "sos_connected_consoles",
      help: "Technician console sockets connected now.",
      registers,
      collect() {
        const source = sources();
        if (source !== undefined) this.set(source.connections().consoles);
      },
    });
    // Live statuses only: Expired and Closed sessions pile up until deleted, and counting them
    // through the Store interface means reading every one of them on each scrape (docs/metrics.md).
    new Gauge({
      name: "sos_sessions",
      help: "Live support sessions (Waiting, Active, Queued) by status, read from the store at scrape time.",
      labelNames: ["status"],
      registers,
      async collect() {
        const source = sources();
        if (source === undefined) return;
        for (const status of LIVE_STATUSES) {
          this.set({ status }, (await source.sessionsWithStatus(status)).length);
        }
      },
    });
    new Gauge({
      name: "sos_store_up",
      help: "1 while the store serves writes, 0 while it fails (as /healthz reports it).",
      registers,
      async collect() {
        const source = sources();
        if (source !== undefined) this.set((await source.storeHealth()).ok ? 1 : 0);
      },
    });
  }

  /** The parts read at scrape time; given once they are built (the composition root). */
  watch(sources: MetricSources): void {
    this.#sources = sources;
  }

  /** Counts what the domain and viewing emit. Subscribe after the hub: metrics never change an outcome. */
  subscribe<C>(events: DomainEvents, viewing: TypedEvents<ViewingEvents<C>>): void {
    events.on("pinRefused", (reason) => this.#pinRefusals.inc({ reason }));
    events.on("signInRefused", (reason) => this.#signInRefusals.inc({ reason }));
    events.on("sessionEnded", (_sessionId, reason) => this.#sessionsEnded.inc({ reason }));
    viewing.on("opened", (peer) => {
      this.#openViews.add(peer.peerId);
      this.#viewsOpened.inc();
    });
    viewing.on("closed", (peer, reason) => {
      if (!this.#openViews.delete(peer.peerId)) return;
      this.#viewsClosed.inc({ reason });
    });
  }

  /** A signal was relayed; `startedAt` is `performance.now()` when its handler took it. */
  relayed(direction: RelayDirection, startedAt: number): void {
    this.#relay.observe({ direction }, (performance.now() - startedAt) / 1000);
  }

  /** A retention deleted `count` of a kind (signaling/domain/retention.ts, recordings.ts). */
  retentionDeleted(kind: RetentionKind, count: number): void {
    this.#retentionDeleted.inc({ kind }, count);
  }

  /** One store operation took `seconds`. */
  storeOperation(operation: string, seconds: number): void {
    this.#store.observe({ operation }, seconds);
  }

  /** The exposition in the Prometheus text format, and its content type. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    const both = Registry.merge([processMetrics(), this.registry]);
    return { contentType: both.contentType, body: await both.metrics() };
  }
}

let processRegistry: Registry | undefined;

/**
 * The process's default metrics (event-loop lag, CPU, memory, descriptors, GC), collected once per
 * process and shown by every gateway in it: prom-client cannot stop what collects them (an
 * event-loop delay monitor, a GC observer), so one set per gateway outlived `close()` and piled up
 * in a process that starts many gateways (the tests).
 */
function processMetrics(): Registry {
  if (processRegistry === undefined) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}
