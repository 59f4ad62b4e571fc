/**
 * The picture watcher of the benches' rig (scripts/bench-vnc-rig.ts): runs in a page (the SOS
 * console, or noVNC's page) and counts what the technician sees there, the same way on both.
 *
 * SOS shows two layers: the `<video>` and, over it, the lossless `screen` path's overlay canvas
 * (docs/screen-copy-path.md), which dispatches `CustomEvent("screenapplied", { detail:
 * { capturedAt, rtpTimestamp, bytes } })` after painting each record. A picture is a video frame
 * presented or a record painted; pixels are read from the COMPOSED picture (the video drawn,
 * then the overlay on top, as the technician sees it), so a key's echo is found whichever path
 * brought it. Without an overlay (an older console, or the agent's `--no-screen-copy`) it is the
 * video alone, as before. The overlay is found by its event (a capture listener on the window
 * sees the non-bubbling event), so no selector ties the bench to the console's markup.
 */

/** Where the typed keys are echoed: the typing terminal's window (top left). */
export type Region = {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
};

/** What a page's watcher reports about one picture that showed a change. */
export type Seen = {
  /** When the page had the picture (rVFC / rAF callback time), ms since the epoch. */
  readonly at: number;
  /** The key's keydown in the page, ms since the epoch. */
  readonly keyAt: number;
  /** For a video frame: its RTP timestamp and when its last packet arrived (epoch ms). */
  readonly rtpTimestamp?: number;
  readonly receiveTime?: number;
  readonly processingMs?: number;
  /** The picture was found on an animation frame: no video frame callback came for it. */
  readonly missedCallback?: boolean;
  /**
   * SOS: what was new in the picture: a video frame, a screen record painted on the overlay since
   * the last look, or both (the echo came by either; the pixels do not say which layer changed).
   */
  readonly via?: "video" | "screen" | "both";
  /** The newest screen record painted since the last look: its capture's RTP timestamp and time. */
  readonly screenRtpTimestamp?: number;
  readonly screenCapturedAt?: number;
};

/** The console's inbound video counters (getStats), summed over its peers: where frames go missing. */
export const VIDEO_COUNTERS = [
  "framesReceived",
  "framesDecoded",
  "framesDropped",
  "packetsReceived",
  "packetsLost",
  "nackCount",
  "pliCount",
  "keyFramesDecoded",
] as const;
export type VideoCounters = Record<(typeof VIDEO_COUNTERS)[number], number>;

/** The lossless path's counters in the console (SOS only). */
export type ScreenCounters = {
  /** `screenapplied` events: records painted. */
  readonly records: number;
  /** The sum of their `detail.bytes`. */
  readonly recordBytes: number;
  /**
   * Message bytes the console's `screen` data channels received (getStats `data-channel`
   * bytesReceived, label "screen", summed over channels and peers; per channel the highest value
   * seen, so a closed channel's bytes stay counted). Payload bytes like the RTP figure.
   */
  readonly channelBytes: number;
  /** How many `screen` channels the stats listed so far. */
  readonly channels: number;
  /**
   * Video frames (with a callback) and records whose capture (RTP timestamp) the other path had
   * shown already: not counted as pictures again.
   */
  readonly repeats: number;
};

export type Counters = {
  /**
   * Distinct pictures shown: animation frames in which a capture not shown before appeared. SOS:
   * a video frame presented or a screen record painted (both in one frame, or both of one capture,
   * the same RTP timestamp, count once; frames Chromium presented without a callback count, their
   * capture unknown); noVNC: animation frames with one or more framebuffer updates completed.
   */
  readonly pictures: number;
  /**
   * SOS: video frames presented (requestVideoFrameCallback's presentedFrames, which also counts the
   * frames Chromium presented without a callback); noVNC: framebuffer updates completed.
   */
  readonly frames: number;
  /** SOS: the video's RTP payload bytes (inbound-rtp bytesReceived); noVNC: WebSocket message bytes. */
  readonly bytes: number;
  readonly at: number;
  /** SOS only. */
  readonly video?: VideoCounters;
  readonly screen?: ScreenCounters;
  /** SOS only: bytes every DTLS transport received (all channels, RTCP, headers: a cross-check). */
  readonly transportBytes?: number;
  /** SOS only: video frame callbacks (fewer than `frames` when some were presented without one), and those without an RTP timestamp. */
  readonly callbacks?: number;
  readonly withoutRtp?: number;
};

