/**
 * Top-offs: once the screen has stayed still for a moment after a frame was encoded, the capture
 * worker encodes the same picture again, a few times, as ordinary (non-key) frames. The encoder's
 * rate control spends the idle budget on them and each one sharpens the picture the technician
 * reads (the agent sends nothing while the screen is unchanged, so without them text left after a
 * scroll keeps the quality of the last scrolled frame). Then nothing until the screen changes.
 *
 * Measured with `node scripts/bench-encoder-quality.ts` (H.264 CBR 3 Mbit/s at 30 fps, 1080p
 * scrolling text, top-offs 200 ms apart): the last scrolled frame (30–33 dB luma PSNR) gains
 * 1.8–2.9 dB after three top-offs (five runs), 52–81 kbit for the three, and ~0.3 dB for each one
 * after that. One keyframe instead gained 4.4–4.7 dB but cost 284–296 kbit (a burst of ~100 ms of
 * the link), delta frames after it changed nothing, and a second keyframe lost the gain again;
 * so top-offs are delta frames, cheap enough to send after every change.
 *
 * H.264 only: with VP8 (`PROBE_CODEC=vp8`, one run) the last frame was already at 62 dB and
 * top-offs changed nothing, and VP8's realtime mode makes every tenth frame a keyframe (590 kbit
 * there), which a top-off can be.
 */

/**
 * How long the screen stays still after a frame before it is encoded again: the interval of the
 * lowest frame rate the worker keeps to (MIN_FRAME_RATE, 5 fps), so that while the screen
 * changes at any rate the worker allows, frames come closer together than this and no top-off
 * takes their place; short enough that the picture is sharp before the technician has read it.
 */
export const TOP_OFF_AFTER_MS = 200;
/** Top-offs per still period: the gain per top-off shrinks, and each costs a frame of bits. */
export const TOP_OFFS = 3;
/**
 * How long after input (a key, a click: the worker hears of it at most every 250 ms) top-offs
 * wait. A top-off is a whole 1080p frame for x264 (20-40 ms of it here, more under load), and
 * while someone types the next key's echo came in while one was encoded and waited behind it
 * (bench:latency); while the person types, the echo frames themselves are the picture, and the
 * top-offs come in the first pause of a second.
 */
export const TOP_OFF_AFTER_INPUT_MS = 1_000;

/**
 * While viewed, the video gets a frame at least this often: the unchanged picture again (a delta
 * of skipped blocks, ~1 kbit) when nothing else went to the encoder. A browser that decodes no
 * frame for 3 s while packets came in the 5 s before asks for a keyframe (libwebrtc's
 * VideoReceiveStream2), and then again 3 s after that one: on a still screen, or while the screen
 * path carries every change (the capture worker's screenOnly), a whole keyframe every 3 s (seen in
 * bench:latency: 10 keyframes of 13 frames encoded). Chrome's own screen sharing repeats its last
 * frame once a second for the same reason.
 */
export const REPEAT_AFTER_MS = 1_000;

export type TopOff =
  /** Nothing to refine: the screen changed and is not encoded yet, or the top-offs are done. */
  | { readonly state: "none" }
  /** `left` top-offs to go; the next once the screen is still at `dueAt` (performance.now()). */
  | { readonly state: "waiting"; readonly left: number; readonly dueAt: number };

export const NO_TOP_OFF: TopOff = { state: "none" };

/**
 * A frame of a new picture was encoded (captured at `capturedAt`; the last input came at
 * `inputAt`): its top-offs start over.
 */
export function afterFrame(capturedAt: number, inputAt = Number.NEGATIVE_INFINITY): TopOff {
  const dueAt = Math.max(capturedAt + TOP_OFF_AFTER_MS, inputAt + TOP_OFF_AFTER_INPUT_MS);
  return { state: "waiting", left: TOP_OFFS, dueAt };
}

/** A top-off was encoded (captured at `capturedAt`): the next one, or none after the last. */
export function afterTopOff(topOff: TopOff, capturedAt: number): TopOff {
  if (topOff.state === "none" || topOff.left <= 1) return NO_TOP_OFF;
  return { state: "waiting", left: topOff.left - 1, dueAt: capturedAt + TOP_OFF_AFTER_MS };
}

/** Input came at `at`: the top-offs due wait until the person has paused. */
export function afterInput(topOff: TopOff, at: number): TopOff {
  if (topOff.state === "none") return topOff;
  return { ...topOff, dueAt: Math.max(topOff.dueAt, at + TOP_OFF_AFTER_INPUT_MS) };
}

/** Whether an unchanged capture started at `capturedAt` is encoded again as a top-off. */
export function topOffDue(topOff: TopOff, capturedAt: number): boolean {
  return topOff.state === "waiting" && capturedAt >= topOff.dueAt;
}

/** How long until the next top-off is due (0 when it is), or undefined when none is. */
export function msUntilTopOff(topOff: TopOff, now: number): number | undefined {
  return topOff.state === "waiting" ? Math.max(0, topOff.dueAt - now) : undefined;
}
