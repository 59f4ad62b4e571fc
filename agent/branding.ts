/**
 * A branded build's baked-in settings: the organization's gateway (so the end user types nothing
 * but the PIN) and its name. The packaging step will embed them; until then there are none.
 */
export type BakedConfig = {
  /** The team gateway's address, used when neither a link, --gateway nor SOS_GATEWAY gives one. */
  readonly gateway?: string;
  /** The organization's name, shown before the session starts. */
  readonly brand?: string;
};

/** The configuration baked into this build, or undefined for the plain agent. */
export function bakedConfig(): BakedConfig | undefined {
  return undefined;
}
