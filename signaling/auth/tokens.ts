import { createHash, randomBytes, randomInt, randomUUID } from "node:crypto";
import { LINK_TOKEN_BYTES, PIN_LENGTH } from "../../shared/limits.ts";

/** Random identifiers and secrets, each from the operating system's CSPRNG. */

export function newId(): string {
  return randomUUID();
}

/** A session link token: 144 random bits, URL-safe. */
export function newLinkToken(): string {
  return randomBytes(LINK_TOKEN_BYTES).toString("base64url");
}

/** A secret (cookie, resume, setup): 256 random bits, URL-safe. */
export function newSecret(): string {
  return randomBytes(32).toString("base64url");
}

/** Nine uniformly random digits (leading zeros allowed). */
export function newPin(): string {
  let pin = "";
  for (let i = 0; i < PIN_LENGTH; i += 1) pin += String(randomInt(10));
  return pin;
}

/** Secrets are stored as their SHA-256 only. */
export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("base64url");
}
