import { CONTROL_CHANNEL_LABEL } from "../../../shared/control.ts";
import { FILES_CHANNEL_LABEL } from "../../../shared/file-transfer.ts";
import { SCREEN_CHANNEL_LABEL } from "../../../shared/screen.ts";
import type { IceServer, SignalData } from "../../../shared/signal.ts";

/**
 * The browser's side of one remote view: answers the agent's offer (one sendonly video, plus the
 * `control`, `files` and `screen` data channels the agent creates), trickles ICE both ways, and closes once. A later offer
 * on the same connection is the agent's ICE restart: it is answered the same way, on this peer.
 */

export type PeerEvents = {
  /** SDP answer or ICE candidate to hand to the gateway. */
  signal(data: SignalData): void;
  video(stream: MediaStream): void;
  control(channel: RTCDataChannel): void;
  /** The `files` channel the agent creates (file transfers, file-link.ts). */
  files(channel: RTCDataChannel): void;
  /** The `screen` channel the agent creates (the lossless part of the picture, screen-link.ts). */
  screen?(channel: RTCDataChannel): void;
  state(state: RTCPeerConnectionState): void;
  failed(reason: string): void;
};

export type RemotePeer = {
  readonly connection: RTCPeerConnection;
  handleSignal(data: SignalData): void;
  /** The view's fresh TURN credential (`remote.ice`): used from the next ICE restart on. */
  setIceServers(iceServers: readonly IceServer[]): void;
  close(): void;
};

function rtcIceServers(iceServers: readonly IceServer[]): RTCIceServer[] {
  return iceServers.map((server) => {
    const entry: RTCIceServer = { urls: [...server.urls] };
    if (server.username !== undefined) entry.username = server.username;
    if (server.credential !== undefined) entry.credential = server.credential;
    return entry;
  });
}

export function createRemotePeer(iceServers: readonly IceServer[], events: PeerEvents): RemotePeer {
  const connection = new RTCPeerConnection({ iceServers: rtcIceServers(iceServers) });
  let closed = false;
  /** Candidates that arrive before the offer are applied right after it. */
  let early: RTCIceCandidateInit[] | null = [];
  /** Signals are applied strictly in arrival order. */
  let queue: Promise<void> = Promise.resolve();

  connection.addEventListener("icecandidate", (event) => {
    if (event.candidate === null || event.candidate.candidate === "") return;
    events.signal({
      kind: "candidate",
      candidate: event.candidate.candidate,
      sdpMid: event.candidate.sdpMid,
      sdpMLineIndex: event.candidate.sdpMLineIndex,
    });
  });
  connection.addEventListener("track", (event) => {
    if (event.track.kind !== "video") return;
    events.video(event.streams[0] ?? new MediaStream([event.track]));
  });
  connection.addEventListener("datachannel", (event) => {
    if (event.channel.label === CONTROL_CHANNEL_LABEL) events.control(event.channel);
    else if (event.channel.label === FILES_CHANNEL_LABEL) events.files(event.channel);
    else if (event.channel.label === SCREEN_CHANNEL_LABEL) events.screen?.(event.channel);
  });
  connection.addEventListener("connectionstatechange", () => {
    if (!closed) events.state(connection.connectionState);
  });

  /**
   * A candidate the connection refuses (one of an ICE generation an ICE restart just replaced) is
   * no reason to give up the peer: the others still count.
   */
  const addCandidate = async (candidate: RTCIceCandidateInit): Promise<void> => {
    try {
      await connection.addIceCandidate(candidate);
    } catch (error) {
      if (!closed) console.warn("remote view: ignored an ICE candidate:", error);
    }
  };

  const apply = async (data: SignalData): Promise<void> => {
    if (data.kind === "candidate") {
      const candidate: RTCIceCandidateInit = {
        candidate: data.candidate,
        sdpMid: data.sdpMid,
        sdpMLineIndex: data.sdpMLineIndex,
      };
      if (early !== null) early.push(candidate);
      else await addCandidate(candidate);
      return;
    }
    if (data.type !== "offer") return;
    await connection.setRemoteDescription({ type: "offer", sdp: data.sdp });
    const answer = await connection.createAnswer();
    await connection.setLocalDescription(answer);
    events.signal({ kind: "description", type: "answer", sdp: answer.sdp ?? "" });
    const waiting = early ?? [];
    early = null;
    for (const candidate of waiting) await addCandidate(candidate);
  };

  return {
    connection,
    handleSignal(data) {
      queue = queue.then(() => {
        if (closed) return;
        return apply(data).catch((error: unknown) => {
          if (!closed) events.failed(error instanceof Error ? error.message : String(error));
        });
      });
    },
    setIceServers(next) {
      if (closed) return;
      // The running path keeps its allocation; the gathering of the next ICE restart uses these.
      connection.setConfiguration({ ...connection.getConfiguration(), iceServers: rtcIceServers(next) });
    },
    close() {
      if (closed) return;
      closed = true;
      connection.close();
    },
  };
}
