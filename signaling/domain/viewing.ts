import type { RemoteCloseReason, RemotePath } from "../../shared/console-protocol.ts";
import { SosError } from "../../shared/errors.ts";
import type { TransferredFile } from "../../shared/file-transfer.ts";
import { FILE_REPORT_BURST, FILE_REPORTS_PER_SECOND } from "../../shared/limits.ts";
import { RateBuckets } from "../../shared/rate-buckets.ts";
import type { IceServer } from "../../shared/signal.ts";
import type { AccessMode } from "../../shared/status.ts";
import { newId } from "../auth/tokens.ts";
import { type Clock, iso } from "../clock.ts";
import { jobName } from "../jobs.ts";
import type { TechnicianRow } from "../store/rows.ts";
import type { PeerIceServers } from "../turn/relay.ts";
import type { AuditLog } from "./audit.ts";
import type { DomainEvents } from "./events.ts";
import { TypedEvents } from "./typed-events.ts";
import { type ViewerPeer, ViewerPeers } from "./viewer-peers.ts";

/**
 * What viewing tells the live side: a peer to open between agent and console (with the ICE servers
 * for those two only: they may carry the peer's TURN credential), or one closed.
 */
export type ViewingEvents<C> = {
  /** The view opened: its technician, ICE servers and file limit are on the peer. */
  opened: [peer: ViewerPeer<C>];
  /** `tellConsole` is false when the console itself is gone. */
  closed: [peer: ViewerPeer<C>, reason: RemoteCloseReason, tellConsole: boolean];
  /** A fresh TURN credential for an open peer, before its current one expires (its two parties only). */
  renewed: [peer: ViewerPeer<C>, iceServers: IceServer[]];
};

/** Runs work once after a delay, retried on failure (Jobs.after); returns its cancel. */
export type Schedule = (job: string, delayMs: number, work: () => Promise<void>) => () => void;

/** A view's TURN credential is renewed at this share of its lifetime, well before it expires. */
export const TURN_RENEW_AT = 0.8;
/** Never sooner than this after the last one (a credential of a second or less would spin). */
const MIN_RENEW_DELAY_MS = 1_000;

/** May the technician connect, and with what access (RemotePermissions.connectAccess)? */
export type ConnectAccess = (actor: TechnicianRow, sessionId: string) => Promise<AccessMode>;

/** Runs work after the session's earlier actions (Desk.serialized). */
export type Serialized = <T>(sessionId: string, work: () => Promise<T>) => Promise<T>;

/** The ICE servers of one new peer, a TURN credential minted for it included (turn/relay.ts). */
export type PeerIceServersOf = (peer: { peerId: string; sessionId: string }) => Promise<PeerIceServers>;

/** The largest file a transfer in the session may carry, in bytes (its channel's setting). */
export type FileLimitOf = (sessionId: string) => Promise<number>;

/**
 * Remote views (Start remote session, second click): who may connect, the book of open viewer
 * peers, and their audit. `C` is the console connection a peer belongs to (the hub's type).
 */
export class Viewing<C extends object> {
  readonly peers = new ViewerPeers<C>();
  readonly events = new TypedEvents<ViewingEvents<C>>();
  readonly #access: ConnectAccess;
  readonly #audit: AuditLog;
  readonly #iceServers: PeerIceServersOf;
  readonly #fileLimit: FileLimitOf;
  readonly #serialized: Serialized;
  readonly #clock: Clock;
  readonly #schedule: Schedule;
  /** The renewal timer of each open peer that has a TURN credential, by peer id; it dies with the view. */
  readonly #renewals = new Map<string, () => void>();
  /** The agent's file reports on each session, per technician (reportFile). */
  readonly #fileReports: RateBuckets;
  /** Consoles whose socket closed: a connect that was waiting on the store opens nothing for them. */
  readonly #gone = new WeakSet<C>();

