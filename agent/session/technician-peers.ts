/**
 * The technicians' peers of one session: a werift peer per consented technician fed from the one
 * screen stream, their control channels (input gated by consent, the pointer and clipboard
 * watched while someone looks), and the bitrate fitted to their receivers. The session decides who
 * may connect; this module keeps the book of who is connected.
 */
import type { Logger } from "pino";
import type { AgentControl, CursorShape, ReservedCombo, TechnicianControl } from "../../shared/control.ts";
import type { PersonRef } from "../../shared/model.ts";
import type { IceServer } from "../../shared/signal.ts";
import type { AccessMode } from "../../shared/status.ts";
import type { FileLink } from "../files/file-link.ts";
import type { FileTransfers } from "../files/file-transfers.ts";
import type { ClipboardSource } from "../input/clipboard-source.ts";
import { ClipboardWatch } from "../input/clipboard-watch.ts";
import { type CursorSight, cursorShapeMessage, hidesPointer } from "../input/cursor-look.ts";
import { CursorWatch } from "../input/cursor-watch.ts";
import { DesktopWatch, type InputDesktopName } from "../input/desktop-watch.ts";
import type { Injector } from "../input/injector.ts";
import { isInput, RemoteInput } from "../input/remote-input.ts";
import { listMonitors } from "../media/capture.ts";
import { trace, tracing } from "../media/latency-trace.ts";
import type { ScreenStream } from "../media/screen-stream.ts";
import { frameRateFor, nextBitrate } from "../peer/bitrate.ts";
import { FilesConnection } from "../peer/files-connection.ts";
import { loadDataChannel } from "../peer/files-peer.ts";
import { PATH_DEFAULTS } from "../peer/path-watch.ts";
import { ScreenFanout } from "../peer/screen-fanout.ts";
import { TechnicianPeer } from "../peer/technician-peer.ts";
import { codecPreference, sharedCodec, type VideoOffer } from "../peer/video-codec.ts";
import { VideoFanout } from "../peer/video-fanout.ts";
import type { Consents } from "./consents.ts";
import { type Messages, peerEnded } from "./messages.ts";
import { monitorsForState } from "./monitor-state.ts";
import type { SignalingClient } from "./signaling-client.ts";
import { TechnicianFiles } from "./technician-files.ts";
import type { EndUserTerminal } from "./terminal.ts";

export type TechnicianPeersDeps = {
  readonly client: Pick<SignalingClient, "send">;
  readonly stream: ScreenStream;
  readonly injector: Injector;
  /** Where the end user's clipboard changes come from on this platform; none: not watched. */
  readonly clipboardSource: ClipboardSource | undefined;
  /** Reads the input desktop where a secure one can show (Windows); none: not watched. */
  readonly inputDesktop: (() => Promise<InputDesktopName>) | undefined;
  /** Key combinations this platform keeps from programs (told to the console, see shared/control.ts). */
  readonly reserved: readonly ReservedCombo[];
  readonly terminal: Pick<EndUserTerminal, "say" | "asking">;
  readonly messages: Messages;
  readonly log: Logger;
  readonly consents: Consents;
  /** The codecs offered to each technician (the stream is in one they all decode). */
  readonly video: VideoOffer;
  /** The highest video bitrate, bit/s; the technicians' receiver reports may lower it. */
  readonly maxBitrate: number;
  /** The end user's --max-fps: the frame rate never goes above it. */
  readonly maxFps: number;
  /** RFC 7675 consent timeout of each peer (30 s unless a test says otherwise). */
  readonly consentTimeoutMs?: number;
  /** Time for the technician's answer to the first offer (--answer-timeout; 20 s when not given). */
  readonly answerTimeoutMs?: number;
  readonly files: FilesSetting;
  /** The screen copy path (docs/screen-copy-path.md): a `screen` channel per view; true by default. */
  readonly screenCopy?: boolean;
};

/**
 * Where files sent to the end user go (downloads-dir.ts), whether they refuse them all, and how long
 * an interrupted transfer waits for the connection (--files-resume-timeout; FILE_RESUME_WINDOW_MS).
 */
export type FilesSetting = {
  readonly dir: string;
  readonly refused: boolean;
  readonly resumeWindowMs?: number;
};

