import type { Logger } from "pino";

/**
 * A client's mistakes (a malformed request, an invalid WebSocket frame, a dropped connection) are
 * the client's, not the gateway's: they are logged at info level, as one short line without a stack
 * trace, and within a budget per address, so one anonymous client cannot flood the log or bury the
 * gateway's own faults. Past the budget one line says that the address's faults are suppressed,
 * and the first fault after the window says how many were. The address is the client's as the
 * gateway takes it (behind a trusted proxy, the one it names) where a request was read: a socket's
 * faults and a request cut short; a request the parser refused and a refused handshake have only
 * the connection's own address.
 */

export type ClientFault = {
  /** The client's address; undefined when the connection was gone before it could be read. */
  address: string | undefined;
  /** A short stable name: the parser's or WebSocket layer's error code, e.g. HPE_INVALID_METHOD. */
  fault: string;
  /** What was wrong, for people. */
  reason: string;
};

export type ClientFaultLogOptions = {
  /** Lines per address per window (default 10). */
  perAddress?: number;
  /** Lines over all addresses per window (default 200), against floods from many addresses. */
  overall?: number;
  windowMs?: number;
  /** Addresses remembered at once (default 1024); the oldest is forgotten first. */
  maxAddresses?: number;
  now?: () => number;
};

type Budget = { windowStart: number; logged: number; suppressed: number };

const UNKNOWN_ADDRESS = "unknown";

/** The error code Node, llhttp and ws put on their errors (`code`), or the error's name. */
export function faultName(error: Error): string {
  const code: unknown = "code" in error ? error.code : undefined;
  return typeof code === "string" ? code : error.name;
}

/** Whether an error on a connection is the client's doing rather than the gateway's. */
export function isClientFault(error: Error): boolean {
  const name = faultName(error);
  return (
    name.startsWith("WS_ERR_") ||
    name.startsWith("HPE_") ||
    name === "ECONNRESET" ||
    name === "EPIPE" ||
    name === "ECONNABORTED" ||
    name === "ETIMEDOUT" ||
    name === "ERR_HTTP_REQUEST_TIMEOUT" ||
    name === "ERR_STREAM_PREMATURE_CLOSE"
  );
}

export class ClientFaultLog {
  readonly #log: Logger;
  readonly #perAddress: number;
  readonly #overall: Budget = { windowStart: 0, logged: 0, suppressed: 0 };
  readonly #overallMax: number;
  readonly #windowMs: number;
  readonly #maxAddresses: number;
  readonly #now: () => number;
  readonly #budgets = new Map<string, Budget>();

  constructor(log: Logger, options: ClientFaultLogOptions = {}) {
    this.#log = log;
    this.#perAddress = options.perAddress ?? 10;
    this.#overallMax = options.overall ?? 200;
    this.#windowMs = options.windowMs ?? 60_000;
    this.#maxAddresses = options.maxAddresses ?? 1024;
    this.#now = options.now ?? Date.now;
  }

  report(fault: ClientFault): void {
    const now = this.#now();
    const address = fault.address ?? UNKNOWN_ADDRESS;
    const budget = this.#budgetOf(address, now);
    this.#roll(this.#overall, now, { overall: true });
    this.#roll(budget, now, { address });
    if (budget.logged >= this.#perAddress) {
      this.#suppress(budget, { address }, "client faults from this address suppressed for a while");
      return;
    }
    if (this.#overall.logged >= this.#overallMax) {
      this.#suppress(this.#overall, { overall: true }, "client faults suppressed for a while");
      return;
    }
    budget.logged += 1;
    this.#overall.logged += 1;
    this.#log.info({ address, fault: fault.fault, reason: fault.reason.slice(0, 200) }, "client fault");
  }

  #budgetOf(address: string, now: number): Budget {
    let budget = this.#budgets.get(address);
    if (budget === undefined) {
      if (this.#budgets.size >= this.#maxAddresses) {
        const oldest = this.#budgets.keys().next();
        if (oldest.done !== true) this.#budgets.delete(oldest.value);
      }
      budget = { windowStart: now, logged: 0, suppressed: 0 };
      this.#budgets.set(address, budget);
    }
    return budget;
  }

  /** Starts a new window once the last one is over, saying how many faults it suppressed. */
  #roll(budget: Budget, now: number, fields: Record<string, unknown>): void {
    if (now - budget.windowStart < this.#windowMs) return;
    if (budget.suppressed > 0) {
      this.#log.info(
        { ...fields, suppressed: budget.suppressed },
        `${budget.suppressed} client faults were suppressed`,
      );
    }
    budget.windowStart = now;
    budget.logged = 0;
    budget.suppressed = 0;
  }

  #suppress(budget: Budget, fields: Record<string, unknown>, message: string): void {
    if (budget.suppressed === 0) this.#log.info({ ...fields, windowMs: this.#windowMs }, message);
    budget.suppressed += 1;
  }
}
