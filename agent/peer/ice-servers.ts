/**
 * The ICE servers werift gets: exactly those the gateway named, one TURN transport per attempt.
 *
 * werift 0.25.2 (node_modules/werift/lib) takes only the first `stun:` and the first `turn:`/`turns:`
 * URL of the whole list (webrtc/src/utils.js, parseIceServers) and never moves on to another TURN
 * URL; its only fallback is a failed UDP allocation retried once over TCP to the same host and port
 * (ice/src/ice.js, getCandidatePromises). So the agent chooses the list per attempt: the first
 * attempt offers host, STUN-reflexive and TURN/UDP candidates; each ICE restart moves to another
 * TURN transport (TCP, then TLS), giving the order direct, STUN, TURN/UDP, TURN/TCP, TURN/TLS, less
 * a TURN/TCP attempt that werift's UDP-to-TCP fallback already tried (attemptCovers).
 *
 * And whenever its list holds no `stun:` URL, werift asks Google's public STUN server
 * (ice/src/ice.js: `DEFAULT_STUN_SERVER`, applied in applyStunTurnServersFromOptions as
 * `validateAddress(options.stunServer) ?? DEFAULT_STUN_SERVER`); no option turns that off
 * (werift-webrtc issue 691, open). `withoutDefaultStun` keeps that default out.
 */
import type { RTCPeerConnection } from "werift";
import type { IceServer } from "../../shared/signal.ts";

/** An ICE server as werift's RTCPeerConnection takes it. */
export type WeriftIceServer = { urls: string[]; username?: string; credential?: string };

export const TURN_TRANSPORTS = ["udp", "tcp", "tls"] as const;
export type TurnTransport = (typeof TURN_TRANSPORTS)[number];

/** What werift would make of a URL (webrtc/src/utils.js, parseIceServerUrl); undefined if it drops it. */
export function urlKind(url: string): "stun" | TurnTransport | undefined {
  const matched = /^(stuns?|turns?):([^?]+)(?:\?(.*))?$/i.exec(url.trim());
  if (matched === null) return undefined;
  const scheme = (matched[1] ?? "").toLowerCase();
  if (scheme === "stun" || scheme === "stuns") return "stun";
  const transport = new URLSearchParams(matched[3] ?? "").get("transport");
  if (scheme === "turns") return transport === null || transport === "tcp" ? "tls" : undefined;
  if (transport === null || transport === "udp") return "udp";
  return transport === "tcp" ? "tcp" : undefined;
}

function entry(urls: string[], from: IceServer): WeriftIceServer {
  return {
    urls,
    ...(from.username === undefined ? {} : { username: from.username }),
    ...(from.credential === undefined ? {} : { credential: from.credential }),
  };
}

/**
 * The ICE server list of each connection attempt, in order: every STUN URL the gateway named,
 * plus the first TURN URL of one transport (UDP, then TCP, then TLS). Without TURN URLs there is
 * one attempt (STUN only, or nothing at all: host candidates). Never a server the gateway did not
 * name.
 */
export function iceAttempts(servers: readonly IceServer[]): WeriftIceServer[][] {
  const stun: WeriftIceServer[] = [];
  const turn = new Map<TurnTransport, WeriftIceServer>();
  for (const server of servers) {
    const stunUrls = server.urls.filter((url) => urlKind(url) === "stun");
    if (stunUrls.length > 0) stun.push({ urls: stunUrls });
    for (const url of server.urls) {
      const kind = urlKind(url);
      if (kind === undefined || kind === "stun" || turn.has(kind)) continue;
      // werift gathers a relay candidate only with a username and a credential.
      if (server.username !== undefined && server.credential !== undefined)
        turn.set(kind, entry([url], server));
    }
  }
  const attempts = TURN_TRANSPORTS.flatMap((transport) => {
    const relay = turn.get(transport);
    return relay === undefined ? [] : [[...stun, relay]];
  });
  return attempts.length > 0 ? attempts : [stun];
}

/** The TURN URL of an attempt's list (undefined without TURN). */
function turnUrlOf(attempt: readonly WeriftIceServer[]): string | undefined {
  return attempt
    .flatMap((server) => server.urls)
    .find((url) => {
      const kind = urlKind(url);
      return kind !== undefined && kind !== "stun";
    });
}

/** `host:port` of a `turn:` URL (3478 when it names no port, as werift assumes for `turn:`). */
function turnAddress(url: string): string {
  const hostPort = /^turns?:([^?]+)/i.exec(url.trim())?.[1] ?? "";
  return /^(\[[^\]]*\]|[^:[\]]+):\d+$/.test(hostPort) ? hostPort : `${hostPort}:3478`;
}

/**
 * Which other attempts each attempt already tries (an index list per attempt): werift retries a
 * TURN/UDP allocation that got no answer over TCP to the same host and port (ice/src/ice.js,
 * getCandidatePromises), so a TURN/UDP attempt also tries the TURN/TCP attempt with that address.
 * After a break, one that came back without a relay makes the other pointless for that round
 * (path-watch.ts, attemptOrder).
 */
export function attemptCovers(attempts: readonly (readonly WeriftIceServer[])[]): number[][] {
  const turn = attempts.map((attempt) => {
    const url = turnUrlOf(attempt);
    return url === undefined ? undefined : { kind: urlKind(url), address: turnAddress(url) };
  });
  return turn.map((own) =>
    own?.kind !== "udp"
      ? []
      : turn.flatMap((other, j) => (other?.kind === "tcp" && other.address === own.address ? [j] : [])),
  );
}

/** The TURN transport an attempt's list uses, for the log ("none" without TURN). */
export function attemptTransport(attempt: readonly WeriftIceServer[]): TurnTransport | "none" {
  const url = turnUrlOf(attempt);
  const kind = url === undefined ? undefined : urlKind(url);
  return kind === undefined || kind === "stun" ? "none" : kind;
}

/**
 * Keeps werift's default STUN server out of `pc`'s ICE connections: the server werift falls back
 * to when no `stun:` URL was configured is never set, so no Binding request (and no DNS lookup) goes
 * to a host the gateway did not name. werift sets `Connection.stunServer` in its constructor and on
 * every setIceServers (ICE restart with a new configuration); the property becomes an accessor that
 * takes werift's value only when a STUN server was configured (`options.stunServer`). Call it once
 * the transports exist (werift creates them with the first transceiver) and before gathering
 * (setLocalDescription); calling it again is harmless.
 */
export function withoutDefaultStun(pc: RTCPeerConnection): void {
  for (const transport of pc.iceTransports) {
    const connection = transport.connection;
    const descriptor = Object.getOwnPropertyDescriptor(connection, "stunServer");
    if (descriptor?.get !== undefined) continue;
    let configured = connection.options.stunServer === undefined ? undefined : connection.stunServer;
    Object.defineProperty(connection, "stunServer", {
      configurable: true,
      enumerable: true,
      get: () => configured,
      set: (value: typeof connection.stunServer) => {
        configured = connection.options.stunServer === undefined ? undefined : value;
      },
    });
  }
}
