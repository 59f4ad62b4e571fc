/**
 * An X server without MIT-SHM (a remote display, or one that turned it off): the capture worker
 * falls back to node-screenshots and the technician gets the same picture. Its own file because
 * node-screenshots keeps the first display it opened for the life of the process.
 */
import t from "tap";
import { type ScreenChunk, ScreenStream } from "../../agent/media/screen-stream.ts";
import { decodeKeyframe, pixelAt } from "../helpers/technician-peer.ts";
import { colouredWindow, startXvfb } from "../helpers/xvfb.ts";

const xvfb = await startXvfb({ width: 640, height: 480, serverArgs: ["-extension", "MIT-SHM"] });
process.env.DISPLAY = xvfb.display;
t.teardown(() => xvfb.stop());

t.test("without MIT-SHM the screen is captured through node-screenshots, same pixels", async (t) => {
  await colouredWindow(xvfb, { x: 100, y: 100, width: 200, height: 150, colour: "blue", name: "sos-plain" });
  const stream = await ScreenStream.start({ monitor: 0, codec: "h264", maxFps: 20, bitrate: 2_000_000 });
  t.teardown(() => stream.close());
  stream.on("error", (error) => t.fail(`stream error: ${error.message}`));
  const chunk = await new Promise<ScreenChunk>((resolve) => {
    stream.once("chunk", resolve);
    stream.prime();
  });
  const frame = await decodeKeyframe("h264", chunk);
  t.match(frame, { width: 640, height: 480 });
  const inside = pixelAt(frame, 200, 175);
  t.ok(inside.b > 200 && inside.r < 40 && inside.g < 40, `blue decodes blue: ${JSON.stringify(inside)}`);
  t.equal((await stream.stats()).backend, "node-screenshots");
});
