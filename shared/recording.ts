import { z } from "zod";
import { DEFAULT_RECORDING_RETENTION_DAYS, MAX_RECORDING_RETENTION_DAYS } from "./limits.ts";

/**
 * Session recording: what a channel asks for, and a recording as the gateway lists it. The console
 * records what it receives (MediaRecorder, WebM) and uploads it in chunks; the gateway keeps the
 * file in its data directory and the facts below in its store.
 */

/** off: never (the gateway refuses); request: a button in the remote view; always: from the view's start. */
export const RECORDING_MODES = ["off", "request", "always"] as const;
export const recordingModeSchema = z.enum(RECORDING_MODES);
export type RecordingMode = z.infer<typeof recordingModeSchema>;

export const retentionDaysSchema = z.number().int().min(1).max(MAX_RECORDING_RETENTION_DAYS);

/** A channel's recording setting. */
export const channelRecordingSchema = z.object({
  mode: recordingModeSchema,
  /** Recordings of this channel's sessions are deleted this many days after they ended. */
  retentionDays: retentionDaysSchema,
});
export type ChannelRecording = z.infer<typeof channelRecordingSchema>;

export const DEFAULT_CHANNEL_RECORDING: ChannelRecording = {
  mode: "off",
  retentionDays: DEFAULT_RECORDING_RETENTION_DAYS,
};

/**
 * A recording: `confirmedAt` is when the end user's agent confirmed it showed the notice (no
 * chunk is taken before); `endedAt` null while it runs (or when its tab closed without stopping:
 * then the last chunk's time counts for retention).
 */
export const recordingSchema = z.object({
  id: z.string(),
  sessionId: z.string(),
  technician: z.object({ id: z.string(), name: z.string() }),
  startedAt: z.iso.datetime(),
  confirmedAt: z.iso.datetime().nullable(),
  endedAt: z.iso.datetime().nullable(),
  bytes: z.number().int().nonnegative(),
  /** As the console measured it, once stopped; null when unknown. */
  durationMs: z.number().int().nonnegative().nullable(),
});
export type Recording = z.infer<typeof recordingSchema>;
