/**
 * The agent's files connection to one technician: a peer connection of its own, made with
 * node-datachannel (libdatachannel: native SCTP and DTLS), carrying only the `files` data channel.
 * werift, which carries the view's video and control, moves ~3-5 MB/s of data on loopback (pure
 * JavaScript SCTP/DTLS, ~150 µs of CPU per 1.2 KB packet); libdatachannel moves more than ten times
 * that (docs/decisions.md, "Files over node-datachannel"). Signaled through the view's own signals,
 * marked `peer: "files"` (shared/signal.ts); the agent offers, the console answers.
 *
 * The addon is loaded on first use (loadDataChannel): an agent whose executable lacks it still
 * runs, and sends files over the view's own werift `files` channel instead.
 */
import { EventEmitter } from "node:events";
import type { DataChannel, IceServer as NdcIceServer, PeerConnection } from "node-datachannel";
import { FILES_CHANNEL_LABEL } from "../../shared/file-transfer.ts";
import type { IceServer, SignalData } from "../../shared/signal.ts";
import type { FileLink } from "../files/file-link.ts";
import { urlKind } from "./ice-servers.ts";

type DataChannelModule = typeof import("node-datachannel");

let loading: Promise<DataChannelModule | Error> | undefined;

/** node-datachannel, or why it could not be loaded (the addon missing or not for this system). */
export function loadDataChannel(): Promise<DataChannelModule | Error> {
  loading ??= import("node-datachannel").then(
    (module) => (module as { default?: DataChannelModule }).default ?? module,
    (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
  );
  return loading;
}

/** `host:port` or `[v6]:port` of a STUN/TURN URL (3478 by default, 5349 for turns:). */
function hostAndPort(url: string): { hostname: string; port: number } | undefined {
  const matched = /^[a-z]+:(\[[^\]]+\]|[^:?]+)(?::(\d+))?(?:\?.*)?$/i.exec(url.trim());
  if (matched === null) return undefined;
  const hostname = (matched[1] ?? "").replace(/^\[|\]$/g, "");
  const fallback = url.toLowerCase().startsWith("turns:") ? 5349 : 3478;
  return { hostname, port: matched[2] === undefined ? fallback : Number(matched[2]) };
}

const RELAY_TYPES = { udp: "TurnUdp", tcp: "TurnTcp", tls: "TurnTls" } as const;

/** The gateway's ICE servers as libdatachannel takes them: every STUN and TURN URL, none added. */
export function dataChannelIceServers(servers: readonly IceServer[]): NdcIceServer[] {
  return servers.flatMap((server) =>
    server.urls.flatMap((url): NdcIceServer[] => {
      const kind = urlKind(url);
      const at = hostAndPort(url);
      if (kind === undefined || at === undefined) return [];
      if (kind === "stun") return [at];
      if (server.username === undefined || server.credential === undefined) return [];
      return [
        { ...at, username: server.username, password: server.credential, relayType: RELAY_TYPES[kind] },
      ];
    }),
  );
}

export type FilesPeerEvents = {
  /** SDP offer or ICE candidate for the technician, marked `peer: "files"`. */
  signal: [SignalData];
  /** libdatachannel's connection state, as it changes. */
  state: [string];
  /** The connection failed or closed by itself. */
  closed: [];
};

export class FilesPeer extends EventEmitter<FilesPeerEvents> {
  /** The `files` channel, as the file transfers see it. */
  readonly files: FileLink;
  readonly #pc: PeerConnection;
  readonly #channel: DataChannel;
  /** Failed or closed, by itself or by close(): `closed` was emitted or is not to be. */
  #closed = false;
  /** close() was called. */
  #shut = false;
  /**
   * Our candidates, held until the technician's answer is set; null from then on. A browser that
   * knows our address makes ICE writable and starts DTLS before its answer has reached us (the
   * answer takes the longer way, through the gateway); when that handshake meets the answer being
   * set, libdatachannel checks the browser's certificate before it holds the answer's fingerprint
   * ("certificate verify failed") and the files connection fails for good. Held, the browser
   * cannot reach us before the answer is set (tests/agent/files-peer.test.ts).
   */
  #held: SignalData[] | null = [];
  /**
   * The technician's candidates that came before their answer (libdatachannel refuses a candidate
   * without a remote description), added right after it; null once the answer is set.
   */
  #early: Array<{ candidate: string; mid: string }> | null = [];