  /** Subscribes to the domain's events that end views (before the hub does: see main.ts). */
  constructor(deps: {
    access: ConnectAccess;
    audit: AuditLog;
    events: DomainEvents;
    iceServers: PeerIceServersOf;
    fileLimit: FileLimitOf;
    serialized: Serialized;
    clock: Clock;
    schedule: Schedule;
  }) {
    this.#clock = deps.clock;
    this.#fileReports = new RateBuckets(deps.clock, {
      burst: FILE_REPORT_BURST,
      perSecond: FILE_REPORTS_PER_SECOND,
      refused: (retryAfter) =>
        new SosError("RATE_LIMITED", "Too many file reports at once: wait a moment.", { retryAfter }),
    });
    this.#schedule = deps.schedule;
    this.#serialized = deps.serialized;
    this.#access = deps.access;
    this.#audit = deps.audit;
    this.#iceServers = deps.iceServers;
    this.#fileLimit = deps.fileLimit;
    deps.events.on("sessionEnded", (sessionId) => this.closeSession(sessionId, "session_closed"));
    deps.events.on("technicianOffSession", (sessionId, technicianId, reason) =>
      this.closeSession(sessionId, reason, technicianId),
    );
    deps.events.on("technicianDisabled", (technicianId) =>
      this.closeTechnician(technicianId, "technician_disabled"),
    );
  }

  /**
   * Opens the technician's view from this console; a second tab replaces the first. Only a
   * technician who may connect now (live session, granted consent) gets a peer and its ICE servers,
   * so a closed session or view never gets a credential again.
   */
  connect(
    actor: TechnicianRow,
    sessionId: string,
    console: C,
    filesConnection = false,
  ): Promise<ViewerPeer<C>> {
    // In the session's order: an action that ends the session or the consent runs wholly before
    // (then access is refused) or after (then it closes this view).
    return this.#serialized(sessionId, () => this.#connect(actor, sessionId, console, filesConnection));
  }

  async #connect(
    actor: TechnicianRow,
    sessionId: string,
    console: C,
    filesConnection: boolean,
  ): Promise<ViewerPeer<C>> {
    const access = await this.#access(actor, sessionId);
    this.#stillOpen(console);
    const peer: ViewerPeer<C> = {
      peerId: newId(),
      sessionId,
      technicianId: actor.id,
      technician: { id: actor.id, name: actor.name },
      access,
      console,
      paths: new Set(),
      iceServers: [],
      maxFileBytes: await this.#fileLimit(sessionId),
      filesConnection,
    };
    const { iceServers, relayExpiresAt } = await this.#iceServers(peer);
    peer.iceServers = iceServers;
    // Audited before the view exists: a failed write leaves no phantom viewer behind.
    await this.#audit.record({ kind: "technician", account: actor }, "session.remote_connected", sessionId, {
      peerId: peer.peerId,
      access,
      ...(relayExpiresAt === undefined ? {} : { relayCredentialExpiresAt: iso(relayExpiresAt) }),
    });
    if (this.#gone.has(console)) {
      this.#audit.observed({ kind: "system" }, "session.remote_disconnected", sessionId, {
        technicianId: actor.id,
        peerId: peer.peerId,
        reason: "disconnected",
      });
    }
    this.#stillOpen(console);
    for (const existing of this.peers.ofSession(sessionId)) {
      if (existing.technicianId === actor.id) this.close(existing, "replaced");
    }
    this.peers.add(peer);
    this.events.emit("opened", peer);
    this.#renewLater(peer, relayExpiresAt);
    return peer;
  }

  /**
   * While the view is open, a fresh credential for its peer before the current one expires, so an
   * ICE restart late in a long view still allocates on the relay; the timer is cancelled when the
   * view closes, so a closed view or session never gets one.
   */
  #renewLater(peer: ViewerPeer<C>, expiresAt: number | undefined): void {
    if (expiresAt === undefined || !this.#isOpen(peer)) return;
    const delayMs = Math.max(MIN_RENEW_DELAY_MS, Math.floor((expiresAt - this.#clock.now()) * TURN_RENEW_AT));
    const cancel = this.#schedule(jobName("turn renewal", peer.peerId), delayMs, () => this.#renew(peer));
    this.#renewals.set(peer.peerId, cancel);
  }

  async #renew(peer: ViewerPeer<C>): Promise<void> {
    if (!this.#isOpen(peer)) return;
    const { iceServers, relayExpiresAt } = await this.#iceServers(peer);
    // Closed while the credential was minted: it is never sent.
    if (!this.#isOpen(peer)) return;
    peer.iceServers = iceServers;
    this.events.emit("renewed", peer, iceServers);
    this.#renewLater(peer, relayExpiresAt);
  }

  #isOpen(peer: ViewerPeer<C>): boolean {
    return this.peers.byPeer(peer.peerId) === peer;
  }

  /**
   * The console reports the path its view's media takes (direct, or relayed over UDP, TCP, TLS):
   * audited once per view and path, so a path that changes mid-view is recorded and a console
   * repeating its report writes nothing more.
   */
  reportPath(actor: TechnicianRow, peer: ViewerPeer<C>, path: RemotePath): void {
    if (peer.paths.has(path)) return;
    peer.paths.add(path);
    this.#audit.observed({ kind: "technician", account: actor }, "session.remote_path", peer.sessionId, {
      peerId: peer.peerId,
      path,
    });
  }

  /**
   * The agent reports a file it moved whole over a technician's `files` channel (saved, SHA-256
   * checked): audited as `session.file` with the agent as the actor, the technician and their view
   * in the detail. The agent moved the bytes, so its report is the audit's; what the gateway holds
   * it to is that the technician it names has an open view of its session (`viewOf`: here or on
   * another instance; else PEER_NOT_FOUND), as every file goes over a view's channel, and that the
   * file is within the session's file limit (a store read; else BAD_REQUEST). Each technician's
   * files on a session are held to a rate (FILE_REPORT_BURST, FILE_REPORTS_PER_SECOND): past it
   * RATE_LIMITED, checked before anything else. A refused report is audited nowhere.
   */
  async reportFile(
    agent: { sessionId: string; address: string },
    technicianId: string,
    file: TransferredFile,
    viewOf: (sessionId: string, technicianId: string) => { peerId: string } | undefined,
  ): Promise<void> {
    const { sessionId, address } = agent;
    const reporter = `${sessionId}:${technicianId}`;
    this.#fileReports.check(reporter);
    const view = viewOf(sessionId, technicianId);
    if (view === undefined) {
      throw new SosError("PEER_NOT_FOUND", "That technician has no remote view of this session.");
    }
    if (file.size > (await this.#fileLimit(sessionId))) {
      throw SosError.badRequest("The file is larger than this session's file limit.");
    }
    // After whether it may be reported: a refusal takes nothing of the rate.
    this.#fileReports.take(reporter);
    this.#audit.observed({ kind: "agent", sessionId, address }, "session.file", sessionId, {
      technicianId,
      peerId: view.peerId,
      direction: file.direction,
      name: file.name,
      size: file.size,
      sha256: file.sha256,
    });
  }

  /** The console's own view of the session, or PEER_NOT_FOUND. */
  ownView(sessionId: string, console: C): ViewerPeer<C> {
    const peer = this.peers.find(sessionId, console);
    if (peer === undefined)
      throw new SosError("PEER_NOT_FOUND", "No remote view of that session is open here.");
    return peer;
  }

  /** Closes a view once (audited as it happened; the live side tells agent and console). */
  close(peer: ViewerPeer<C>, reason: RemoteCloseReason, tellConsole = true): void {
    if (this.peers.remove(peer.peerId) === undefined) return;
    this.#renewals.get(peer.peerId)?.();
    this.#renewals.delete(peer.peerId);
    this.#audit.observed({ kind: "system" }, "session.remote_disconnected", peer.sessionId, {
      technicianId: peer.technicianId,
      peerId: peer.peerId,
      reason,
    });
    this.events.emit("closed", peer, reason, tellConsole);
  }

  /** Closes every view of a session, or only one technician's. */
  closeSession(sessionId: string, reason: RemoteCloseReason, technicianId?: string): void {
    for (const peer of this.peers.ofSession(sessionId)) {
      if (technicianId === undefined || peer.technicianId === technicianId) this.close(peer, reason);
    }
  }

  #stillOpen(console: C): void {
    if (this.#gone.has(console)) throw new SosError("PEER_NOT_FOUND", "The console closed.");
  }

  closeTechnician(technicianId: string, reason: RemoteCloseReason): void {
    for (const peer of this.peers.ofTechnician(technicianId)) this.close(peer, reason);
  }

  /** The console is gone: its views close without telling it. */
  closeConsole(console: C): void {
    this.#gone.add(console);
    for (const peer of this.peers.ofConsole(console)) this.close(peer, "disconnected", false);
  }
}
