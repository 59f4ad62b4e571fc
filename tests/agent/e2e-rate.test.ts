import { setTimeout as sleep } from "node:timers/promises";
import t, { type Test } from "tap";
import type { TestTechnician } from "../helpers/technician-peer.ts";
import { colouredWindow, startXvfb, waitUntil } from "../helpers/xvfb.ts";
import { agentAsked, grantedTechnician, openDesk } from "./e2e-support.ts";

const xvfb = await startXvfb({ width: 1920, height: 1080 });
t.teardown(() => xvfb.stop());
await colouredWindow(xvfb, { x: 100, y: 100, width: 600, height: 400, colour: "red", name: "sos-mover" });
const id = (await xvfb.x("xdotool", ["search", "--name", "^sos-mover$"])).trim();
// A window moving all the time, to a new place each time, so that every capture differs from the last.
const mover = xvfb.client("sh", [
  "-c",
  `while :; do for x in $(seq 100 10 1200); do xdotool windowmove ${id} $x 300; done; done`,
]);
t.teardown(() => mover.kill("SIGKILL"));

/** Whole frames per second reaching the technician over a three-second window (a rate, so a window). */
async function frameRate(technician: TestTechnician): Promise<number> {
  const before = technician.framesReceived;
  const started = performance.now();
  await sleep(3_000);
  return (technician.framesReceived - before) / ((performance.now() - started) / 1000);
}

type Fitting = { from?: number; to?: number; fps?: number; reports?: Array<{ nackRate?: number }> };

/**
 * An agent on the changing 1080p screen, streaming to a werift technician (not decoding), and
 * `untilFitted`: runs `report` (the technician's feedback) until the agent logs that it fitted
 * its rate, and resolves with that log line's fields.
 */
async function streaming(t: Test) {
  const desk = await openDesk(t);
  const agent = await agentAsked(t, xvfb, desk, ["--max-fps", "20", "--log-level", "info"]);
  const { technician } = await grantedTechnician(t, desk, agent);
  await technician.nextFrame(undefined, 20_000, 0);
  technician.decoding = false;
  const fitted = () =>
    agent
      .stderr()
      .split("\n")
      .find((line) => line.includes("fitted to the receivers"));
  const untilFitted = async (report: () => Promise<void>, what: string): Promise<Fitting> => {
    await waitUntil(
      async () => {
        await report();
        return fitted() !== undefined;
      },
      20_000,
      what,
    );
    return JSON.parse(fitted() ?? "{}") as Fitting;
  };
  return { technician, untilFitted };
}

t.test(
  "a technician whose receiver reports little bandwidth gets a lower bitrate and fewer frames",
  async (t) => {
    const { technician, untilFitted } = await streaming(t);
    const full = await frameRate(technician);

    // A congested browser lowers its estimate below what it receives and keeps it there; the
    // agent checks every few seconds. (An estimate above what was sent, or one the receiver has
    // not lowered, is no cap: see bitrate.ts.)
    let before = true;
    const change = await untilFitted(async () => {
      if (before) await technician.sendRemb(5_000_000);
      before = false;
      // Far below what the agent sends here (50-130 kbit/s measured: a small window moving).
      await technician.sendRemb(10_000);
    }, "the agent fitting its rate to the estimate");
    t.equal(change.to, 300_000, "the bitrate falls to what the receiver can take (the floor here)");
    t.equal(change.fps, 6, "and the frame rate with it: 300 kbit/s affords 6 fps at 1080p");
    const reduced = await frameRate(technician);
    t.ok(reduced <= 7.5, `at most about 6 frames a second now: ${reduced.toFixed(1)}`);
    t.ok(
      full >= reduced * 1.5,
      `fewer than before the estimate: ${full.toFixed(1)} -> ${reduced.toFixed(1)}`,
    );
  },
);

t.test(
  "a technician whose receiver keeps asking for packets again (NACK) gets a lower bitrate",
  async (t) => {
    const { technician, untilFitted } = await streaming(t);
    // A quarter of the packets asked for again, all the time: a lossy path, though no REMB says so.
    const change = await untilFitted(
      () => technician.sendNack(0.25),
      "the agent fitting its rate to the NACKs",
    );
    t.ok(
      change.to !== undefined && change.from !== undefined && change.to <= change.from * 0.7,
      `the bitrate is cut by 30 %: ${change.from} -> ${change.to}`,
    );
    t.ok(
      (change.reports?.[0]?.nackRate ?? 0) > 0.1,
      `the NACK rate was seen: ${change.reports?.[0]?.nackRate}`,
    );
  },
);
