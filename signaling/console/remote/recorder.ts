import { SosError } from "../../../shared/errors.ts";
import {
  MAX_RECORDING_CHUNK_BYTES,
  RECORDING_CHUNK_INTERVAL_MS,
  RECORDING_CONFIRM_TIMEOUT_MS,
} from "../../../shared/limits.ts";
import { api, errorText } from "../lib/api.ts";
import { createStore, type Store } from "../lib/store.ts";
import type { PictureSource, RecordedPicture } from "./recording-picture.ts";

/**
 * Recording a remote view: what this console shows of the end user's screen (the video with the
 * lossless overlay over it: recording-picture.ts), as WebM (MediaRecorder), uploaded to the gateway in chunks while it records, so a closed tab loses at
 * most RECORDING_CHUNK_INTERVAL_MS and what was in flight.
 *
 * The order that keeps the end user informed: ask the gateway to start (it tells the end user's
 * agent, which prints the notice and confirms), wait until the gateway has the agent's
 * confirmation (`confirmedAt`), and only then start the MediaRecorder. The gateway refuses every
 * chunk before that confirmation itself (RECORDING_NOT_CONFIRMED).
 */

export type RecordingPhase =
  | { kind: "idle" }
  | { kind: "starting" }
  | { kind: "recording"; id: string; since: number }
  | { kind: "stopping" }
  | { kind: "failed"; message: string };

const CONFIRM_POLL_MS = 200;
/** WebM the way Chromium and Firefox both record it; the first one the browser has. */
const MIME_TYPES = ["video/webm;codecs=vp8", "video/webm;codecs=vp9", "video/webm"];

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export type Recorder = {
  phase: Store<RecordingPhase>;
  /** Records the picture `source` makes once the end user's agent confirmed. */
  start(source: PictureSource): Promise<void>;
  /** Stops and uploads what is left; safe to call when not recording. */
  stop(): Promise<void>;
};

export function createRecorder(sessionId: string): Recorder {
  const phase = createStore<RecordingPhase>({ kind: "idle" });
  let media: MediaRecorder | null = null;
  /** What `media` records; closed when the recording ends. */
  let picture: RecordedPicture | null = null;
  let id = "";
  /** Bytes the gateway has, and what is recorded but not yet taken. */
  let sent = 0;
  let pending: Blob[] = [];
  let uploading: Promise<void> = Promise.resolve();
  let startedAt = 0;
  /** Stop was asked while starting: the recording ends as soon as it exists. */
  let cancelled = false;

  const fail = (error: unknown): void => {
    phase.set({ kind: "failed", message: errorText(error) });
  };

  /** Uploads what is pending, one request at a time, from the offset the gateway counts. */
  const upload = (): Promise<void> => {
    uploading = uploading.then(async () => {
      while (pending.length > 0) {
        const all = new Blob(pending);
        const part = all.slice(0, MAX_RECORDING_CHUNK_BYTES);
        try {
          await api.recordingChunk(id, sent, part);
          sent += part.size;
          pending = part.size < all.size ? [all.slice(part.size)] : [];
        } catch (error) {
          if (error instanceof SosError && error.code === "RECORDING_OFFSET_MISMATCH") {
            // An earlier answer got lost after the gateway stored it: skip what it already has.
            const { recording } = await api.recording(id);
            const ahead = recording.bytes - sent;
            if (ahead <= 0 || ahead > all.size) throw error;
            sent = recording.bytes;
            pending = [all.slice(ahead)];
            continue;
          }
          if (
            error instanceof SosError &&
            !["STORE_UNAVAILABLE", "RECORDING_STORAGE_FAILED"].includes(error.code)
          )
            throw error;
          // The gateway's trouble or the network: the bytes stay pending for the next round.
          return;
        }
      }
    });
    uploading = uploading.catch((error: unknown) => {
      fail(error);
      media?.stop();
    });
    return uploading;
  };

  const recorder: Recorder = {
    phase,
    async start(source) {
      if (phase.get().kind === "starting" || phase.get().kind === "recording") return;
      phase.set({ kind: "starting" });
      cancelled = false;
      try {
        const { recording } = await api.startRecording(sessionId);
        id = recording.id;
        sent = 0;
        pending = [];
        const deadline = Date.now() + RECORDING_CONFIRM_TIMEOUT_MS;
        for (let confirmed = recording.confirmedAt !== null; !confirmed; ) {
          if (Date.now() > deadline) throw new SosError("RECORDING_NOT_CONFIRMED", "");
          await wait(CONFIRM_POLL_MS);
          confirmed = (await api.recording(id)).recording.confirmedAt !== null;
        }
        if (cancelled) {
          await api.stopRecording(id, 0);
          phase.set({ kind: "idle" });
          return;
        }
        const mimeType = MIME_TYPES.find((type) => MediaRecorder.isTypeSupported(type)) ?? "";
        picture = source();
        media = new MediaRecorder(picture.stream, mimeType === "" ? {} : { mimeType });
        media.addEventListener("dataavailable", (event) => {
          if (event.data.size === 0) return;
          pending.push(event.data);
          void upload();
        });
        // The picture ended under it (a new peer after a reconnect): this recording ends too.
        const own = media;
        own.addEventListener("stop", () => {
          if (media === own) void stop();
        });
        media.start(RECORDING_CHUNK_INTERVAL_MS);
        startedAt = Date.now();
        phase.set({ kind: "recording", id, since: startedAt });
      } catch (error) {
        media = null;
        picture?.close();
        picture = null;
        if (id !== "") await api.stopRecording(id, undefined).catch(() => undefined);
        fail(error);
      }
    },
    stop: () => stop(),
  };
  return recorder;

  async function stop(): Promise<void> {
    const current = media;
    if (phase.get().kind === "starting") cancelled = true;
    if (current === null || phase.get().kind !== "recording") return;
    phase.set({ kind: "stopping" });
    media = null;
    // A recorder that stopped by itself (its track ended) has handed over its last data already.
    if (current.state !== "inactive") {
      const flushed = new Promise((resolve) => current.addEventListener("stop", resolve, { once: true }));
      current.stop();
      await flushed;
    }
    picture?.close();
    picture = null;
    await upload();
    try {
      await api.stopRecording(id, Date.now() - startedAt);
      if (phase.get().kind === "stopping") phase.set({ kind: "idle" });
    } catch (error) {
      fail(error);
    }
  }
}
