import pg from "pg";
import type { Logger } from "pino";
import { decodeMessage } from "../../shared/decode.ts";
import { newId } from "../auth/tokens.ts";
import type { DatabaseUrl } from "../store/database-url.ts";
import { type BusEnvelope, type BusMessage, busEnvelopeSchema } from "./bus-messages.ts";
import type { Cluster, ClusterHandlers } from "./cluster.ts";

/** Every instance refreshes its row this often. */
export const INSTANCE_HEARTBEAT_MS = 1_000;
/** An instance whose row is older than this is gone: a survivor clears what it held. */
export const INSTANCE_GONE_AFTER_MS = 5_000;
/** PostgreSQL refuses a NOTIFY payload of 8000 bytes or more; a larger message goes through bus_payloads. */
export const NOTIFY_PAYLOAD_LIMIT = 8_000;
/** The LISTEN/NOTIFY channel (one per database: every instance on it is one cluster). */
const CHANNEL = "sos_bus";
/** A notified reference to a row of bus_payloads, instead of the message itself. */
const REFERENCE = "@";
/**
 * A payload is `<sender's instance id>|<message or reference>`: every instance hears its own
 * notifications too, and drops them by that prefix without reading or decoding them.
 */
const SENDER = "|";
/** Large payloads are kept this long: every live instance has read theirs well before. */
const PAYLOAD_KEEP_SECONDS = 60;
/** Reconnecting the listener: 250 ms doubling up to 5 s. */
const LISTEN_RETRY = { baseMs: 250, maxMs: 5_000 } as const;

export type PostgresClusterOptions = {
  log: Logger;
  heartbeatMs?: number;
  goneAfterMs?: number;
};

/**
 * Several gateway instances on one PostgreSQL database. The bus is LISTEN/NOTIFY on one channel:
 * an instance publishes its messages one after the other (each NOTIFY committed before the next
 * is sent), and PostgreSQL delivers notifications in commit order, so every other instance gets
 * one sender's messages in the order they were published; the receiver handles them one after the
 * other too. A message of NOTIFY_PAYLOAD_LIMIT bytes or more is stored in bus_payloads and only
 * its id is notified.
 *
 * Presence: each instance has a row in gateway_instances that it refreshes every heartbeat, and a
 * row in agent_presence per agent it holds. At each heartbeat it also removes instances that
 * stopped refreshing and the presence rows of instances that are no longer registered, and tells
 * its hub (and the others, over the bus) that they are gone.
 */
export class PostgresCluster implements Cluster {
  readonly instanceId = newId();
  readonly #url: DatabaseUrl;
  readonly #log: Logger;
  readonly #heartbeatMs: number;
  readonly #goneAfterMs: number;
  readonly #pool: pg.Pool;
  #handlers: ClusterHandlers | undefined;
  #listener: pg.Client | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #retry: NodeJS.Timeout | undefined;
  /** The end of the outgoing chain: each step is done before the next one starts. */
  #outbox: Promise<void> = Promise.resolve();
  /** The end of the incoming chain. */
  #inbox: Promise<void> = Promise.resolve();
  #closed: Promise<void> | undefined;
  /**
   * Since when this instance's heartbeats have succeeded without a break (undefined while they
   * fail). It judges others only after a whole gone-after period of its own: an instance that just
   * got its database back does not declare gone the others that could not beat meanwhile either.
   */
  #beatingSince: number | undefined;
  /** A heartbeat is under way: a slow database does not pile them up. */
  #beating = false;