/** The composed picture of the whole screen, and the overlay layer alone (PNG data URLs). */
export type Snapshot = { readonly composed: string; readonly overlay?: string };

declare global {
  interface Window {
    sosBench?: {
      arm(): void;
      change(timeoutMs: number): Promise<Seen>;
      counters(): Promise<Counters>;
      snapshot(): Snapshot;
    };
  }
}

/**
 * Runs in a page: watches the picture in `kind`'s element (the console's <video> with its
 * overlay, or noVNC's <canvas>) within `region` (screen pixels), counts the pictures shown and the
 * bytes that brought them, and answers "when did the region first differ from how it was when
 * armed" for a key press. Self-contained: the page cannot see this module (constants come in
 * with its arguments).
 */
export function installWatcher(args: {
  kind: "video" | "canvas";
  region: Region;
  counters: readonly string[];
}): void {
  const { kind, region } = args;
  const scratch = document.createElement("canvas");
  scratch.width = region.width;
  scratch.height = region.height;
  const context = scratch.getContext("2d", { willReadFrequently: true });
  if (context === null) throw new Error("no 2d context");
  const epoch = (t: number) => performance.timeOrigin + t;
  let keyAt = 0;
  window.addEventListener(
    "keydown",
    (event) => {
      keyAt = epoch(event.timeStamp);
    },
    { capture: true },
  );
  let reference: Uint8ClampedArray | undefined;
  /** Video frames presented (the console), from rVFC's presentedFrames. */
  let frames = 0;
  /** Pictures shown (see Counters): animation frames that showed a capture not shown before. */
  let pictures = 0;
  /** A capture not shown before appeared since the last animation frame (the console). */
  let newSince = false;
  /** Video frames and records whose capture the other path had shown already (the console). */
  let repeats = 0;
  /** Video frame callbacks, and those without an RTP timestamp (the console). */
  let callbacks = 0;
  let withoutRtp = 0;
  /**
   * The RTP timestamps (the capture's time; video frames and records of one capture share it)
   * shown lately by either path. A record painted and then the video frame of the same capture
   * (its lossless tiles frozen) are one picture, not two.
   */
  const shown: number[] = [];
  const firstShowing = (rtp: number | undefined): boolean => {
    if (rtp === undefined || !Number.isFinite(rtp)) return true;
    if (shown.some((r) => Math.abs(r - rtp) <= 1)) {
      repeats += 1;
      return false;
    }
    shown.push(rtp);
    if (shown.length > 512) shown.shift();
    return true;
  };
  let waiter: ((seen: Seen) => void) | undefined;
  /** A key's echo: at least this many pixels changed clearly (not the encoder refining a block). */
  const differs = (a: Uint8ClampedArray, b: Uint8ClampedArray): boolean => {
    let count = 0;
    for (let i = 0; i < a.length; i += 4) {
      const d =
        Math.abs((a[i] ?? 0) - (b[i] ?? 0)) +
        Math.abs((a[i + 1] ?? 0) - (b[i + 1] ?? 0)) +
        Math.abs((a[i + 2] ?? 0) - (b[i + 2] ?? 0));
      if (d > 150 && ++count >= 6) return true;
    }
    return false;
  };

  // The lossless path's overlay: found by its first event; records counted as they are painted.
  let overlay: HTMLCanvasElement | undefined;
  let records = 0;
  let recordBytes = 0;
  /** The newest record painted since the last look (what a look found new besides a video frame). */
  let pendingRecord: { rtpTimestamp: number; capturedAt: number } | undefined;
  window.addEventListener(
    "screenapplied",
    (event) => {
      if (!(event instanceof CustomEvent)) return;
      if (event.target instanceof HTMLCanvasElement) overlay = event.target;
      const detail = (event.detail ?? {}) as {
        rtpTimestamp?: unknown;
        capturedAt?: unknown;
        bytes?: unknown;
      };
      records += 1;
      recordBytes += Number(detail.bytes ?? 0);
      pendingRecord = { rtpTimestamp: Number(detail.rtpTimestamp), capturedAt: Number(detail.capturedAt) };
      if (firstShowing(pendingRecord.rtpTimestamp)) newSince = true;
    },
    { capture: true },
  );
  /** The overlay as the technician sees it: in the page, displayed, not empty. */
  const shownOverlay = (): HTMLCanvasElement | undefined => {
    if (overlay === undefined || !overlay.isConnected || overlay.width === 0 || overlay.height === 0)
      return undefined;
    const style = getComputedStyle(overlay);
    if (style.display === "none" || style.visibility === "hidden" || Number(style.opacity) === 0)
      return undefined;
    return overlay;
  };
  /** Draws `region` of the source (and, for the console, its overlay on top) into `target`. */
  const compose = (
    into: CanvasRenderingContext2D,
    source: HTMLVideoElement | HTMLCanvasElement,
    area: Region,
  ) => {
    into.clearRect(0, 0, area.width, area.height);
    into.drawImage(source, area.x, area.y, area.width, area.height, 0, 0, area.width, area.height);
    if (!(source instanceof HTMLVideoElement)) return;
    const layer = shownOverlay();
    if (layer === undefined) return;
    // The overlay has the remote screen's size, as the video; scaled if the two ever differ.
    const sx = source.videoWidth > 0 ? layer.width / source.videoWidth : 1;
    const sy = source.videoHeight > 0 ? layer.height / source.videoHeight : 1;
    into.drawImage(
      layer,
      area.x * sx,
      area.y * sy,
      area.width * sx,
      area.height * sy,
      0,
      0,
      area.width,
      area.height,
    );
  };

  /**
   * Pixels are read only while a press waits for its echo: drawing a 1080p video frame into a
   * canvas and reading it back costs the console's main thread milliseconds, and looking at every
   * frame and record slowed the page the fps count watches (its animation frames).
   */
  const look = (source: HTMLVideoElement | HTMLCanvasElement, at: number, extra: Partial<Seen>) => {
    const record = pendingRecord;
    pendingRecord = undefined;
    if (waiter === undefined) return;
    compose(context, source, region);
    const latest = context.getImageData(0, 0, region.width, region.height).data;
    if (reference !== undefined && differs(reference, latest)) {
      const done = waiter;
      waiter = undefined;
      const screen: Partial<Seen> =
        record === undefined
          ? {}
          : { screenRtpTimestamp: record.rtpTimestamp, screenCapturedAt: record.capturedAt };
      const video = extra.via === "video";
      const via = record === undefined ? "video" : video ? "both" : "screen";
      done({
        at: epoch(at),
        keyAt,
        ...extra,
        ...screen,
        ...(source instanceof HTMLVideoElement ? { via } : {}),
      });
    }
  };
  let source: HTMLVideoElement | HTMLCanvasElement;
  if (kind === "video") {
    const video = document.querySelector("video");
    if (video === null) throw new Error("no video");
    source = video;
    /** The frames the element had when last looked at (getVideoPlaybackQuality). */
    let looked = 0;
    /** rVFC's presentedFrames (the compositor's count, frames without a callback included). */
    let presentedBase: number | undefined;
    let presentedLast: number | undefined;
    const onFrame = (now: number, meta: VideoFrameCallbackMetadata) => {
      presentedBase ??= meta.presentedFrames - 1;
      frames = meta.presentedFrames - presentedBase;
      // Frames presented without a callback (see below), each in an animation frame of its own:
      // pictures, though which captures they showed is unknown.
      if (presentedLast !== undefined) pictures += Math.max(0, meta.presentedFrames - presentedLast - 1);
      presentedLast = meta.presentedFrames;
      callbacks += 1;
      if (meta.rtpTimestamp === undefined) withoutRtp += 1;
      if (firstShowing(meta.rtpTimestamp)) newSince = true;
      looked = video.getVideoPlaybackQuality().totalVideoFrames;
      const extra: Partial<Seen> = { via: "video" };
      if (meta.rtpTimestamp !== undefined) Object.assign(extra, { rtpTimestamp: meta.rtpTimestamp });
      if (meta.receiveTime !== undefined) Object.assign(extra, { receiveTime: epoch(meta.receiveTime) });
      if (meta.processingDuration !== undefined)
        Object.assign(extra, { processingMs: meta.processingDuration * 1000 });
      look(video, now, extra);
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
    // Chromium (headless, 156) presents some frames without a video frame callback for them: one
    // that comes 30-60 ms after the one before was presented (rVFC's presentedFrames counts it)
    // got no callback until the next frame, up to 200 ms later. Each animation frame, a frame the
    // element has and no callback reported is looked at too (without the callback's metadata), and
    // so is the overlay when a record was painted since the last look (video frame callbacks run
    // before animation frame callbacks, so a frame with both is looked at once, in the callback).
    // Pictures: each animation frame in which a capture not shown before appeared, by a video
    // frame or a record (both of one capture, or in one frame: one picture).
    const onTick = (now: number) => {
      const total = video.getVideoPlaybackQuality().totalVideoFrames;
      if (total !== looked) {
        looked = total;
        look(video, now, { missedCallback: true, via: "video" });
      } else if (pendingRecord !== undefined) {
        look(video, now, {});
      }
      if (newSince) pictures += 1;
      newSince = false;
      requestAnimationFrame(onTick);
    };
    requestAnimationFrame(onTick);
  } else {
    const canvas = document.querySelector("#screen canvas");
    if (!(canvas instanceof HTMLCanvasElement)) throw new Error("no canvas");
    source = canvas;
    // Updates completed are counted where noVNC flips its display (window.vncStats); pictures are
    // the animation frames that had one or more of them, as for the console.
    let flips = 0;
    const onTick = (now: number) => {
      const done = (window as unknown as { vncStats?: { frames: number } }).vncStats?.frames ?? 0;
      if (done !== flips) pictures += 1;
      flips = done;
      look(canvas, now, {});
      requestAnimationFrame(onTick);
    };
    requestAnimationFrame(onTick);
  }
  /** A data channel's or transport's bytes, highest seen per stats id (they vanish when closed). */
  const highest = new Map<string, number>();
  const keep = (key: string, value: number): void => {
    highest.set(key, Math.max(highest.get(key) ?? 0, value));
  };
  const sumOf = (prefix: string): number => {
    let sum = 0;
    for (const [key, value] of highest) if (key.startsWith(prefix)) sum += value;
    return sum;
  };
  const countOf = (prefix: string): number => [...highest.keys()].filter((k) => k.startsWith(prefix)).length;
  /** The whole screen as the page shows it (the console: video, then the overlay). */
  const composedWhole = () => {
    const whole = document.createElement("canvas");
    const width = source instanceof HTMLVideoElement ? source.videoWidth : source.width;
    const height = source instanceof HTMLVideoElement ? source.videoHeight : source.height;
    whole.width = width;
    whole.height = height;
    const into = whole.getContext("2d");
    if (into === null) throw new Error("no 2d context");
    compose(into, source, { x: 0, y: 0, width, height });
    return { whole };
  };
  window.sosBench = {
    arm() {
      // The picture as shown now (the last frame presented, the overlay as painted).
      compose(context, source, region);
      reference = context.getImageData(0, 0, region.width, region.height).data;
    },
    change(timeoutMs) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiter = undefined;
          reject(new Error("no change seen"));
        }, timeoutMs);
        waiter = (seen) => {
          clearTimeout(timer);
          resolve(seen);
        };
      });
    },
    async counters() {
      const stats = (window as unknown as { vncStats?: { frames: number; bytes: number } }).vncStats;
      if (stats !== undefined) return { pictures, frames: stats.frames, bytes: stats.bytes, at: Date.now() };
      let bytes = 0;
      const names = args.counters;
      const video = Object.fromEntries(names.map((name) => [name, 0])) as VideoCounters;
      const peers = (window as unknown as { sosPeers?: RTCPeerConnection[] }).sosPeers ?? [];
      for (const [index, peer] of peers.entries()) {
        (await peer.getStats()).forEach((stat) => {
          if (stat.type === "data-channel" && stat.label === "screen")
            keep(`screen ${index} ${stat.id}`, Number(stat.bytesReceived ?? 0));
          if (stat.type === "transport")
            keep(`transport ${index} ${stat.id}`, Number(stat.bytesReceived ?? 0));
          if (stat.type !== "inbound-rtp" || stat.kind !== "video") return;
          bytes += stat.bytesReceived ?? 0;
          for (const name of names) video[name as keyof VideoCounters] += Number(stat[name] ?? 0);
        });
      }
      const screen: ScreenCounters = {
        records,
        recordBytes,
        repeats,
        channelBytes: sumOf("screen "),
        channels: countOf("screen "),
      };
      const transportBytes = sumOf("transport ");
      return {
        pictures,
        frames,
        bytes,
        at: Date.now(),
        video,
        screen,
        transportBytes,
        callbacks,
        withoutRtp,
      };
    },
    snapshot() {
      const { whole } = composedWhole();
      const layer = source instanceof HTMLVideoElement ? shownOverlay() : undefined;
      return {
        composed: whole.toDataURL("image/png"),
        ...(layer === undefined ? {} : { overlay: layer.toDataURL("image/png") }),
      };
    },
  };
}
