/**
 * Keeps the DTLS records that reach a werift peer before its DTLS transport has started, and hands
 * them over once it has.
 *
 * Why: the agent offers, so it is the ICE controlling side and, with Chromium answering
 * `a=setup:active`, the DTLS server. Chromium sends its ClientHello as soon as its side of ICE is
 * up, which on loopback is a few milliseconds before werift reports ICE connected and creates its
 * DTLS server; werift drops what arrives in between (nothing listens yet), and Chromium only
 * retransmits after its timer (measured 100-430 ms). Replaying the held records lets the
 * handshake go on at once. Not needed on the werift side of a werift technician (that client
 * waits before its first ClientHello), and harmless there.
 */
import type { RTCPeerConnection } from "werift";

/** Enough for a fragmented ClientHello and its retransmissions; anything beyond is dropped. */
const MAX_HELD = 16;

/** A DTLS record header is 13 bytes. */
const RECORD_HEADER_BYTES = 13;

/**
 * DTLS records start with a content type in [20, 63] (RFC 7983 demultiplexing); anything shorter
 * than a record header is not kept (werift's parser would throw on it).
 */
function isDtlsRecord(packet: Buffer): boolean {
  const first = packet[0] ?? 0;
  return first >= 20 && first <= 63 && packet.length >= RECORD_HEADER_BYTES;
}

/**
 * Call after setLocalDescription (the ICE and DTLS transports exist from then on). Holds DTLS
 * records until the DTLS transport leaves "new"; then replays them into the ICE connection, where
 * the freshly created DTLS endpoint now listens. Does nothing for a peer without transports.
 */
export function holdEarlyDtls(pc: RTCPeerConnection): void {
  const ice = pc.iceTransports[0]?.connection;
  const dtls = pc.dtlsTransports[0];
  if (ice === undefined || dtls === undefined || dtls.state !== "new") return;
  const held: Buffer[] = [];
  const holding = ice.onData.subscribe((packet) => {
    if (dtls.state === "new" && isDtlsRecord(packet) && held.length < MAX_HELD) held.push(packet);
  });
  const started = dtls.onStateChange.subscribe((state) => {
    if (state === "new") return;
    holding.unSubscribe();
    started.unSubscribe();
    if (state !== "connecting") return;
    // werift creates its DTLS endpoint synchronously right after announcing "connecting".
    queueMicrotask(() => {
      for (const packet of held.splice(0)) {
        try {
          ice.onData.execute(packet);
        } catch {
          // A record werift cannot parse (anyone can send to the ICE port): dropped, as werift would.
        }
      }
    });
  });
}