  constructor(url: DatabaseUrl, options: PostgresClusterOptions) {
    this.#url = url;
    this.#log = options.log;
    this.#heartbeatMs = options.heartbeatMs ?? INSTANCE_HEARTBEAT_MS;
    this.#goneAfterMs = options.goneAfterMs ?? INSTANCE_GONE_AFTER_MS;
    this.#pool = new pg.Pool({
      connectionString: url.reveal(),
      max: 2,
      connectionTimeoutMillis: 3_000,
      query_timeout: 10_000,
    });
    this.#pool.on("error", (error) => this.#log.warn({ err: error }, "cluster: idle connection lost"));
  }

  async start(handlers: ClusterHandlers): Promise<void> {
    this.#handlers = handlers;
    await this.#pool.query("INSERT INTO gateway_instances (id) VALUES ($1)", [this.instanceId]);
    await this.#listen();
    this.#beatingSince = Date.now();
    this.#heartbeat = setInterval(() => {
      if (this.#beating) return;
      this.#beating = true;
      this.#beat()
        .finally(() => {
          this.#beating = false;
        })
        .catch((error: unknown) => {
          // Logged once per outage; store health already shows the database failing. A beat cut
          // short by close() is no failure.
          if (this.#closed !== undefined) return;
          if (this.#beatingSince !== undefined) this.#log.warn({ err: error }, "cluster: heartbeat failed");
          this.#beatingSince = undefined;
        });
    }, this.#heartbeatMs);
    this.#heartbeat.unref();
  }

  publish(message: BusMessage): void {
    this.#step(() => this.#notify({ from: this.instanceId, message }));
  }

  agentAttached(sessionId: string): void {
    this.#step(async () => {
      await this.#pool.query(
        `INSERT INTO agent_presence (session_id, instance_id) VALUES ($1, $2)
         ON CONFLICT (session_id) DO UPDATE SET instance_id = $2, since = now()`,
        [sessionId, this.instanceId],
      );
      await this.#notify({ from: this.instanceId, message: { type: "agent.attached", sessionId } });
    });
  }

  agentDetached(sessionId: string): void {
    this.#step(async () => {
      await this.#pool.query("DELETE FROM agent_presence WHERE session_id = $1 AND instance_id = $2", [
        sessionId,
        this.instanceId,
      ]);
      await this.#notify({ from: this.instanceId, message: { type: "agent.detached", sessionId } });
    });
  }

  async agentsElsewhere(): Promise<Array<{ sessionId: string; instanceId: string }>> {
    const { rows } = await this.#pool.query<{ session_id: string; instance_id: string }>(
      `SELECT p.session_id, p.instance_id FROM agent_presence p
       JOIN gateway_instances i ON i.id = p.instance_id
       WHERE p.instance_id <> $1 AND i.heartbeat_at >= now() - make_interval(secs => $2)`,
      [this.instanceId, this.#goneAfterMs / 1000],
    );
    return rows.map((row) => ({ sessionId: row.session_id, instanceId: row.instance_id }));
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      clearInterval(this.#heartbeat);
      clearTimeout(this.#retry);
      // The others forget this instance at once; its agents' presence rows stay until a survivor's
      // heartbeat finds them without an instance and starts their resume grace.
      this.publish({ type: "instance.gone", instanceId: this.instanceId });
      this.#step(async () => {
        await this.#pool.query("DELETE FROM gateway_instances WHERE id = $1", [this.instanceId]);
      });
      await this.#outbox;
      const listener = this.#listener;
      this.#listener = undefined;
      await listener?.end().catch(() => undefined);
      await this.#pool.end();
    })();
    return this.#closed;
  }

  /** Queues one outgoing step behind the others; a failure is logged and the chain goes on. */
  #step(work: () => Promise<void>): void {
    this.#outbox = this.#outbox.then(work).catch((error: unknown) => {
      if (this.#closed === undefined) this.#log.warn({ err: error }, "cluster: publishing failed");
    });
  }

  async #notify(envelope: BusEnvelope): Promise<void> {
    const text = JSON.stringify(envelope);
    let payload = `${this.instanceId}${SENDER}${text}`;
    if (Buffer.byteLength(payload) >= NOTIFY_PAYLOAD_LIMIT) {
      const { rows } = await this.#pool.query<{ id: string }>(
        "INSERT INTO bus_payloads (body) VALUES ($1) RETURNING id",
        [text],
      );
      payload = `${this.instanceId}${SENDER}${REFERENCE}${rows[0]?.id}`;
    }
    await this.#pool.query("SELECT pg_notify($1, $2)", [CHANNEL, payload]);
  }

  /** Connects the listener; a lost one reconnects with backoff, and the hub reloads presence. */
  async #listen(attempt = 0): Promise<void> {
    const client = new pg.Client({ connectionString: this.#url.reveal() });
    const lost = (error?: unknown) => {
      if (this.#listener !== client) return;
      this.#listener = undefined;
      this.#log.warn({ err: error }, "cluster: bus connection lost; reconnecting");
      client.end().catch(() => undefined);
      this.#reconnect(1);
    };
    client.on("error", lost);
    client.on("end", () => lost());
    client.on("notification", (notification) => {
      if (notification.channel !== CHANNEL || notification.payload === undefined) return;
      const payload = notification.payload;
      this.#inbox = this.#inbox
        .then(() => this.#receive(payload))
        .catch((error: unknown) => {
          if (this.#closed === undefined) this.#log.warn({ err: error }, "cluster: a bus message was lost");
        });
    });
    this.#listener = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
    } catch (error) {
      this.#listener = undefined;
      client.end().catch(() => undefined);
      if (attempt === 0) throw error;
      this.#log.warn({ err: error }, "cluster: bus connection failed; retrying");
      this.#reconnect(attempt + 1);
      return;
    }
    if (attempt > 0) this.#handlers?.rejoined();
  }

  #reconnect(attempt: number): void {
    if (this.#closed !== undefined) return;
    const delay = Math.min(LISTEN_RETRY.maxMs, LISTEN_RETRY.baseMs * 2 ** (attempt - 1));
    this.#retry = setTimeout(() => {
      this.#listen(attempt).catch(() => undefined);
    }, delay);
    this.#retry.unref();
  }

  async #receive(payload: string): Promise<void> {
    const at = payload.indexOf(SENDER);
    if (at < 0 || payload.slice(0, at) === this.instanceId) return;
    const body = payload.slice(at + SENDER.length);
    let text: string | undefined = body;
    if (body.startsWith(REFERENCE)) {
      const { rows } = await this.#pool.query<{ body: string }>(
        "SELECT body FROM bus_payloads WHERE id = $1",
        [body.slice(REFERENCE.length)],
      );
      text = rows[0]?.body;
      if (text === undefined) {
        this.#log.warn({ payload }, "cluster: a large bus message was gone before it was read");
        return;
      }
    }
    const decoded = decodeMessage(busEnvelopeSchema, text);
    if (!decoded.ok) {
      this.#log.warn({ err: decoded.error }, "cluster: a bus message did not decode");
      return;
    }
    const { from, message } = decoded.value;
    if (from === this.instanceId) return;
    this.#handlers?.message(message, from);
  }

  /** One heartbeat: refresh this instance's row, then clear what instances that stopped held. */
  async #beat(): Promise<void> {
    if (this.#closed !== undefined) return;
    const beat = await this.#pool.query("UPDATE gateway_instances SET heartbeat_at = now() WHERE id = $1", [
      this.instanceId,
    ]);
    if (beat.rowCount === 0) {
      // Declared gone while alive (a pause longer than the others' patience): register again and
      // let the hub announce its agents and views anew.
      await this.#pool.query("INSERT INTO gateway_instances (id) VALUES ($1) ON CONFLICT (id) DO NOTHING", [
        this.instanceId,
      ]);
      this.#log.warn("cluster: this instance had been declared gone; registered again");
      this.#handlers?.rejoined();
    }
    if (this.#beatingSince === undefined) {
      this.#log.info("cluster: heartbeats succeed again");
      this.#beatingSince = Date.now();
    }
    if (Date.now() - this.#beatingSince < this.#goneAfterMs) return;
    const stale = await this.#pool.query<{ id: string }>(
      "DELETE FROM gateway_instances WHERE heartbeat_at < now() - make_interval(secs => $1) RETURNING id",
      [this.#goneAfterMs / 1000],
    );
    const orphans = await this.#pool.query<{ instance_id: string }>(
      `DELETE FROM agent_presence WHERE instance_id NOT IN (SELECT id FROM gateway_instances)
       RETURNING instance_id`,
    );
    await this.#pool.query("DELETE FROM bus_payloads WHERE created_at < now() - make_interval(secs => $1)", [
      PAYLOAD_KEEP_SECONDS,
    ]);
    const gone = new Set([...stale.rows.map((row) => row.id), ...orphans.rows.map((row) => row.instance_id)]);
    gone.delete(this.instanceId);
    for (const instanceId of gone) {
      this.#log.warn({ instance: instanceId }, "cluster: an instance is gone");
      this.publish({ type: "instance.gone", instanceId });
      this.#handlers?.instanceGone(instanceId);
    }
  }
}
