import t from "tap";
import { SIGN_IN_LIMITS } from "../../../signaling/domain/technicians.ts";
import { ADMIN, errorCode, PASSWORD, startTestGateway } from "../../helpers/gateway.ts";
import { retryAfterOf, signInFrom, WRONG_PASSWORD as WRONG } from "../../helpers/security.ts";

/**
 * Credential stuffing (TeamViewer 2016): many accounts tried from one address block that address.
 * The per-account limit and its growing block are in sign-in-throttle.test.ts.
 */

t.test("many accounts tried from one address block that address, not the accounts elsewhere", async (t) => {
  const gw = await startTestGateway({ config: { trustProxy: ["loopback"] } });
  t.teardown(() => gw.close());
  const attacker = "203.0.113.7";
  const elsewhere = "198.51.100.20";
  const victims = await Promise.all(["Ann", "Ben"].map((name) => gw.technician(name)));
  const perAddress = SIGN_IN_LIMITS.maxFailures * 4;
  // Each account gets fewer failures than its own limit; only the address adds up.
  const emails = Array.from({ length: perAddress }, (_, i) =>
    i < victims.length * (SIGN_IN_LIMITS.maxFailures - 1)
      ? (victims[i % victims.length]?.email ?? "")
      : `unknown${i}@example.test`,
  );
  const anon = gw.anonymous();
  const failures = await Promise.all(emails.map((email) => signInFrom(anon, email, WRONG, attacker)));
  t.same(
    failures.map((response) => errorCode(response.body)),
    emails.map(() => "INVALID_CREDENTIALS"),
    `${perAddress} wrong passwords across ${victims.length} accounts and unknown emails are each checked`,
  );

  const blocked = await signInFrom(anon, ADMIN.email, ADMIN.password, attacker);
  t.equal(
    errorCode(blocked.body),
    "SIGNIN_THROTTLED",
    "then that address cannot sign in, even with a right password",
  );
  t.ok((retryAfterOf(blocked) ?? 0) > 0, "with a retry-after");
  const victimFromAttacker = await signInFrom(anon, victims[0]?.email ?? "", PASSWORD, attacker);
  t.equal(errorCode(victimFromAttacker.body), "SIGNIN_THROTTLED");

  for (const victim of victims) {
    const response = await signInFrom(gw.anonymous(), victim.email, PASSWORD, elsewhere);
    t.equal(response.status, 200, `${victim.email} still signs in from another address`);
  }
});

t.test(
  "without a trusted proxy, a made-up X-Forwarded-For does not escape the per-address limit",
  async (t) => {
    const gw = await startTestGateway();
    t.teardown(() => gw.close());
    const anon = gw.anonymous();
    const perAddress = SIGN_IN_LIMITS.maxFailures * 4;
    const failures = await Promise.all(
      Array.from({ length: perAddress }, (_, i) =>
        signInFrom(anon, `nobody${i}@example.test`, WRONG, `192.0.2.${i + 1}`),
      ),
    );
    t.ok(
      failures.every((response) => errorCode(response.body) === "INVALID_CREDENTIALS"),
      `${perAddress} failures, each claiming another address`,
    );
    const blocked = await signInFrom(anon, ADMIN.email, ADMIN.password, "192.0.2.250");
    t.equal(
      errorCode(blocked.body),
      "SIGNIN_THROTTLED",
      "the real address is blocked whatever the header says",
    );
  },
);
