/**
 * The screen as a stream of encoded chunks, for the main thread: owns the capture worker, tells it
 * when to run, when a keyframe is due and when something is happening, and hands out its chunks.
 */
import { EventEmitter } from "node:events";
import { Worker } from "node:worker_threads";
import { AgentError } from "../exit.ts";
import type { MonitorGeometry } from "./capture.ts";
import type { EncodedChunk, EncoderLogEntry, VideoCodecName } from "./video-encoder.ts";
import type {
  FromWorker,
  PipelineSettings,
  PipelineStats,
  ScreenMessages,
  ToWorker,
} from "./worker-protocol.ts";

export type ScreenChunk = EncodedChunk & { readonly capturedAt: number; readonly codec: VideoCodecName };

type ScreenStreamEvents = {
  chunk: [ScreenChunk];
  screen: [ScreenMessages];
  monitor: [MonitorGeometry];
  /** The worker stopped on an error (no display, encoder failure); the stream is closed. */
  error: [AgentError];
};

/** Where the worker's messages for the agent's log go (the encoder's: FFmpeg's stderr, restarts). */
export type StreamLog = (entry: EncoderLogEntry) => void;

const ACTIVITY_THROTTLE_MS = 250;

export class ScreenStream extends EventEmitter<ScreenStreamEvents> {
  readonly #worker: Worker;
  #monitor: MonitorGeometry;
  #settings: PipelineSettings;
  #lastActivity = 0;
  #closed: Promise<void> | undefined;
  /** stats() calls waiting for the worker's answer, oldest first; rejected when the stream closes. */
  readonly #statsWaiters: Array<{ resolve: (stats: PipelineStats) => void; reject: (error: Error) => void }> =
    [];

  readonly #log: StreamLog;

  private constructor(worker: Worker, monitor: MonitorGeometry, settings: PipelineSettings, log: StreamLog) {
    super();
    this.#log = log;
    this.#worker = worker;
    this.#monitor = monitor;
    this.#settings = settings;
    worker.on("message", (message: FromWorker) => this.#onMessage(message));
    worker.on("error", (error) => this.#fail(new AgentError("internal", error.message, { cause: error })));
  }

  /** Starts the worker, idle until run(true); resolves once the monitor is open. */
  static start(settings: PipelineSettings, log: StreamLog = () => undefined): Promise<ScreenStream> {
    const worker = new Worker(new URL("./capture-worker.ts", import.meta.url), {
      workerData: settings,
      // Node closes again, at the worker's exit, every descriptor the worker opened with fs.open
      // and did not close with fs.close. The x11 package opens the descriptor it passes to the X
      // server that way and closes it through a pipe handle, so by then that number belongs to
      // someone else (a socket of the main thread, for example). x11-capture.ts closes what it opens.
      trackUnmanagedFds: false,
    });
    return new Promise((resolve, reject) => {
      const onMessage = (message: FromWorker) => {
        if (message.type === "log") {
          log(message.entry);
        } else if (message.type === "monitor") {
          cleanup();
          resolve(new ScreenStream(worker, message.geometry, settings, log));
        } else if (message.type === "error") {
          cleanup();
          void worker.terminate();
          reject(new AgentError(message.reason, message.message));
        }
      };
      const onError = (error: Error) => {
        cleanup();
        reject(new AgentError("internal", error.message, { cause: error }));
      };
      const cleanup = () => {
        worker.off("message", onMessage);
        worker.off("error", onError);
      };
      worker.on("message", onMessage);
      worker.on("error", onError);
    });
  }

  get monitor(): MonitorGeometry {
    return this.#monitor;
  }

  get settings(): PipelineSettings {
    return this.#settings;
  }

  /** Capture while true; stay idle (no capture, no CPU) while false. */
  run(running: boolean): void {
    this.#send({ type: "run", running });
  }

  requestKeyframe(): void {
    this.#send({ type: "keyframe" });
  }

  /**
   * Encodes one keyframe now, even while not running, so that a technician about to connect gets
   * a picture the moment the connection is up, without the capture loop competing with the
   * connection set-up for the CPU.
   */
  prime(): void {
    this.#send({ type: "prime" });
  }

  /** Input or pointer movement: the screen is likely to change, so poll at the full rate. */
  activity(): void {
    const now = performance.now();
    if (now - this.#lastActivity < ACTIVITY_THROTTLE_MS) return;
    this.#lastActivity = now;
    this.#send({ type: "activity" });
  }

  /**
   * The screen copy path on (the lossless tiles as `screen` events, frozen in the video) or off
   * (every tile back to the video). On starts a new stream.
   */
  screenPath(on: boolean): void {
    this.#send({ type: "screenPath", on });
  }

  /** A new screen stream for everyone (START + a RESET record of every lossless tile). */
  screenRestart(): void {
    this.#send({ type: "screenRestart" });
  }

  update(settings: Partial<PipelineSettings>): void {
    this.#settings = { ...this.#settings, ...settings };
    this.#send({ type: "settings", settings });
  }

  /** The pipeline's counters; rejects once the stream is closed (the worker cannot answer). */
  stats(): Promise<PipelineStats> {
    if (this.#closed !== undefined) return Promise.reject(closedError());
    return new Promise((resolve, reject) => {
      this.#statsWaiters.push({ resolve, reject });
      this.#send({ type: "stats" });
    });
  }

  /** Stops the worker. Safe to call more than once. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#send({ type: "stop" });
      const exited = new Promise((resolve) => this.#worker.once("exit", resolve));
      const timer = setTimeout(() => void this.#worker.terminate(), 2_000);
      await exited;
      clearTimeout(timer);
      for (const waiter of this.#statsWaiters.splice(0)) waiter.reject(closedError());
    })();
    return this.#closed;
  }

  #send(message: ToWorker): void {
    if (this.#closed === undefined) this.#worker.postMessage(message);
  }

  #fail(error: AgentError): void {
    if (this.#closed !== undefined) return;
    void this.close();
    this.emit("error", error);
  }

  #onMessage(message: FromWorker): void {
    switch (message.type) {
      case "chunk":
        this.emit("chunk", {
          codec: message.codec,
          data: Buffer.from(message.data.buffer, message.data.byteOffset, message.data.byteLength),
          key: message.key,
          timestampUs: message.timestampUs,
          width: message.width,
          height: message.height,
          capturedAt: message.capturedAt,
        });
        return;
      case "screen": {
        const { messages, start, rtpTimestamp, capturedAt } = message;
        this.emit("screen", { messages, start, rtpTimestamp, capturedAt });
        return;
      }
      case "monitor":
        this.#monitor = message.geometry;
        this.emit("monitor", message.geometry);
        return;
      case "stats":
        this.#statsWaiters.shift()?.resolve(message.stats);
        return;
      case "log":
        this.#log(message.entry);
        return;
      case "error":
        this.#fail(new AgentError(message.reason, message.message));
        return;
    }
  }
}

function closedError(): AgentError {
  return new AgentError("internal", "The screen stream is closed.");
}
