import { setTimeout as sleep } from "node:timers/promises";
import t from "tap";
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

t.test(
  "a technician whose receiver reports little bandwidth gets a lower bitrate and fewer frames",
  async (t) => {
    const desk = await openDesk(t);
    const agent = await agentAsked(t, xvfb, desk, ["--max-fps", "20", "--log-level", "info"]);
    const { technician } = await grantedTechnician(t, desk, agent);
    await technician.nextFrame(undefined, 20_000, 0);
    technician.decoding = false;
    const full = await frameRate(technician);

    // A congested browser keeps reporting its estimate; the agent checks every few seconds.
    const fitted = () =>
      agent
        .stderr()
        .split("\n")
        .find((line) => line.includes("fitted to the receivers"));
    await waitUntil(
      async () => {
        await technician.sendRemb(300_000);
        return fitted() !== undefined;
      },
      20_000,
      "the agent fitting its rate to the estimate",
    );
    const change = JSON.parse(fitted() ?? "{}") as { to?: number; fps?: number };
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
    const desk = await openDesk(t);
    const agent = await agentAsked(t, xvfb, desk, ["--max-fps", "20", "--log-level", "info"]);
    const { technician } = await grantedTechnician(t, desk, agent);
    await technician.nextFrame(undefined, 20_000, 0);
    technician.decoding = false;

    // A quarter of the packets asked for again, all the time: a lossy path, though no REMB says so.
    const fitted = () =>
      agent
        .stderr()
        .split("\n")
        .find((line) => line.includes("fitted to the receivers"));
    await waitUntil(
      async () => {
        await technician.sendNack(0.25);
        return fitted() !== undefined;
      },
      20_000,
      "the agent fitting its rate to the NACKs",
    );
    const change = JSON.parse(fitted() ?? "{}") as {
      from?: number;
      to?: number;
      reports?: Array<{ nackRate?: number }>;
    };
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
