/** Time as the gateway sees it; tests hand in a clock they can move. */
export type Clock = { now(): number };

export const systemClock: Clock = { now: () => Date.now() };

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
