/**
 * The capture worker runs below normal priority, so that when the CPU is short (two cores, a
 * screen that scrolls as fast as it can), the main thread (signaling, the control channel), the
 * input worker, the X server and the end user's own programs run first, and the video gives way:
 * fewer frames rather than late clicks. Measured with `npm run bench:agent`: see agent/README.md.
 *
 * Linux keeps a nice value per thread, and threads inherit it from the thread that starts them, so
 * lowering the worker's own thread also lowers the encoder's threads (x264 starts them when the
 * worker configures it). Elsewhere a priority is the whole process's, which must not be lowered:
 * there this does nothing.
 */
import { readlinkSync } from "node:fs";
import { setPriority } from "node:os";

/** Nice value for the capture worker: 10 of 19, well below the default 0 and above idle-only. */
export const CAPTURE_NICE = 10;

/** Lowers this thread's priority (Linux only); false where it could not. */
export function yieldToInput(nice = CAPTURE_NICE): boolean {
  if (process.platform !== "linux") return false;
  try {
    // "/proc/thread-self" links to "/proc/<pid>/task/<tid>": this thread's own id.
    const tid = Number(readlinkSync("/proc/thread-self").split("/").pop());
    if (!Number.isInteger(tid) || tid <= 0) return false;
    setPriority(tid, nice);
    return true;
  } catch {
    return false;
  }
}
