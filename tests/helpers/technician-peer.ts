/**
 * A technician's peer for tests: a real werift RTCPeerConnection that answers the agent's offer,
 * reassembles the video into frames, decodes them with WebCodecs, and speaks on the `control`
 * channel. Signals go wherever the test sends them (straight to an agent peer, or via the gateway).
 */
import { EventEmitter } from "node:events";
import { EncodedVideoChunk, VideoDecoder, type VideoFrame } from "@napi-rs/webcodecs";
import {
  dePacketizeRtpPackets,
  GenericNack,
  ReceiverEstimatedMaxBitrate,
  type RTCDataChannel,
  RTCPeerConnection,
  RtcpPayloadSpecificFeedback,
  RtcpTransportLayerFeedback,
  type RtpPacket,
  useH264,
  useVP8,
} from "werift";
import {
  type AgentControl,
  agentControlSchema,
  CONTROL_CHANNEL_LABEL,
  type TechnicianControl,
} from "../../shared/control.ts";
import { decodeMessage } from "../../shared/decode.ts";
import type { SignalData } from "../../shared/signal.ts";

export type DecodedFrame = {
  readonly width: number;
  readonly height: number;
  /** performance.now() when the frame came out of the decoder. */
  readonly at: number;
  /** Whether the frame was a keyframe. */
  readonly key: boolean;
  /**
   * RGBA pixels, when the technician was created with keepPixels. Exact for a keyframe only: each
   * frame is flushed out of the decoder at once (see FrameDecoder.decode), and a flush drops the
   * decoder's reference pictures, so a delta frame is decoded against a grey picture (H.264:
   * uniformly 130,130,130 where nothing changed; VP8 refuses it). Only what changed since the
   * previous frame shows in it (a bench looks for such changes); for the picture the technician
   * sees, use TestTechnician.picture().
   */
  readonly rgba: Uint8Array | undefined;
};

type TechnicianEvents = {
  signal: [SignalData];
  frame: [DecodedFrame];
  control: [AgentControl];
  /** Bytes of RTP payload received, per packet. */
  rtp: [number];
  /** A whole frame arrived (before decoding): whether it is a keyframe, performance.now(). */
  received: [boolean, number];
  /** The agent opened a data channel on this peer (any label: `screen` for the screen receiver). */
  channel: [RTCDataChannel];
};

export class TestTechnician extends EventEmitter<TechnicianEvents> {
  readonly pc: RTCPeerConnection;
  readonly frames: DecodedFrame[] = [];
  readonly controls: AgentControl[] = [];
  channel: RTCDataChannel | undefined;
  /** The labels of the data channels the agent opened on this peer, in order. */
  readonly channelLabels: string[] = [];
  /** The data channels the agent opened on this peer, in order (also told as `channel`). */
  readonly dataChannels: RTCDataChannel[] = [];
  /** Signals of an agent's separate files connection (`peer: "files"`) that reached this peer. */
  filesSignals = 0;
  rtpBytes = 0;
  /** RTP packets received (headers are 12 bytes each on top of rtpBytes). */
  rtpPackets = 0;
  /** Whole frames received. */
  framesReceived = 0;
  /** Decode what arrives (turn off to count frames without spending the CPU on decoding). */
  decoding = true;
  #decoder: FrameDecoder | undefined;
  #decoderCodec: string | undefined;
  #packets: RtpPacket[] = [];
  #mediaSsrc: number | undefined;
  /** Sequence numbers of the video packets received, most recent last (the last few hundred). */
  readonly #sequenceNumbers: number[] = [];
  /** Packets considered by sendNack so far (every n-th of them is asked for again). */
  #nackCounter = 0;
  readonly #keepPixels: boolean;
  readonly #opened: Promise<RTCDataChannel>;

