/**
 * Short-lived TURN credentials, the TURN REST scheme coturn checks with `use-auth-secret`:
 * the username is `<unix expiry>:<id>` and the password is base64(HMAC-SHA1(secret, username)).
 * coturn recomputes the password from the username and its own copy of the secret, and refuses the
 * username once its expiry has passed, so the gateway never stores or hands out a long-lived password.
 *
 * Pure: the caller passes the clock. The gateway mints one per remote view (relay.ts).
 */
import { createHmac } from "node:crypto";

export type TurnCredentialRequest = {
  /** The secret shared with coturn (`static-auth-secret`). */
  readonly secret: string;
  /** How long the credential stays valid, in whole seconds (at least 1). */
  readonly ttlSeconds: number;
  /** Who the credential is for (a session or peer id); must not contain ":". */
  readonly id: string;
  /** The current time in milliseconds since the epoch (`Date.now()`). */
  readonly now: number;
};

export type TurnCredential = {
  /** `<unix expiry>:<id>` */
  readonly username: string;
  /** base64(HMAC-SHA1(secret, username)) */
  readonly credential: string;
  /** The expiry in milliseconds since the epoch (whole seconds, as coturn reads it). */
  readonly expiresAt: number;
};

export function mintTurnCredential(request: TurnCredentialRequest): TurnCredential {
  const { secret, ttlSeconds, id, now } = request;
  if (secret.length === 0) throw new RangeError("TURN secret must not be empty");
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1) {
    throw new RangeError(`TURN credential ttl must be a whole number of seconds >= 1, got ${ttlSeconds}`);
  }
  if (id.length === 0 || id.includes(":")) {
    throw new RangeError("TURN credential id must be non-empty and must not contain ':'");
  }
  if (!Number.isFinite(now)) throw new RangeError("now must be a finite time in milliseconds");
  const expirySeconds = Math.floor(now / 1000) + ttlSeconds;
  const username = `${expirySeconds}:${id}`;
  const credential = createHmac("sha1", secret).update(username).digest("base64");
  return { username, credential, expiresAt: expirySeconds * 1000 };
}
