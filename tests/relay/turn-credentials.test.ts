import { execFile } from "node:child_process";
import { promisify } from "node:util";
import t from "tap";
import { mintTurnCredential } from "../../signaling/turn/credentials.ts";

const run = promisify(execFile);

/** The same HMAC computed by another implementation: `openssl dgst -sha1 -hmac <secret> -binary | base64`. */
async function opensslHmacSha1Base64(secret: string, text: string): Promise<string> {
  const { stdout } = await run(
    "bash",
    ["-c", 'printf %s "$TEXT" | openssl dgst -sha1 -hmac "$SECRET" -binary | base64'],
    {
      env: { ...process.env, TEXT: text, SECRET: secret },
    },
  );
  return stdout.trim();
}

t.test("the username is '<unix expiry>:<id>' with the expiry ttl seconds after now", async (t) => {
  const now = Date.UTC(2026, 11, 1, 12, 0, 0, 750);
  const minted = mintTurnCredential({ secret: "s3cret", ttlSeconds: 3600, id: "peer-42", now });
  const expiry = Math.floor(now / 1000) + 3600;
  t.equal(minted.username, `${expiry}:peer-42`);
  t.equal(minted.expiresAt, expiry * 1000);
});

t.test("the credential is base64(HMAC-SHA1(secret, username)), as openssl computes it", async (t) => {
  for (const [secret, id] of [
    ["s3cret", "peer-42"],
    ["a longer secret with spaces and ümlauts", "0b6f3c2e-session"],
  ] as const) {
    const minted = mintTurnCredential({ secret, ttlSeconds: 600, id, now: 1_790_000_000_000 });
    t.equal(minted.credential, await opensslHmacSha1Base64(secret, minted.username), `secret ${secret}`);
  }
});

t.test("a fixed vector: secret 'north', username '1790000600:alice'", async (t) => {
  // Computed once with: printf %s 1790000600:alice | openssl dgst -sha1 -hmac north -binary | base64
  const minted = mintTurnCredential({
    secret: "north",
    ttlSeconds: 600,
    id: "alice",
    now: 1_790_000_000_000,
  });
  t.equal(minted.username, "1790000600:alice");
  t.equal(minted.credential, "4RRr0jBq4RcyYNm/iCBqluh8dJg=");
});

t.test("refuses an empty secret, a ttl below one second or not whole, and an id with ':'", async (t) => {
  const base = { secret: "x", ttlSeconds: 60, id: "p", now: 0 };
  t.throws(() => mintTurnCredential({ ...base, secret: "" }), RangeError);
  t.throws(() => mintTurnCredential({ ...base, ttlSeconds: 0 }), RangeError);
  t.throws(() => mintTurnCredential({ ...base, ttlSeconds: 1.5 }), RangeError);
  t.throws(() => mintTurnCredential({ ...base, id: "" }), RangeError);
  t.throws(() => mintTurnCredential({ ...base, id: "a:b" }), RangeError);
  t.throws(() => mintTurnCredential({ ...base, now: Number.NaN }), RangeError);
});