  constructor(options: { keepPixels?: boolean } = {}) {
    super();
    this.#keepPixels = options.keepPixels ?? false;
    this.pc = new RTCPeerConnection({ bundlePolicy: "max-bundle", codecs: { video: [useH264(), useVP8()] } });
    this.pc.onIceCandidate.subscribe((candidate) => {
      if (candidate === undefined || candidate.candidate === "") return;
      this.emit("signal", {
        kind: "candidate",
        candidate: candidate.candidate,
        sdpMid: candidate.sdpMid ?? null,
        sdpMLineIndex: candidate.sdpMLineIndex ?? null,
      });
    });
    this.pc.onTrack.subscribe((track) => {
      // Decoded as its payload type says, as a browser does: the agent may send any codec the
      // answer accepted, and switch between them.
      track.onReceiveRtp.subscribe((packet) => this.#onRtp(packet, this.#codecOf(packet.header.payloadType)));
    });
    let opened: (channel: RTCDataChannel) => void = () => undefined;
    this.#opened = new Promise((resolve) => {
      opened = resolve;
    });
    this.pc.onDataChannel.subscribe((channel) => {
      this.channelLabels.push(channel.label);
      this.dataChannels.push(channel);
      this.emit("channel", channel);
      // The agent also opens `files` (file transfers): this technician speaks on `control` only.
      if (channel.label !== CONTROL_CHANNEL_LABEL) return;
      this.channel = channel;
      if (channel.readyState === "open") opened(channel);
      channel.stateChanged.subscribe((state) => {
        if (state === "open") opened(channel);
      });
      channel.onMessage.subscribe((data) => {
        if (typeof data !== "string") return;
        const decoded = decodeMessage(agentControlSchema, data);
        if (!decoded.ok) throw new Error(`agent sent an invalid control message: ${data}`);
        this.controls.push(decoded.value);
        this.emit("control", decoded.value);
      });
    });
  }

  /**
   * Takes the agent's offer (answering it) or a candidate. This technician does not ask for a
   * files connection (remote.connect without `filesConnection`): a `peer: "files"` signal is
   * counted (a test expects none) and left unanswered.
   */
  async handleSignal(data: SignalData): Promise<void> {
    if (data.peer === "files") {
      this.filesSignals += 1;
      return;
    }
    if (data.kind === "candidate") {
      await this.pc.addIceCandidate({
        candidate: data.candidate,
        ...(data.sdpMid === null ? {} : { sdpMid: data.sdpMid }),
        ...(data.sdpMLineIndex === null ? {} : { sdpMLineIndex: data.sdpMLineIndex }),
      });
      return;
    }
    if (data.type !== "offer") throw new Error("the technician expects offers");
    await this.pc.setRemoteDescription({ type: "offer", sdp: data.sdp });
    const answer = await this.pc.createAnswer();
    this.emit("signal", { kind: "description", type: "answer", sdp: answer.sdp });
    await this.pc.setLocalDescription(answer);
  }

  send(message: TechnicianControl): void {
    this.sendRaw(JSON.stringify(message));
  }

  sendRaw(text: string): void {
    if (this.channel?.readyState !== "open") throw new Error("the control channel is not open");
    this.channel.send(text);
  }

  /** Asks the agent for a keyframe the way a browser does: an RTCP PLI. */
  async sendPli(): Promise<void> {
    const receiver = this.pc.getTransceivers()[0]?.receiver;
    if (receiver === undefined || this.#mediaSsrc === undefined) throw new Error("no video yet");
    await receiver.sendRtcpPLI(this.#mediaSsrc);
  }

  /** Reports a receiver estimate (REMB) of `bitrate` bit/s, as a congested browser would. */
  async sendRemb(bitrate: number): Promise<void> {
    const receiver = this.pc.getTransceivers()[0]?.receiver;
    if (receiver === undefined || this.#mediaSsrc === undefined) throw new Error("no video yet");
    // REMB carries the bitrate as an 18-bit mantissa and a 6-bit exponent.
    let exponent = 0;
    while (bitrate >> exponent >= 2 ** 18) exponent += 1;
    const feedback = new ReceiverEstimatedMaxBitrate({
      senderSsrc: receiver.rtcpSsrc,
      mediaSsrc: 0,
      ssrcNum: 1,
      brExp: exponent,
      brMantissa: bitrate >> exponent,
      ssrcFeedbacks: [this.#mediaSsrc],
    });
    await receiver.dtlsTransport.sendRtcp([new RtcpPayloadSpecificFeedback({ feedback })]);
  }

  /**
   * Asks for `share` (0..1) of the video packets received since the last call again, as a lossy
   * network makes a browser do (RTCP generic NACK); the packets did arrive, so nothing breaks.
   */
  async sendNack(share: number): Promise<void> {
    const receiver = this.pc.getTransceivers()[0]?.receiver;
    if (receiver === undefined || this.#mediaSsrc === undefined) throw new Error("no video yet");
    const every = Math.round(1 / share);
    const lost = this.#sequenceNumbers.splice(0).filter(() => this.#nackCounter++ % every === 0);
    if (lost.length === 0) return;
    const feedback = new GenericNack({
      senderSsrc: receiver.rtcpSsrc,
      mediaSourceSsrc: this.#mediaSsrc,
      lost,
    });
    await receiver.dtlsTransport.sendRtcp([new RtcpTransportLayerFeedback({ feedback })]);
  }

  /** Resolves with the first frame (from now on, or already received when `fromIndex` says so). */
  nextFrame(
    predicate: (frame: DecodedFrame) => boolean = () => true,
    deadlineMs = 10_000,
    fromIndex = this.frames.length,
  ) {
    return this.#waitFor("frame", this.frames, fromIndex, predicate, deadlineMs);
  }

  nextControl(predicate: (message: AgentControl) => boolean, deadlineMs = 10_000, fromIndex = 0) {
    return this.#waitFor("control", this.controls, fromIndex, predicate, deadlineMs);
  }

  /** Resolves once the control channel is open. */
  channelOpen(deadlineMs = 10_000): Promise<RTCDataChannel> {
    return Promise.race([
      this.#opened,
      new Promise<never>((_, reject) => {
        setTimeout(() => reject(new Error("control channel did not open")), deadlineMs).unref();
      }),
    ]);
  }

  async close(): Promise<void> {
    this.#decoder?.close();
    await this.pc.close();
  }

  #waitFor<K extends "frame" | "control">(
    event: K,
    list: readonly TechnicianEvents[K][0][],
    fromIndex: number,
    predicate: (item: TechnicianEvents[K][0]) => boolean,
    deadlineMs: number,
  ): Promise<TechnicianEvents[K][0]> {
    const seen = list.slice(fromIndex).find(predicate);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const listener = (item: TechnicianEvents[K][0]) => {
        if (!predicate(item)) return;
        clearTimeout(timer);
        this.off(event, listener as never);
        resolve(item);
      };
      const timer = setTimeout(() => {
        this.off(event, listener as never);
        reject(new Error(`no matching ${event} within ${deadlineMs} ms (${list.length} seen)`));
      }, deadlineMs);
      this.on(event, listener as never);
    });
  }

  /** The negotiated codec of a payload type, with its decoder (a new one after a switch). */
  #codecOf(payloadType: number): "VP8" | "MPEG4/ISO/AVC" {
    const negotiated = this.pc.getTransceivers()[0]?.codecs.find((c) => c.payloadType === payloadType);
    const vp8 = negotiated?.mimeType.toLowerCase() === "video/vp8";
    const codec = vp8 ? "vp8" : "avc1.64001f";
    if (this.#decoderCodec !== codec) {
      this.#decoder?.close();
      this.#decoderCodec = codec;
      this.#packets = [];
      this.#decoder = new FrameDecoder(codec, this.#keepPixels, (frame) => {
        this.frames.push(frame);
        this.emit("frame", frame);
      });
    }
    return vp8 ? "VP8" : "MPEG4/ISO/AVC";
  }

  #onRtp(packet: RtpPacket, depacketizer: "VP8" | "MPEG4/ISO/AVC"): void {
    this.#mediaSsrc = packet.header.ssrc;
    this.#sequenceNumbers.push(packet.header.sequenceNumber);
    if (this.#sequenceNumbers.length > 512) this.#sequenceNumbers.splice(0, 256);
    this.rtpBytes += packet.payload.length;
    this.rtpPackets += 1;
    this.emit("rtp", packet.payload.length);
    const first = this.#packets[0];
    if (first !== undefined && first.header.timestamp !== packet.header.timestamp) this.#packets = [];
    this.#packets.push(packet);
    if (!packet.header.marker) return;
    // Loopback keeps packets in order; a lost packet shows up as a decode error.
    const packets = this.#packets;
    this.#packets = [];
    const frame = dePacketizeRtpPackets(depacketizer, packets);
    this.framesReceived += 1;
    this.emit("received", frame.isKeyframe, performance.now());
    if (frame.data.length > 0 && this.decoding) {
      this.#decoder?.decode(frame.data, frame.isKeyframe, packet.header.timestamp);
    } else if (frame.data.length > 0) {
      this.#decoder?.skipped();
    }
  }

  get decodeErrors(): readonly string[] {
    return this.#decoder?.errors ?? [];
  }

  /**
   * The exact picture of the last frame decoded so far (keepPixels only): its chunks since the
   * last keyframe decoded again without a flush between them. Undefined before a keyframe (or
   * after frames were left undecoded: `decoding` off).
   */
  picture(): Promise<DecodedFrame | undefined> {
    if (!this.#keepPixels) throw new Error("this technician keeps no pixels (keepPixels)");
    return this.#decoder?.picture() ?? Promise.resolve(undefined);
  }
}

