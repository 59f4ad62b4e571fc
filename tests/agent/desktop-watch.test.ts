/**
 * Windows' secure desktop as the agent decides it (agent/input/desktop-watch.ts). The reading
 * itself (OpenInputDesktop and the desktop's name through user32) runs under Wine in
 * tests/build/windows-exe.test.ts, where the input desktop is always "Default": Wine has no UAC
 * prompt or lock screen, so the secure case is decided here from the names Windows uses.
 */
import t from "tap";
import { DesktopWatch, type InputDesktopName, isSecureDesktop } from "../../agent/input/desktop-watch.ts";

t.test(
  "only the user's Default desktop is reachable; Winlogon, another desktop or none is not",
  async (t) => {
    t.equal(isSecureDesktop("Default"), false);
    t.equal(isSecureDesktop("default"), false, "Windows compares desktop names without case");
    t.equal(isSecureDesktop("Winlogon"), true, "UAC prompts, the lock screen and Ctrl+Alt+Del's screen");
    t.equal(isSecureDesktop("Screen-saver"), true);
    t.equal(isSecureDesktop(null), true, "not allowed to open the input desktop: the secure one");
  },
);

t.test("the watch reports the first reading and each change, once, and stops when told", async (t) => {
  const names: InputDesktopName[] = ["Default", "Default", "Winlogon", null, "Default"];
  const reported: boolean[] = [];
  let reads = 0;
  let changed: () => void = () => undefined;
  const allSeen = new Promise<void>((resolve) => {
    changed = () => {
      if (reported.length === 3) resolve();
    };
  });
  const watch = new DesktopWatch(
    async () => names[Math.min(reads++, names.length - 1)] ?? "Default",
    (secure) => {
      reported.push(secure);
      changed();
    },
    (error) => t.fail(String(error)),
    10,
  );
  t.equal(watch.secure, undefined, "nothing known before the first look");
  watch.running = true;
  await allSeen;
  watch.running = false;
  t.same(
    reported,
    [false, true, false],
    "Default, then the secure desktop (Winlogon, then unopenable), then Default",
  );
  t.equal(watch.secure, false);
});