/** How often the bitrate is fitted to the technicians' estimates. */
const BITRATE_CHECK_MS = 5_000;

type Connected = {
  readonly peer: TechnicianPeer;
  readonly input: RemoteInput;
  readonly technician: PersonRef;
  readonly access: AccessMode;
  /** The control channel is open (the clipboard is watched for controllers from then on). */
  channelOpen: boolean;
  /** The technician's file transfers (technician-files.ts), on this view's `files` channel while it is theirs. */
  readonly files: FileTransfers;
  /** This view's current `files` channel: on filesConnection when there is one, else the view's own. */
  filesLink: FileLink | undefined;
  /** The separate files connection (node-datachannel), made again when lost; none when its addon cannot load. */
  readonly filesConnection: FilesConnection | undefined;
};

export class TechnicianPeers {
  readonly #deps: TechnicianPeersDeps;
  readonly #peers = new Map<string, Connected>();
  readonly #fanout: VideoFanout;
  /** The lossless tiles' stream to the views' `screen` channels; none with --no-screen-copy. */
  readonly #screen: ScreenFanout | undefined;
  readonly #cursor: CursorWatch;
  /** The pointer's look as last reported, ready to send (to each technician whose channel opens). */
  #cursorShape: CursorShape | undefined;
  readonly #clipboard: ClipboardWatch;
  readonly #desktop: DesktopWatch | undefined;
  readonly #bitrateTimer: NodeJS.Timeout;
  #closing = false;
  /** Views being opened while node-datachannel loads, and whether they were closed meanwhile. */
  readonly #opening = new Map<string, boolean>();
  /** node-datachannel's outcome was acted on (the end user told, or its log wired): once. */
  #filesToldOnce = false;
  readonly #files: TechnicianFiles;