type Chunk = { readonly data: Uint8Array; readonly key: boolean; readonly timestamp: number };

/** WebCodecs decoding of H.264 (Annex B) or VP8 frames, with the pixels kept on request. */
export class FrameDecoder {
  readonly errors: string[] = [];
  readonly #decoder: VideoDecoder;
  readonly #codec: string;
  #chain: Promise<void> = Promise.resolve();
  readonly #keepPixels: boolean;
  readonly #onFrame: (frame: DecodedFrame) => void;
  /** Whether each chunk handed to the decoder and not out yet is a keyframe, by timestamp. */
  readonly #keys = new Map<number, boolean>();
  /** With keepPixels: the chunks since the last keyframe (undefined: none, or one was skipped). */
  #sinceKey: Chunk[] | undefined;

  constructor(codec: string, keepPixels: boolean, onFrame: (frame: DecodedFrame) => void) {
    this.#codec = codec;
    this.#keepPixels = keepPixels;
    this.#onFrame = onFrame;
    this.#decoder = new VideoDecoder({
      output: (frame) => void this.#output(frame),
      error: (error) => this.errors.push(error.message),
    });
    this.#decoder.configure({ codec, optimizeForLatency: true });
  }

  /**
   * Decodes one frame and flushes, so that it comes out now: FFmpeg's H.264 decoder in this addon
   * otherwise holds two frames back (and a still screen sends no more). This addon accepts delta
   * frames after a flush, but the flush dropped their reference pictures: see DecodedFrame.rgba.
   */
  decode(data: Uint8Array, key: boolean, timestamp: number): void {
    if (this.#keepPixels) {
      if (key) this.#sinceKey = [{ data, key, timestamp }];
      else this.#sinceKey?.push({ data, key, timestamp });
    }
    this.#chain = this.#chain.then(async () => {
      if (this.#decoder.state !== "configured") return;
      this.#keys.set(timestamp, key);
      this.#decoder.decode(new EncodedVideoChunk({ type: key ? "key" : "delta", timestamp, data }));
      await this.#decoder.flush().catch((error: Error) => this.errors.push(error.message));
    });
  }

  /** A frame was received and not decoded: no exact picture until the next keyframe. */
  skipped(): void {
    this.#sinceKey = undefined;
  }

  /**
   * The exact picture of the last chunk handed to decode() (keepPixels): the chunks since the last
   * keyframe through a decoder of its own, flushed once at the end.
   */
  picture(): Promise<DecodedFrame | undefined> {
    const chunks = this.#sinceKey === undefined ? [] : [...this.#sinceKey];
    return decodePicture(this.#codec, chunks);
  }

  close(): void {
    if (this.#decoder.state !== "closed") this.#decoder.close();
  }

  async #output(frame: VideoFrame): Promise<void> {
    const width = frame.displayWidth;
    const height = frame.displayHeight;
    const key = this.#keys.get(frame.timestamp) ?? false;
    this.#keys.delete(frame.timestamp);
    let rgba: Uint8Array | undefined;
    if (this.#keepPixels) {
      rgba = new Uint8Array(width * height * 4);
      await frame.copyTo(rgba, { format: "RGBA" });
    }
    frame.close();
    this.#onFrame({ width, height, at: performance.now(), key, rgba });
  }
}

