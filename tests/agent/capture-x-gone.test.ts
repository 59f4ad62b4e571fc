/**
 * The X server goes away while the screen is streamed (the end user logs out, the display
 * restarts): the stream ends at once with the no_display reason (exit code 3), not after a
 * capture's timeout, and it closes without waiting for the server.
 */
import t from "tap";
import { ScreenStream } from "../../agent/media/screen-stream.ts";
import { startXvfb } from "../helpers/xvfb.ts";

t.test("the X server exits during capture: the stream fails with no_display at once", async (t) => {
  const xvfb = await startXvfb({ width: 640, height: 480 });
  t.teardown(() => xvfb.stop());
  process.env.DISPLAY = xvfb.display;
  const stream = await ScreenStream.start({ monitor: 0, codec: "h264", maxFps: 20, bitrate: 1_000_000 });
  t.teardown(() => stream.close());
  const first = new Promise((resolve) => stream.once("chunk", resolve));
  stream.run(true);
  await first;
  t.equal((await stream.stats()).backend, "x11-shm");

  const failed = new Promise<{ reason: string; at: number }>((resolve) =>
    stream.once("error", (error) => resolve({ reason: error.reason, at: performance.now() })),
  );
  const killedAt = performance.now();
  stream.activity();
  await xvfb.stop();
  const { reason, at } = await failed;
  t.equal(reason, "no_display");
  t.ok(at - killedAt < 1_500, `reported ${Math.round(at - killedAt)} ms after the server exited`);
  const closing = performance.now();
  await stream.close();
  t.ok(performance.now() - closing < 1_500, "closed without waiting on the gone server");
});
