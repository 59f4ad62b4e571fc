import t from "tap";
import { SIGN_IN_LIMITS } from "../../../signaling/domain/technicians.ts";
import { ADMIN, errorCode, PASSWORD, startTestGateway, TestClock } from "../../helpers/gateway.ts";
import { retryAfterOf, signInFrom, WRONG_PASSWORD as WRONG } from "../../helpers/security.ts";

/**
 * Credential stuffing (TeamViewer 2016): sign-in attempts are throttled per account and per address,
 * and each further block lasts longer.
 */

const firstBlockSeconds = SIGN_IN_LIMITS.baseBlockMs / 1000;

t.test(
  "wrong passwords for one account block it, the right password too, and the next block is longer",
  async (t) => {
    const clock = new TestClock();
    const gw = await startTestGateway({ options: { clock } });
    t.teardown(() => gw.close());
    const tech = await gw.technician("Vic Victim");
    const anon = gw.anonymous();

    for (let i = 1; i <= SIGN_IN_LIMITS.maxFailures; i += 1) {
      const response = await signInFrom(anon, tech.email, WRONG);
      t.equal(errorCode(response.body), "INVALID_CREDENTIALS", `wrong password ${i}: INVALID_CREDENTIALS`);
    }
    const blocked = await signInFrom(anon, tech.email, WRONG);
    t.equal(blocked.status, 429, `after ${SIGN_IN_LIMITS.maxFailures} wrong passwords: 429`);
    t.equal(errorCode(blocked.body), "SIGNIN_THROTTLED");
    t.equal(retryAfterOf(blocked), firstBlockSeconds, "the body says how long to wait");
    t.equal(blocked.headers.get("retry-after"), String(firstBlockSeconds), "so does the Retry-After header");

    const right = await signInFrom(anon, tech.email, PASSWORD);
    t.equal(errorCode(right.body), "SIGNIN_THROTTLED", "the right password is refused during the block");
    t.equal(right.headers.get("set-cookie"), null, "and sets no cookie");
    const shouted = await signInFrom(anon, tech.email.toUpperCase(), PASSWORD);
    t.equal(
      errorCode(shouted.body),
      "SIGNIN_THROTTLED",
      "the same account spelled in capitals is blocked too",
    );

    const other = await signInFrom(gw.anonymous(), ADMIN.email, ADMIN.password);
    t.equal(other.status, 200, "another account signs in from the same address (the block is per account)");

    clock.advance(SIGN_IN_LIMITS.baseBlockMs - 1_000);
    const almost = await signInFrom(anon, tech.email, PASSWORD);
    t.equal(errorCode(almost.body), "SIGNIN_THROTTLED", "one second before the block ends: still refused");
    t.equal(retryAfterOf(almost), 1);

    clock.advance(2_000);
    for (let i = 1; i <= SIGN_IN_LIMITS.maxFailures; i += 1) {
      const response = await signInFrom(anon, tech.email, WRONG);
      t.equal(
        errorCode(response.body),
        "INVALID_CREDENTIALS",
        `after the block, wrong password ${i} is checked`,
      );
    }
    const second = await signInFrom(anon, tech.email, PASSWORD);
    t.equal(errorCode(second.body), "SIGNIN_THROTTLED", "the second round of failures blocks again");
    const secondBlock = retryAfterOf(second) ?? 0;
    t.ok(secondBlock > firstBlockSeconds, `the second block (${secondBlock} s) is longer than the first`);
    t.equal(secondBlock, firstBlockSeconds * 2, "it doubles");

    clock.advance(secondBlock * 1000 - 1_000);
    t.equal(
      errorCode((await signInFrom(anon, tech.email, PASSWORD)).body),
      "SIGNIN_THROTTLED",
      "still within it",
    );
    clock.advance(2_000);
    const after = await signInFrom(gw.anonymous(), tech.email, PASSWORD);
    t.equal(after.status, 200, "once the block is over, the right password signs in");
  },
);

t.test("parallel guesses at one account are bounded by the same limit as sequential ones", async (t) => {
  const gw = await startTestGateway({ config: { trustProxy: ["loopback"] } });
  t.teardown(() => gw.close());
  const tech = await gw.technician("Pat Parallel");
  const anon = gw.anonymous();
  const attempts = 40;
  // From many addresses at once, so neither the per-address limit nor the API rate limit answers first.
  const responses = await Promise.all(
    Array.from({ length: attempts }, (_, i) =>
      signInFrom(anon, tech.email, `${WRONG}-${i}`, `203.0.113.${i + 1}`),
    ),
  );
  const checked = responses.filter((response) => errorCode(response.body) === "INVALID_CREDENTIALS").length;
  const throttled = responses.filter((response) => errorCode(response.body) === "SIGNIN_THROTTLED").length;
  t.equal(checked + throttled, attempts, "every attempt is answered as wrong or throttled");
  t.ok(
    checked <= SIGN_IN_LIMITS.maxFailures,
    `at most ${SIGN_IN_LIMITS.maxFailures} of ${attempts} simultaneous guesses are checked (${checked} were)`,
  );
  const right = await signInFrom(anon, tech.email, PASSWORD, "198.51.100.99");
  t.equal(errorCode(right.body), "SIGNIN_THROTTLED", "and the account is blocked afterwards");
});