/** The last of `chunks` (a keyframe and the delta frames after it) decoded, with its pixels. */
async function decodePicture(codec: string, chunks: readonly Chunk[]): Promise<DecodedFrame | undefined> {
  const last = chunks.at(-1);
  if (last === undefined) return undefined;
  const errors: string[] = [];
  let kept: VideoFrame | undefined;
  const decoder = new VideoDecoder({
    output: (frame) => {
      kept?.close();
      kept = frame;
    },
    error: (error) => errors.push(error.message),
  });
  try {
    decoder.configure({ codec, optimizeForLatency: true });
    for (const { data, key, timestamp } of chunks) {
      decoder.decode(new EncodedVideoChunk({ type: key ? "key" : "delta", timestamp, data }));
    }
    await decoder.flush();
  } finally {
    if (decoder.state !== "closed") decoder.close();
  }
  const frame: VideoFrame | undefined = kept;
  if (frame === undefined || frame.timestamp !== last.timestamp || errors.length > 0) {
    frame?.close();
    throw new Error(`the picture did not decode (${chunks.length} chunks): ${errors.join("; ")}`);
  }
  const width = frame.displayWidth;
  const height = frame.displayHeight;
  const rgba = new Uint8Array(width * height * 4);
  await frame.copyTo(rgba, { format: "RGBA" });
  frame.close();
  return { width, height, at: performance.now(), key: last.key, rgba };
}

/** Decodes one encoded keyframe (H.264 Annex B or VP8), keeping its pixels. */
export function decodeKeyframe(
  codec: "h264" | "vp8",
  chunk: { readonly data: Uint8Array; readonly key: boolean; readonly timestampUs: number },
): Promise<DecodedFrame> {
  return new Promise((resolve) => {
    const decoder = new FrameDecoder(codec === "vp8" ? "vp8" : "avc1.64001f", true, (frame) => {
      decoder.close();
      resolve(frame);
    });
    decoder.decode(chunk.data, chunk.key, chunk.timestampUs);
  });
}

/** Colour of the pixel at (x, y) of a decoded frame kept with pixels. */
export function pixelAt(frame: DecodedFrame, x: number, y: number): { r: number; g: number; b: number } {
  if (frame.rgba === undefined) throw new Error("frame kept no pixels");
  const i = (y * frame.width + x) * 4;
  return { r: frame.rgba[i] ?? 0, g: frame.rgba[i + 1] ?? 0, b: frame.rgba[i + 2] ?? 0 };
}
