import type { RemotePath } from "../../../shared/console-protocol.ts";

/** The quality line of the remote view, read from the peer connection's getStats(). */

export type Quality = {
  fps: number | null;
  kbps: number | null;
  /** The `screen` channel's rate (the lossless overlay), beside the video's; null without one. */
  screenKbps: number | null;
  rttMs: number | null;
  codec: string | null;
  width: number | null;
  height: number | null;
  framesDecoded: number;
  /** Which way the media flows (the selected pair's local candidate); null before a pair is chosen. */
  path: RemotePath | null;
};

export type QualitySample = { quality: Quality; bytes: number; screenBytes: number | null; at: number };

const num = (value: unknown): number | null =>
  typeof value === "number" && Number.isFinite(value) ? value : null;
const str = (value: unknown): string | null => (typeof value === "string" ? value : null);

/**
 * The path of the selected candidate pair, as the technician's browser sends and receives: through
 * the TURN relay when our local candidate is a relay candidate (reached over its relay protocol:
 * udp, tcp or tls); through the relay over UDP when only the agent's candidate is a relay one (we
 * send to the relay's UDP relayed address); else direct (host, server- or peer-reflexive).
 */
export function pathOf(
  byId: ReadonlyMap<string, Record<string, unknown>>,
  pair: Record<string, unknown>,
): RemotePath | null {
  const localId = str(pair.localCandidateId);
  const remoteId = str(pair.remoteCandidateId);
  const local = localId === null ? undefined : byId.get(localId);
  const remote = remoteId === null ? undefined : byId.get(remoteId);
  if (local === undefined) return null;
  if (local.candidateType !== "relay") return remote?.candidateType === "relay" ? "relay-udp" : "direct";
  switch (str(local.relayProtocol)) {
    case "udp":
      return "relay-udp";
    case "tcp":
      return "relay-tcp";
    case "tls":
      return "relay-tls";
    default:
      return null;
  }
}

/**
 * Reads the stats; the previous sample gives the bitrate over the interval between the two.
 * `screenBytes`: what the view's `screen` link counted so far (null while there is none); counted
 * there rather than read from getStats, whose data channel entries not every browser has.
 */
export async function sampleQuality(
  connection: RTCPeerConnection,
  previous: QualitySample | null,
  screenBytes: number | null,
): Promise<QualitySample> {
  const report = await connection.getStats();
  let inbound: Record<string, unknown> = {};
  let selected: Record<string, unknown> = {};
  let selectedId: string | null = null;
  const byId = new Map<string, Record<string, unknown>>();
  for (const value of report.values()) {
    const entry: Record<string, unknown> = value;
    const id = str(entry.id);
    if (id !== null) byId.set(id, entry);
    if (entry.type === "inbound-rtp" && entry.kind === "video") inbound = entry;
    if (entry.type === "transport") selectedId = str(entry.selectedCandidatePairId) ?? selectedId;
    if (entry.type === "candidate-pair" && entry.state === "succeeded" && entry.nominated === true) {
      selected = entry;
    }
  }
  // The transport names its selected pair; without that field, the nominated pair that succeeded.
  if (selectedId !== null) selected = byId.get(selectedId) ?? selected;
  const codecId = str(inbound.codecId);
  const mime = codecId === null ? null : str(byId.get(codecId)?.mimeType);
  const bytes = num(inbound.bytesReceived) ?? 0;
  const at = num(inbound.timestamp) ?? performance.now();
  // A new peer starts its byte count again: no bitrate across that seam.
  const seconds = previous === null || previous.bytes > bytes ? 0 : (at - previous.at) / 1000;
  const rtt = num(selected.currentRoundTripTime);
  const screenBefore = previous?.screenBytes ?? null;
  const screenKbps =
    screenBytes === null
      ? null
      : screenBefore === null || screenBefore > screenBytes || !(seconds > 0)
        ? 0
        : Math.round(((screenBytes - screenBefore) * 8) / seconds / 1000);
  return {
    bytes,
    screenBytes,
    at,
    quality: {
      fps: num(inbound.framesPerSecond),
      kbps: seconds > 0 ? Math.round(((bytes - (previous?.bytes ?? 0)) * 8) / seconds / 1000) : null,
      screenKbps,
      rttMs: rtt === null ? null : Math.round(rtt * 1000),
      codec: mime === null ? null : mime.replace(/^video\//i, ""),
      width: num(inbound.frameWidth),
      height: num(inbound.frameHeight),
      framesDecoded: num(inbound.framesDecoded) ?? 0,
      path: pathOf(byId, selected),
    },
  };
}
