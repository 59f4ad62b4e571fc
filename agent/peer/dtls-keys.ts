/**
 * werift's DTLS record cipher (dtls/src/cipher/suites/aead.ts) hands its write keys to
 * createCipheriv/createDecipheriv as Buffers, once per record. Node 24 then checks each Buffer for
 * being a KeyObject and a CryptoKey by private-field brand checks that throw and catch: measured
 * with `npm run bench:files`, those two checks were ~28 % of the CPU a data channel transfer took
 * (AES-GCM itself ~5 %). The same keys as KeyObjects pass the first check at once; werift hands
 * them on untouched. Applied to each peer once DTLS is up (the keys exist from then on); a werift
 * that stores its keys elsewhere is left as it is.
 */
import { createSecretKey } from "node:crypto";

const KEY_FIELDS = ["clientWriteKey", "serverWriteKey"] as const;

function field(value: unknown, name: string): unknown {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>)[name] : undefined;
}

/** Turns the DTLS write keys of `pc`'s transports into KeyObjects; returns how many it changed. */
export function keyObjectsForDtls(pc: { readonly dtlsTransports: readonly unknown[] }): number {
  let changed = 0;
  for (const transport of pc.dtlsTransports) {
    const cipher = field(field(field(transport, "dtls"), "cipher"), "cipher");
    if (typeof cipher !== "object" || cipher === null) continue;
    const keys = cipher as Record<string, unknown>;
    for (const name of KEY_FIELDS) {
      const key = keys[name];
      if (!Buffer.isBuffer(key)) continue;
      keys[name] = createSecretKey(key);
      changed++;
    }
  }
  return changed;
}
