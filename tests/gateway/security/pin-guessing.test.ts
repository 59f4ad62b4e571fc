import t from "tap";
import { PIN_LIMITS } from "../../../signaling/domain/pin-guard.ts";
import { startTestGateway, TestClock } from "../../helpers/gateway.ts";
import { type HelloOutcome, hello, wrongPin } from "../../helpers/security.ts";

/**
 * PIN guessing (Chrome Remote Desktop ends a pairing after 5 wrong tries; RustDesk blocks an address
 * after repeated wrong passwords). Guesses from one address and from many addresses are both limited,
 * and legitimate joins still succeed. All test sockets come from 127.0.0.1, so the gateway trusts
 * X-Forwarded-For here to see many addresses.
 */

const from = (address: string) => ({ "x-forwarded-for": address });

function outcome(result: HelloOutcome): string {
  result.socket.close();
  return result.ok ? "welcome" : result.code;
}

async function startPinGateway() {
  const clock = new TestClock();
  const gw = await startTestGateway({ config: { trustProxy: ["loopback"] }, options: { clock } });
  const tech = await gw.technician("Pia Pin");
  const target = await gw.newSession(tech.client);
  const other = await gw.newSession(tech.client);
  const linked = await gw.newSession(tech.client);
  const live = [target.pin, other.pin, linked.pin];
  let seed = 100_000_000;
  const guess = () => {
    seed += 7_919;
    return wrongPin(live, seed);
  };
  return { gw, clock, target, other, linked, guess };
}

t.test(
  "one address: 5 wrong PINs block it, even for the right PIN; others and link joins are unaffected; the block grows",
  async (t) => {
    const { gw, clock, target, other, linked, guess } = await startPinGateway();
    t.teardown(() => gw.close());
    const attacker = "203.0.113.5";

    const first = await hello(gw.url, { kind: "pin", pin: guess() }, from(attacker));
    t.equal(first.ok ? "welcome" : first.code, "SESSION_NOT_FOUND", "a wrong PIN: SESSION_NOT_FOUND");
    if (!first.ok) t.equal(first.closeCode, 4400, "and the socket is closed");
    for (let i = 2; i <= PIN_LIMITS.perAddressFailures; i += 1) {
      const result = await hello(gw.url, { kind: "pin", pin: guess() }, from(attacker));
      t.equal(outcome(result), "SESSION_NOT_FOUND", `wrong PIN ${i}: looked up`);
    }
    const limited = await hello(gw.url, { kind: "pin", pin: guess() }, from(attacker));
    t.equal(
      limited.ok ? "welcome" : limited.code,
      "PIN_RATE_LIMITED",
      "the next guess is refused without a lookup",
    );
    if (!limited.ok) {
      t.equal(limited.retryAfter, PIN_LIMITS.perAddressBlockMs / 1000, "with how long to wait");
      t.equal(limited.closeCode, 4400);
    }
    const lucky = await hello(gw.url, { kind: "pin", pin: target.pin }, from(attacker));
    t.equal(outcome(lucky), "PIN_RATE_LIMITED", "the right PIN from the blocked address is refused too");

    const legit = await hello(gw.url, { kind: "pin", pin: target.pin }, from("198.51.100.1"));
    t.equal(outcome(legit), "welcome", "the end user at another address joins with the PIN meanwhile");
    const viaLink = await hello(gw.url, { kind: "link", token: linked.token }, from(attacker));
    t.equal(outcome(viaLink), "welcome", "a link join from the blocked address is unaffected by PIN limits");

    clock.advance(PIN_LIMITS.perAddressBlockMs - 1_000);
    const stillBlocked = await hello(gw.url, { kind: "pin", pin: other.pin }, from(attacker));
    t.equal(outcome(stillBlocked), "PIN_RATE_LIMITED", "one second before the block ends: still refused");
    clock.advance(2_000);
    for (let i = 1; i <= PIN_LIMITS.perAddressFailures; i += 1) {
      const result = await hello(gw.url, { kind: "pin", pin: guess() }, from(attacker));
      t.equal(outcome(result), "SESSION_NOT_FOUND", `after the block, wrong PIN ${i}: looked up`);
    }
    const again = await hello(gw.url, { kind: "pin", pin: guess() }, from(attacker));
    t.equal(again.ok ? "welcome" : again.code, "PIN_RATE_LIMITED", "five more wrong PINs block it again");
    if (!again.ok) t.equal(again.retryAfter, (PIN_LIMITS.perAddressBlockMs * 2) / 1000, "for twice as long");
    again.socket.close();

    const health = await gw.anonymous().get("/healthz");
    t.match(health.body, { ok: true }, "the gateway is up");
  },
);

