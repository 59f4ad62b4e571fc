/**
 * Windows refuses capture while its secure desktop shows (agent/media/held-capture.ts): the last
 * picture is held and capture tried again, rather than the session ending as for a lost X server
 * (capture-x-gone.test.ts). Windows' refusal cannot be produced under Wine (it has no secure
 * desktop), so the capture here is a function that answers as node-screenshots does on Windows
 * then: frames, errors while the prompt shows, frames again.
 */
import t from "tap";
import type { ScreenFrame } from "../../agent/media/capture.ts";
import { holdingLastFrame } from "../../agent/media/held-capture.ts";

const frame = (value: number): ScreenFrame => ({
  width: 1,
  height: 1,
  data: Buffer.from([value, value, value, 255]),
  order: "rgba",
});

t.test("a refused capture holds the last picture, waits, and the next one is taken again", async (t) => {
  const answers: Array<ScreenFrame | Error> = [
    frame(1),
    new Error("BitBlt: access denied"),
    new Error("BitBlt: access denied"),
    frame(2),
  ];
  let calls = 0;
  const capture = holdingLastFrame(async () => {
    const answer = answers[calls++];
    if (answer === undefined || answer instanceof Error) throw answer ?? new Error("no more");
    return answer;
  }, 20);
  t.equal((await capture()).data[0], 1);
  const heldAt = performance.now();
  t.equal((await capture()).data[0], 1, "the UAC prompt shows: the last picture again");
  t.ok(performance.now() - heldAt >= 15, "after a pause, not in a busy loop");
  t.equal((await capture()).data[0], 1);
  t.equal((await capture()).data[0], 2, "the prompt answered: capture goes on");
  t.equal(calls, 4, "each call tried the screen");
});

t.test("a capture refused before any picture fails as before", async (t) => {
  const capture = holdingLastFrame(async () => {
    throw new Error("no screen");
  }, 20);
  await t.rejects(capture(), /no screen/);
});
