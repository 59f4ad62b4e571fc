/** WebSocket close codes of the gateway's sockets (4000–4999 are the application's own). */
export const CLOSE = {
  normal: 1000,
  tooLarge: 1009,
  /** The gateway could not serve the hello now (its store is unavailable, a fault): come back later. */
  tryAgain: 1013,
  protocolError: 4400,
  unauthenticated: 4401,
  forbidden: 4403,
  helloTimeout: 4408,
  replaced: 4409,
  ended: 4410,
  /** More than MAX_QUEUED_SOCKET_MESSAGES messages waiting to be handled: the sender floods. */
  flooded: 4429,
} as const;

/** After these the gateway does not want the agent back: it must not resume. */
export const FINAL_AGENT_CLOSE_CODES: readonly number[] = [CLOSE.protocolError, CLOSE.ended];