t.test(
  "many addresses: past 30 wrong PINs a minute, guessing addresses are refused while clean ones still join",
  async (t) => {
    const { gw, clock, target, other, linked, guess } = await startPinGateway();
    t.teardown(() => gw.close());
    const budget = PIN_LIMITS.globalFailuresPerMinute;
    const perAddress = PIN_LIMITS.perAddressFailures - 2;
    const addresses = Array.from({ length: budget / perAddress }, (_, i) => `203.0.113.${i + 10}`);

    let failures = 0;
    for (let round = 0; round < perAddress; round += 1) {
      for (const address of addresses) {
        const result = await hello(gw.url, { kind: "pin", pin: guess() }, from(address));
        failures += 1;
        if (outcome(result) !== "SESSION_NOT_FOUND")
          t.fail(`wrong PIN ${failures} from ${address} was not looked up (${outcome(result)})`);
      }
    }
    t.equal(
      failures,
      budget,
      `${budget} wrong PINs from ${addresses.length} addresses, each below its own limit, were looked up`,
    );

    const suspect = addresses[0] ?? "";
    const refused = await hello(gw.url, { kind: "pin", pin: target.pin }, from(suspect));
    t.equal(
      refused.ok ? "welcome" : refused.code,
      "PIN_RATE_LIMITED",
      "an address that guessed wrong is refused now",
    );
    if (!refused.ok)
      t.ok((refused.retryAfter ?? 0) >= 1 && (refused.retryAfter ?? 0) <= 60, "until the minute has room");

    const legit = await hello(gw.url, { kind: "pin", pin: target.pin }, from("198.51.100.7"));
    t.equal(
      outcome(legit),
      "welcome",
      "an end user at a clean address joins with the right PIN during the flood",
    );
    const firstTry = await hello(gw.url, { kind: "pin", pin: guess() }, from("198.51.100.8"));
    t.equal(
      outcome(firstTry),
      "SESSION_NOT_FOUND",
      "a clean address's first (mistyped) PIN is still looked up",
    );
    const secondTry = await hello(gw.url, { kind: "pin", pin: other.pin }, from("198.51.100.8"));
    t.equal(outcome(secondTry), "PIN_RATE_LIMITED", "after that it counts as guessing while the flood lasts");
    const viaLink = await hello(gw.url, { kind: "link", token: linked.token }, from(suspect));
    t.equal(outcome(viaLink), "welcome", "link joins are unaffected by the global PIN limit");

    clock.advance(60_000);
    const later = await hello(gw.url, { kind: "pin", pin: other.pin }, from(suspect));
    t.equal(outcome(later), "welcome", "once the minute has room again, the address may look up PINs");
  },
);

t.test(
  "an address that was blocked counts as a guesser under the global limit after its block ends",
  async (t) => {
    const { gw, clock, target, guess } = await startPinGateway();
    t.teardown(() => gw.close());
    const blocked = "203.0.113.99";
    for (let i = 0; i < PIN_LIMITS.perAddressFailures; i += 1) {
      await hello(gw.url, { kind: "pin", pin: guess() }, from(blocked)).then(outcome);
    }
    t.equal(
      outcome(await hello(gw.url, { kind: "pin", pin: guess() }, from(blocked))),
      "PIN_RATE_LIMITED",
      "blocked after 5 wrong PINs",
    );
    clock.advance(PIN_LIMITS.perAddressBlockMs + 1_000);

    // A flood from elsewhere fills the global budget.
    const budget = PIN_LIMITS.globalFailuresPerMinute;
    for (let i = 0; i < budget; i += 1) {
      await hello(gw.url, { kind: "pin", pin: guess() }, from(`198.18.${Math.floor(i / 4)}.${i % 4}`)).then(
        outcome,
      );
    }
    const result = await hello(gw.url, { kind: "pin", pin: target.pin }, from(blocked));
    t.equal(
      outcome(result),
      "PIN_RATE_LIMITED",
      "the address that guessed wrong a minute ago is refused while the global budget is spent",
    );
  },
);
