/**
 * The files connection of one view, kept up while the view lives: a FilesPeer (files-peer.ts), and
 * when it fails or closes by itself (ICE failure, the network gone for longer than a moment, the
 * technician's side closed it, no answer in time), a new one after a backoff, a bounded number of
 * times, each with the freshest ICE servers and TURN credential the gateway gave this view
 * (`peer.open`, then `peer.ice`). The agent is the offerer each time; the console answers a new
 * `peer: "files"` offer on a new connection. Each new `files` channel is handed out (`link`) for
 * the file transfers to resume on. The states are data (one table of moves).
 */
import { EventEmitter } from "node:events";
import type { Transitions } from "../../shared/lifecycle.ts";
import type { IceServer, SignalData } from "../../shared/signal.ts";
import type { FileLink } from "../files/file-link.ts";
import { FilesPeer, type loadDataChannel } from "./files-peer.ts";

type DataChannelModule = Exclude<Awaited<ReturnType<typeof loadDataChannel>>, Error>;

/**
 * connecting: a FilesPeer offered, its channel not open yet. open: the channel is open. waiting:
 * the last one was lost, the next waits for its backoff. gone: no more tries, or close() was called.
 */
export const FILES_CONNECTION_STATES = ["connecting", "open", "waiting", "gone"] as const;
export type FilesConnectionState = (typeof FILES_CONNECTION_STATES)[number];

export const FILES_CONNECTION_TRANSITIONS: Transitions<FilesConnectionState> = {
  connecting: ["open", "waiting", "gone"],
  open: ["waiting", "gone"],
  waiting: ["connecting", "gone"],
  gone: [],
};

/**
 * The waits before each new files connection after one was lost, in order; their number bounds the
 * tries. They span the file resume window (FILE_RESUME_WINDOW_MS, 2 minutes) with the tries'
 * own connect times. A connection that opens starts the count again.
 */
export const FILES_RECONNECT_DELAYS_MS = [
  1_000, 2_000, 4_000, 8_000, 15_000, 15_000, 15_000, 15_000,
] as const;

/** Time for a files connection's channel to open after its offer, before it counts as lost. */
export const FILES_CONNECT_TIMEOUT_MS = 20_000;

/**
 * How long libdatachannel may say "disconnected" (ICE checks unanswered) before the connection
 * counts as lost and a new one is made: a blip shorter than this goes on on the same connection.
 */
export const FILES_DISCONNECTED_GRACE_MS = 5_000;

export type FilesConnectionEvents = {
  /** SDP offer or ICE candidate for the technician, marked `peer: "files"`. */
  signal: [SignalData];
  /** A new `files` channel (the first, or one made again): not necessarily open yet. */
  link: [FileLink];
  state: [FilesConnectionState, { readonly attempt: number; readonly reason?: string }];
};

export type FilesConnectionOptions = {
  readonly ndc: DataChannelModule;
  readonly peerId: string;
  readonly iceServers: readonly IceServer[];
  readonly delaysMs?: readonly number[];
  readonly connectTimeoutMs?: number;
};

export class FilesConnection extends EventEmitter<FilesConnectionEvents> {
  readonly #options: FilesConnectionOptions;
  #iceServers: readonly IceServer[];
  #state: FilesConnectionState = "connecting";
  #peer: FilesPeer | undefined;
  /** Tries since the last connection that opened. */
  #tries = 0;
  #attempt = 0;
  #timer: NodeJS.Timeout | undefined;
  #disconnected: NodeJS.Timeout | undefined;

  constructor(options: FilesConnectionOptions) {
    super();
    this.#options = options;
    this.#iceServers = options.iceServers;
  }

  get state(): FilesConnectionState {
    return this.#state;
  }

  /** Makes the first connection (after the listeners are on). */
  start(): void {
    if (this.#peer === undefined && this.#state === "connecting") this.#connect();
  }

  /** The gateway's fresh TURN credential for this view: the next connection uses it. */
  renewIceServers(iceServers: readonly IceServer[]): void {
    this.#iceServers = iceServers;
  }

  /** The technician's answer or candidates, for the connection being made now. */
  handleSignal(data: SignalData): void {
    if (this.#state === "gone") return;
    this.#peer?.handleSignal(data);
  }

  /** Closes the connection for good; safe to call twice. */
  close(): void {
    this.#clearTimers();
    const peer = this.#peer;
    this.#peer = undefined;
    if (this.#state !== "gone") this.#set("gone", "closed");
    peer?.close();
  }

  #set(to: FilesConnectionState, reason?: string): void {
    if (!FILES_CONNECTION_TRANSITIONS[this.#state].includes(to))
      throw new Error(`files connection: no transition from ${this.#state} to ${to}`);
    this.#state = to;
    this.emit("state", to, { attempt: this.#attempt, ...(reason === undefined ? {} : { reason }) });
  }

  #clearTimers(): void {
    clearTimeout(this.#timer);
    clearTimeout(this.#disconnected);
    this.#timer = undefined;
    this.#disconnected = undefined;
  }

  #connect(): void {
    this.#attempt += 1;
    const peer = new FilesPeer(this.#options.ndc, this.#options.peerId, this.#iceServers);
    this.#peer = peer;
    peer.on("signal", (data) => {
      if (this.#peer === peer) this.emit("signal", data);
    });
    peer.on("closed", () => this.#lost(peer, "closed"));
    peer.on("state", (state) => {
      if (this.#peer !== peer) return;
      if (state === "disconnected") {
        this.#disconnected ??= setTimeout(
          () => this.#lost(peer, "disconnected"),
          FILES_DISCONNECTED_GRACE_MS,
        );
      } else if (state === "connected") {
        clearTimeout(this.#disconnected);
        this.#disconnected = undefined;
      }
    });
    peer.files.onClose(() => this.#lost(peer, "channel closed"));
    peer.files.onOpen(() => {
      if (this.#peer !== peer || this.#state !== "connecting") return;
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#tries = 0;
      this.#set("open");
    });
    this.#timer = setTimeout(
      () => this.#lost(peer, "no connection in time"),
      this.#options.connectTimeoutMs ?? FILES_CONNECT_TIMEOUT_MS,
    );
    this.emit("link", peer.files);
  }

  /** `peer` failed or closed by itself: a new one after the next wait, while tries are left. */
  #lost(peer: FilesPeer, reason: string): void {
    if (this.#peer !== peer || this.#state === "gone") return;
    this.#clearTimers();
    this.#peer = undefined;
    peer.close();
    const delays = this.#options.delaysMs ?? FILES_RECONNECT_DELAYS_MS;
    const delay = delays[this.#tries];
    if (delay === undefined) {
      this.#set("gone", `${reason}; no tries left`);
      return;
    }
    this.#tries += 1;
    this.#set("waiting", reason);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#state !== "waiting") return;
      this.#set("connecting");
      this.#connect();
    }, delay);
  }
}