  constructor(ndc: DataChannelModule, peerId: string, iceServers: readonly IceServer[]) {
    super();
    this.#pc = new ndc.PeerConnection(`files-${peerId}`, {
      iceServers: dataChannelIceServers(iceServers),
      // Room for FILE_MESSAGE_BYTES frames either way (libdatachannel's default is 256 KiB too).
      maxMessageSize: 256 * 1024,
    });
    this.#pc.onLocalDescription((sdp, type) => {
      if (type === "offer") this.emit("signal", { kind: "description", type, sdp, peer: "files" });
    });
    this.#pc.onLocalCandidate((candidate, mid) => {
      const signal: SignalData = {
        kind: "candidate",
        candidate: candidate.replace(/^a=/, ""),
        sdpMid: mid,
        sdpMLineIndex: 0,
        peer: "files",
      };
      if (this.#held === null) this.emit("signal", signal);
      else this.#held.push(signal);
    });
    this.#pc.onStateChange((state) => {
      this.emit("state", state);
      if ((state === "failed" || state === "closed") && !this.#closed) {
        this.#closed = true;
        this.emit("closed");
      }
    });
    // Creating the channel starts the negotiation: the offer comes as a local description.
    this.#channel = this.#pc.createDataChannel(FILES_CHANNEL_LABEL, { negotiated: false });
    this.files = fileLinkOfDataChannel(this.#channel);
  }

  /** The technician's answer or candidates for this connection. */
  handleSignal(data: SignalData): void {
    if (this.#closed) return;
    if (data.kind === "description") {
      if (data.type !== "answer") return;
      this.#pc.setRemoteDescription(data.sdp, "answer");
      const waiting = this.#early ?? [];
      this.#early = null;
      for (const { candidate, mid } of waiting) this.#pc.addRemoteCandidate(candidate, mid);
      const held = this.#held ?? [];
      this.#held = null;
      for (const signal of held) this.emit("signal", signal);
      return;
    }
    if (data.candidate === "") return;
    const candidate = { candidate: data.candidate, mid: data.sdpMid ?? "0" };
    if (this.#early !== null) this.#early.push(candidate);
    else this.#pc.addRemoteCandidate(candidate.candidate, candidate.mid);
  }

  /**
   * Closes the channel and the connection; safe to call twice. One that failed or closed by itself
   * is closed here too: libdatachannel keeps its threads for it until then (ndc.cleanup() waits).
   */
  close(): void {
    if (this.#shut) return;
    this.#shut = true;
    this.#closed = true;
    try {
      this.#channel.close();
    } finally {
      this.#pc.close();
    }
  }
}

/**
 * node-datachannel's data channel as a FileLink (file-link.ts). It takes the channel's message,
 * buffered-amount-low, open, closed and error callbacks (node-datachannel keeps one of each).
 */
export function fileLinkOfDataChannel(channel: DataChannel): FileLink {
  const lowListeners = new Set<() => void>();
  const messageListeners: ((data: string | Buffer) => void)[] = [];
  const closeListeners: (() => void)[] = [];
  const openListeners: (() => void)[] = [];
  let closed = false;
  const flushLow = () => {
    const waiting = [...lowListeners];
    lowListeners.clear();
    for (const listener of waiting) listener();
  };
  channel.onBufferedAmountLow(flushLow);
  channel.onMessage((data) => {
    const message = typeof data === "string" || Buffer.isBuffer(data) ? data : Buffer.from(data);
    for (const listener of messageListeners) listener(message);
  });
  const ended = () => {
    if (closed) return;
    closed = true;
    // Closed while waiting: the sender finds the channel shut and stops.
    flushLow();
    for (const listener of closeListeners) listener();
  };
  channel.onClosed(ended);
  channel.onError(ended);
  channel.onOpen(() => {
    if (closed) return;
    for (const listener of openListeners.splice(0)) listener();
  });
  return {
    get open() {
      return !closed && channel.isOpen();
    },
    get bufferedAmount() {
      return closed ? 0 : channel.bufferedAmount();
    },
    send(data) {
      if (closed || !channel.isOpen()) return;
      try {
        if (typeof data === "string") channel.sendMessage(data);
        else channel.sendMessageBinary(data);
      } catch {
        // Closed by libdatachannel's own thread between the check and the send: dropped (FileLink).
      }
    },
    whenLow(threshold, listener) {
      if (closed) {
        listener();
        return;
      }
      channel.setBufferedAmountLowThreshold(threshold);
      lowListeners.add(listener);
      // Fallen below meanwhile (the event fires only on the way down): go on now.
      if (channel.bufferedAmount() <= threshold) flushLow();
    },
    onMessage: (listener) => void messageListeners.push(listener),
    onClose: (listener) => void closeListeners.push(listener),
    onOpen(listener) {
      if (!closed && channel.isOpen()) queueMicrotask(listener);
      else openListeners.push(listener);
    },
  };
}
