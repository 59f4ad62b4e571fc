import { SosError } from "./errors.ts";
import { CHAT_BURST_LINES, CHAT_LINES_PER_SECOND } from "./limits.ts";
import { RateBuckets } from "./rate-buckets.ts";

/**
 * A token bucket per chat sender (RateBuckets): CHAT_BURST_LINES lines at once, refilled at
 * CHAT_LINES_PER_SECOND; past it, CHAT_TOO_FAST with `retryAfter`.
 * The gateway holds every sender to it (signaling/domain/chat.ts); the agent holds its end user to
 * it before sending, so a pasted block of lines is refused there, not sent as a flood that the
 * gateway answers by closing the socket (MAX_QUEUED_SOCKET_MESSAGES).
 */
export class ChatRate extends RateBuckets {
  constructor(clock: { now(): number }) {
    super(clock, {
      burst: CHAT_BURST_LINES,
      perSecond: CHAT_LINES_PER_SECOND,
      refused: (retryAfter) =>
        new SosError("CHAT_TOO_FAST", "Too many chat lines at once: wait a moment.", { retryAfter }),
    });
  }
}