  constructor(deps: TechnicianPeersDeps) {
    this.#deps = deps;
    const { resumeWindowMs } = deps.files;
    this.#files = new TechnicianFiles({
      terminal: deps.terminal,
      messages: deps.messages,
      log: deps.log,
      dir: deps.files.dir,
      policy: (technicianId) => this.#filePolicy(technicianId),
      transferred: (technicianId, file) =>
        deps.client.send({ type: "file.transferred", technicianId, ...file }),
      ...(resumeWindowMs === undefined ? {} : { resumeWindowMs }),
    });
    // Loaded before the first view: opening one then waits for nothing.
    void loadDataChannel();
    this.#fanout = new VideoFanout(deps.stream.settings.codec);
    const { stream, log } = deps;
    this.#screen =
      deps.screenCopy === false
        ? undefined
        : new ScreenFanout({
            screenPath(on) {
              log.info({ on }, "screen copy path");
              stream.screenPath(on);
            },
            screenRestart: () => stream.screenRestart(),
          });
    this.#cursor = new CursorWatch(
      deps.injector,
      () => deps.stream.monitor,
      (position) => {
        this.#broadcast({ type: "cursor", ...position });
        deps.stream.activity();
      },
      (error) => deps.log.warn({ err: error }, "pointer position not read"),
    );
    this.#clipboard = new ClipboardWatch(deps.injector, deps.clipboardSource, (text) => {
      for (const connected of this.#peers.values()) {
        if (this.#controls(connected)) connected.peer.sendControl({ type: "clipboard", text });
      }
    });
    const { inputDesktop } = deps;
    this.#desktop =
      inputDesktop === undefined
        ? undefined
        : new DesktopWatch(
            inputDesktop,
            (secure) => {
              deps.log.info({ secure }, "input desktop changed");
              this.#broadcast({ type: "desktop", secure });
            },
            (error) => deps.log.debug({ err: error }, "input desktop not read"),
          );
    this.#bitrateTimer = setInterval(() => this.#fitBitrate(), BITRATE_CHECK_MS);
    deps.stream.on("chunk", (chunk) => this.#fanout.send(chunk));
    deps.stream.on("screen", (messages) => this.#screen?.send(messages));
    deps.stream.on("monitor", () => {
      for (const connected of this.#peers.values()) this.#sendState(connected);
    });
  }

  get size(): number {
    return this.#peers.size;
  }

  /** Releases whatever each technician holds (a consent question is on screen). */
  async releaseAll(): Promise<void> {
    for (const connected of this.#peers.values()) await connected.input.releaseAll();
  }

  /**
   * The pointer's look changed, or a program hid or showed it: every technician is shown the new
   * look; a hidden pointer is reported as not visible (the `cursor` message), so that consoles,
   * older ones too, stop drawing it. A blank look is not sent: the last one stays for its return.
   */
  showCursor(sight: CursorSight): void {
    const hidden = hidesPointer(sight);
    this.#cursor.hidden = hidden;
    if (hidden || !sight.shown || sight.look === undefined) return;
    this.#cursorShape = cursorShapeMessage(sight.look);
    this.#broadcast(this.#cursorShape);
  }

  /** SDP or a candidate from the technician of `peerId`. */
  signal(peerId: string, data: Parameters<TechnicianPeer["handleSignal"]>[0]): void {
    const connected = this.#peers.get(peerId);
    if (connected === undefined) return;
    if (data.peer === "files") {
      try {
        connected.filesConnection?.handleSignal(data);
      } catch (error) {
        this.#deps.log.warn({ err: error, peerId }, "bad files signal from the technician");
      }
      return;
    }
    connected.peer.handleSignal(data).catch((error: unknown) => {
      this.#deps.log.warn({ err: error, peerId }, "bad signal from the technician");
    });
  }

  /** The gateway's fresh TURN credential for an open peer: its next ICE restart uses it. */
  renewIceServers(peerId: string, iceServers: readonly IceServer[]): void {
    const connected = this.#peers.get(peerId);
    if (connected === undefined) return;
    connected.peer.renewIceServers(iceServers);
    connected.filesConnection?.renewIceServers(iceServers);
    // Never the servers themselves: they carry the credential.
    this.#deps.log.debug({ peerId }, "TURN credential renewed");
  }

  /** A consented technician connects (`access` already checked against the consent). */
  async open(
    peerId: string,
    technician: PersonRef,
    access: AccessMode,
    iceServers: readonly IceServer[],
    /** The channel's file size limit (peer.open), for files either way on this peer. */
    maxFileBytes: number,
    /**
     * The console asked for a separate files connection (peer.open): files go over one made with
     * node-datachannel when it loads. Otherwise over the view's own `files` channel (werift).
     */
    filesConnection: boolean,
  ): Promise<void> {
    const { client, stream, log, terminal, messages, video, injector } = this.#deps;
    // The gateway offers a view again after this agent moved to another instance: the same view.
    if (this.#peers.has(peerId) || this.#opening.has(peerId)) return;
    if (this.#closing) return;
    this.#opening.set(peerId, false);
    const dataChannel = await loadDataChannel();
    // Closed while node-datachannel loaded: the view is gone, nothing is made for it.
    const closedMeanwhile = this.#opening.get(peerId) === true;
    this.#opening.delete(peerId);
    if (closedMeanwhile || this.#peers.has(peerId) || this.#closing) return;
    if (filesConnection && !this.#filesToldOnce) {
      this.#filesToldOnce = true;
      if (dataChannel instanceof Error) {
        log.warn(
          { err: dataChannel },
          "node-datachannel not loaded: files go over the view's own connection",
        );
        terminal.say(messages.filesSlow);
      } else {
        // libdatachannel's own warnings (ICE, DTLS, SCTP of the files connections) into the log.
        dataChannel.initLogger("Warning", (level, message) =>
          log.warn({ level }, `libdatachannel: ${message}`),
        );
      }
    }
    // A picture is primed now, replayed once connected; capture waits (it slows ICE and DTLS on 2 cores).
    stream.prime();
    const { consentTimeoutMs, answerTimeoutMs } = this.#deps;
    const timeouts = {
      ...(consentTimeoutMs === undefined ? {} : { consentTimeoutMs }),
      ...(answerTimeoutMs === undefined ? {} : { answerTimeoutMs }),
    };
    const files = this.#files.of(technician, maxFileBytes);
    const ndc = filesConnection && !(dataChannel instanceof Error) ? dataChannel : undefined;
    const separateFiles = ndc === undefined ? undefined : new FilesConnection({ ndc, peerId, iceServers });
    const peer = new TechnicianPeer({
      peerId,
      technician,
      access,
      video,
      iceServers,
      filesChannel: separateFiles === undefined,
      screenChannel: this.#screen !== undefined,
      pace: () => ({ bitrate: stream.settings.bitrate, fps: stream.settings.maxFps }),
      ...timeouts,
    });
    if (separateFiles === undefined && peer.files === undefined)
      throw new Error("a view without a files channel");
    const connected: Connected = {
      peer,
      input: new RemoteInput(injector),
      technician,
      access,
      channelOpen: false,
      files,
      filesLink: peer.files,
      filesConnection: separateFiles,
    };
    // The technician's transfers move to this view's channel (one of an earlier view waits for it).
    if (peer.files !== undefined) files.attach(peer.files);
    this.#peers.set(peerId, connected);
    if (peer.screen !== undefined) this.#screen?.add(peerId, peer.screen);
    peer.on("screen", (message) => this.#screen?.control(peerId, message.type));
    peer.on("screenClosed", () => this.#screen?.closed(peerId));
    log.debug({ peerId, technicianId: technician.id, access }, "peer open: offering");
    peer.on("signal", (data) => {
      if (data.kind === "description")
        log.debug({ peerId, type: data.type }, "description to the technician");
      client.send({ type: "signal", peerId, data });
    });
    separateFiles?.on("signal", (data) => {
      if (data.kind === "description")
        log.debug({ peerId, type: data.type }, "files description to the technician");
      client.send({ type: "signal", peerId, data });
    });
    separateFiles?.on("link", (link) => {
      if (this.#peers.get(peerId) !== connected) return;
      connected.filesLink = link;
      files.attach(link);
    });
    separateFiles?.on("state", (state, detail) => {
      const level = state === "connecting" || state === "open" ? "debug" : "info";
      log[level]({ peerId, state, ...detail }, "files connection");
    });
    separateFiles?.start();
    peer.on("controlOpen", () => {
      connected.channelOpen = true;
      this.#watch();
      void (async () => {
        // The clipboard as it is now stays private: only later copies are sent.
        if (this.#controls(connected)) await this.#clipboard.prime();
        this.#sendState(connected);
        if (this.#cursorShape !== undefined) connected.peer.sendControl(this.#cursorShape);
        const secure = this.#desktop?.secure;
        if (secure !== undefined) connected.peer.sendControl({ type: "desktop", secure });
        this.#cursor.refresh();
      })().catch((error: unknown) =>
        log.error({ err: error, peerId }, "control channel opened, state not sent"),
      );
    });
    peer.on("control", (message) => {
      this.#onControl(connected, message).catch((error: unknown) =>
        log.warn({ err: error, peerId, type: message.type }, "could not apply a control message"),
      );
    });
    peer.on("invalid", (reason) => log.warn({ peerId, reason }, "dropped an invalid control message"));
    peer.on("dropped", (reason, refused) => {
      if (refused) log.warn({ peerId, reason }, "control message not sent");
      else log.debug({ peerId, reason }, "control message not sent");
    });
    peer.on("connected", () => {
      this.#chooseCodec();
      const replayed = this.#fanout.join(peer);
      this.#screen?.view(peerId);
      log.debug({ peerId, replayed }, "peer connected");
      stream.run(true);
      if (!replayed) stream.requestKeyframe();
    });
    peer.on("keyframeNeeded", () => stream.requestKeyframe());
    // Said when it is true: video went out on the connection, not when the view was opened.
    peer.on("mediaFlowing", () => terminal.say(messages.connected(technician.name, access)));
    peer.on("interrupted", (transport) => {
      log.info({ peerId, transport }, "path lost: ICE restart");
      terminal.say(messages.connectionInterrupted(technician.name));
    });
    peer.on("restarting", (transport) => log.info({ peerId, transport }, "path still lost: ICE restart"));
    peer.on("restored", () => {
      this.#chooseCodec();
      log.info({ peerId, transport: peer.transport }, "path restored");
      terminal.say(messages.connectionRestored(technician.name));
    });
    peer.on("closed", (reason) => {
      // Closed by itself (no answer, no path, consent expired), not by close(): tell the gateway.
      if (this.#peers.get(peerId) === connected) void this.close(peerId, reason, true);
    });
    try {
      await peer.start();
    } catch (error) {
      log.warn({ err: error, peerId }, "could not start the peer");
      void this.close(peerId, "failed", true);
      return;
    }
    this.#watch();
  }

  /** Closes one peer; `tellGateway` when the gateway did not ask for it. */
  async close(peerId: string, reason: string, tellGateway: boolean): Promise<void> {
    if (this.#opening.has(peerId)) this.#opening.set(peerId, true);
    const connected = this.#peers.get(peerId);
    if (connected === undefined) return;
    this.#peers.delete(peerId);
    this.#fanout.remove(connected.peer);
    this.#screen?.remove(peerId);
    this.#chooseCodec();
    // Capture only while someone connected watches (one still connecting gets a primed frame).
    if (![...this.#peers.values()].some(({ peer }) => peer.connected)) this.#deps.stream.run(false);
    this.#watch();
    const { client, log, terminal } = this.#deps;
    if (tellGateway) client.send({ type: "peer.closed", peerId, reason });
    log.info({ peerId, reason, transport: connected.peer.transport }, "peer closed");
    const flowed = connected.peer.flowing;
    await connected.input.releaseAll();
    // The technician's transfers wait for their next view (the resume window), unless the end user
    // withdrew every permission: then they stop now, nothing kept.
    if (connected.filesLink !== undefined) connected.files.release(connected.filesLink);
    if (reason === "revoked") connected.files.cancelAll();
    connected.filesConnection?.close();
    await connected.peer.close(reason);
    const seconds = Math.round((this.#deps.consentTimeoutMs ?? PATH_DEFAULTS.consent) / 1000);
    // A view of a technician who has another one open (their console moved to another gateway
    // instance and the old view is closed late) is not the technician leaving.
    const stillThere = [...this.#peers.values()].some(
      (other) => other.technician.id === connected.technician.id,
    );
    if (!this.#closing && !stillThere)
      terminal.say(peerEnded(this.#deps.messages, connected.technician.name, reason, flowed, seconds));
  }

  /** Closes every peer (`tellGateway` as in close()). */
  async closeEach(reason: string, tellGateway: boolean): Promise<void> {
    await Promise.all([...this.#peers.keys()].map((peerId) => this.close(peerId, reason, tellGateway)));
  }

  /** The session ends: every peer closes quietly and the watches stop. Safe to call twice. */
  async closeAll(): Promise<void> {
    this.#closing = true;
    clearInterval(this.#bitrateTimer);
    this.#cursor.running = false;
    this.#clipboard.running = false;
    if (this.#desktop !== undefined) this.#desktop.running = false;
    await this.closeEach("ended", false);
    await this.#files.closeAll();
  }

  /** The end user's `f <path>`: offered to every technician who controls this computer now. */
  offerFile(path: string): void {
    const { terminal, messages } = this.#deps;
    if (path === "") {
      terminal.say(messages.fileUsage);
      return;
    }
    const to = new Set(
      [...this.#peers.values()]
        .filter((connected) => connected.files.linkOpen && this.#controls(connected))
        .map((connected) => connected.files),
    );
    if (to.size === 0) {
      terminal.say(messages.fileNobody);
      return;
    }
    for (const files of to) this.#files.offer(files, path);
  }

  /** The end user's `x`: every transfer either way stops, nothing is kept. */
  cancelFiles(): void {
    this.#deps.terminal.say(this.#deps.messages.filesCancelled(this.#files.cancelAll()));
  }

  /** Whether a technician's file may come in now (undefined), else why not: their latest view decides. */
  #filePolicy(technicianId: string) {
    const { consents, files } = this.#deps;
    const views = [...this.#peers.values()].filter((connected) => connected.technician.id === technicianId);
    const latest = views.at(-1);
    if (latest === undefined || consents.allow(technicianId, latest.access) !== "control")
      return "NO_CONTROL" as const;
    if (files.refused || !consents.filesAllowed(technicianId)) return "FILES_REFUSED" as const;
    return undefined;
  }

  async #onControl(connected: Connected, message: TechnicianControl): Promise<void> {
    if (!this.#peers.has(connected.peer.peerId)) return;
    const { consents, stream, terminal } = this.#deps;
    if (message.type === "monitor") {
      if (consents.allow(connected.technician.id, connected.access) === undefined) return;
      const monitors = listMonitors();
      if (message.index < monitors.length) stream.update({ monitor: message.index });
      return;
    }
    const isClipboard = message.type === "clipboard";
    if (!isClipboard && !isInput(message)) return;
    // Dropped: view only, revoked, or a consent question on screen.
    if (!this.#controls(connected) || terminal.asking) return;
    if (isClipboard) {
      await this.#clipboard.write(message.text);
      return;
    }
    stream.activity();
    if (tracing) trace({ event: "input", kind: message.type, phase: "received" });
    await connected.input.apply(message, stream.monitor);
    if (tracing) trace({ event: "input", kind: message.type, phase: "injected" });
  }

  /** Whether a technician may act on the desktop now (granted control, not revoked). */
  #controls(connected: Connected): boolean {
    return this.#deps.consents.allow(connected.technician.id, connected.access) === "control";
  }

  /**
   * The pointer is watched while anyone looks, the clipboard while someone controls (from their
   * control channel's opening: starting the watcher forks the agent, which would slow the offer).
   */
  #watch(): void {
    if (this.#closing) return;
    const peers = [...this.#peers.values()];
    this.#cursor.running = peers.length > 0;
    if (this.#desktop !== undefined) this.#desktop.running = peers.length > 0;
    this.#clipboard.running = peers.some((connected) => connected.channelOpen && this.#controls(connected));
  }

  /**
   * The stream's codec: the first in the agent's preference that every connected technician
   * decodes (a browser without H.264: VP8). It does not change under a technician who is watching
   * (a receiver fed one codec does not reliably follow a switch on the same stream in Chromium): a
   * technician who cannot decode the codec being watched gets no picture (a warning in the log)
   * until the others have left, then the stream switches for them, with a keyframe.
   */
  #chooseCodec(): void {
    const { stream, video, log } = this.#deps;
    const peers = [...this.#peers.values()].map(({ peer }) => peer).filter((peer) => peer.connected);
    const current = this.#fanout.codec;
    const watched = peers.some(
      (peer) => peer.flowing && peer.codec.usable && peer.codec.accepted.includes(current),
    );
    const codec = watched
      ? current
      : sharedCodec(
          codecPreference(video),
          peers.map((peer) => peer.codec.accepted),
        );
    for (const peer of peers) {
      if (!peer.codec.use(codec))
        log.warn(
          { peerId: peer.peerId, codec, accepted: peer.codec.accepted },
          "the technician's browser cannot decode the video being watched: no picture for them until the others leave",
        );
    }
    if (codec === current) return;
    log.info({ from: current, to: codec }, "video codec switched to one every technician decodes");
    this.#fanout.switchTo(codec);
    stream.update({ codec });
  }

  #fitBitrate(): void {
    if (this.#peers.size === 0) return;
    const { stream, log, maxBitrate, maxFps } = this.#deps;
    const reports = [...this.#peers.values()].map(({ peer }) => peer.receiverReport());
    const current = stream.settings.bitrate;
    const bitrate = nextBitrate(current, reports, maxBitrate);
    log.debug({ current, reports }, "receiver reports");
    // The frame rate is checked too: the monitor (and so the bits a frame needs) may have changed.
    const { width, height } = stream.monitor;
    const fps = frameRateFor(bitrate, width * height, maxFps);
    if (bitrate === current && fps === stream.settings.maxFps) return;
    log.info(
      { from: current, to: bitrate, fps, reports },
      "video bitrate and frame rate fitted to the receivers",
    );
    stream.update({ bitrate, maxFps: fps });
  }

  #sendState(connected: Connected): void {
    const access = this.#deps.consents.allow(connected.technician.id, connected.access) ?? "view";
    const monitors = monitorsForState(listMonitors());
    const { reserved } = this.#deps;
    connected.peer.sendControl({
      type: "state",
      access,
      monitors,
      monitor: this.#deps.stream.monitor.index,
      ...(reserved.length === 0 ? {} : { reserved: [...reserved] }),
    });
  }

  #broadcast(message: AgentControl): void {
    for (const connected of this.#peers.values()) connected.peer.sendControl(message);
  }
}
