/**
 * What the gateway hands peers to reach each other: the `--ice-url` list for everyone (the agent's
 * welcome), and for the two parties of one remote view that list plus the TURN relay's URLs with a
 * credential minted for that view's peer id alone (TURN REST scheme, credentials.ts).
 *
 * The credential lives `--turn-ttl` seconds, capped at the session's channel expiry (a session that
 * has lost its agent lives at most that long; while its agent is connected it has no end of its
 * own). coturn cannot revoke a credential: a view or session that closes leaves its credential
 * valid until its expiry, which is why it is short, per peer, and renewed only while its view is
 * open (Viewing: `remote.ice` / `peer.ice` at 80 % of its lifetime).
 */
import { z } from "zod";
import type { IceServer } from "../../shared/signal.ts";
import type { Clock } from "../clock.ts";
import { mintTurnCredential } from "./credentials.ts";
import type { TurnSecret } from "./secret.ts";

/**
 * `--turn-ttl` default: 10 minutes. An open view gets a fresh credential at 80 % of that (8 min),
 * which leaves 2 minutes for a renewal that failed (the store busy) to be retried; a closed view's
 * credential can start a relay allocation for at most 10 minutes after it was minted.
 */
export const DEFAULT_TURN_TTL_SECONDS = 10 * 60;
/** The longest `--turn-ttl` accepted: a day; anything longer is a long-lived password. */
export const MAX_TURN_TTL_SECONDS = 24 * 3600;

const TURN_URL = /^(turns?):(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?(?:\?transport=(udp|tcp))?$/;

export type TurnTransport = "udp" | "tcp" | "tls";

/**
 * How a TURN URL is reached, as werift and browsers read it: `turns:` is TLS (over TCP),
 * `turn:…?transport=tcp` is TCP, `turn:` otherwise UDP. Undefined for anything not a TURN URL.
 */
export function turnTransportOf(url: string): TurnTransport | undefined {
  const match = TURN_URL.exec(url);
  if (match === null) return undefined;
  const [, scheme, , port, transport] = match;
  if (port !== undefined && Number(port) > 65_535) return undefined;
  if (scheme === "turns") return transport === "udp" ? undefined : "tls";
  return transport === "tcp" ? "tcp" : "udp";
}

/** One `--turn-url`: `turn:<host>[:port][?transport=udp|tcp]` or `turns:<host>[:port][?transport=tcp]`. */
export const turnUrlSchema = z
  .string()
  .refine(
    (url) => turnTransportOf(url) !== undefined,
    "not a TURN URL: turn:<host>[:port][?transport=udp|tcp] or turns:<host>[:port][?transport=tcp]",
  );

const TRANSPORT_ORDER: Readonly<Record<TurnTransport, number>> = { udp: 0, tcp: 1, tls: 2 };

/**
 * UDP first, then TCP, then TLS, each kind in the order given: the fast path first. (werift uses
 * only the first TURN URL it is handed, so the agent picks from this list per network; browsers
 * try them all.)
 */
export function orderTurnUrls(urls: readonly string[]): string[] {
  const rank = (url: string) => TRANSPORT_ORDER[turnTransportOf(url) ?? "udp"];
  return [...urls].sort((a, b) => rank(a) - rank(b));
}

export type TurnRelay = {
  readonly urls: readonly string[];
  readonly secret: TurnSecret;
  readonly ttlSeconds: number;
};

export type PeerIceServers = {
  readonly iceServers: IceServer[];
  /** When the peer's TURN credential expires (ms since the epoch); absent without a relay. */
  readonly relayExpiresAt?: number;
};

export type IceServersDeps = {
  /** `--ice-url`: STUN (or credential-less TURN) URLs for everyone. */
  readonly iceUrls: readonly string[];
  readonly relay: TurnRelay | undefined;
  readonly clock: Clock;
  /** The longest a session can live without its agent (its channel's expiry), in seconds. */
  readonly sessionLifetimeSeconds: (sessionId: string) => Promise<number | undefined>;
};

export class IceServers {
  readonly #d: IceServersDeps;
  readonly #turnUrls: readonly string[];

  constructor(deps: IceServersDeps) {
    this.#d = deps;
    this.#turnUrls = orderTurnUrls(deps.relay?.urls ?? []);
  }

  /** For the agent's welcome: the `--ice-url` list, never a TURN credential. */
  general(): IceServer[] {
    return this.#d.iceUrls.length === 0 ? [] : [{ urls: [...this.#d.iceUrls] }];
  }

  /** For one remote view's two parties: the general list plus the relay with a fresh credential. */
  async forPeer(peer: { readonly peerId: string; readonly sessionId: string }): Promise<PeerIceServers> {
    const { relay, clock } = this.#d;
    const general = this.general();
    if (relay === undefined) return { iceServers: general };
    const lifetime = (await this.#d.sessionLifetimeSeconds(peer.sessionId)) ?? relay.ttlSeconds;
    const minted = mintTurnCredential({
      secret: relay.secret.reveal(),
      ttlSeconds: Math.max(1, Math.min(relay.ttlSeconds, Math.floor(lifetime))),
      id: peer.peerId,
      now: clock.now(),
    });
    return {
      iceServers: [
        ...general,
        { urls: [...this.#turnUrls], username: minted.username, credential: minted.credential },
      ],
      relayExpiresAt: minted.expiresAt,
    };
  }
}
