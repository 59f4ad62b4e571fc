/**
 * What the tests read of the agent's video is what the agent encoded: the agent's encoder
 * (encoder.ts, the capture worker's) and the test technician's decoder (tests/helpers/
 * technician-peer.ts's FrameDecoder), no process, X server or network. A screen of black text on
 * white scrolls; a keyframe's kept pixels and picture() after every delta frame must show it.
 * (Each delta frame's own pixels are decoded after a flush that dropped its reference picture:
 * uniformly grey where nothing changed, which once passed for the agent's video.)
 */
import t from "tap";
import type { ScreenFrame } from "../../agent/media/capture.ts";
import { type EncodedChunk, FrameEncoder, type VideoCodecName } from "../../agent/media/encoder.ts";
import { I420Picture } from "../../agent/media/i420.ts";
import { type DecodedFrame, FrameDecoder } from "../helpers/technician-peer.ts";

const WIDTH = 320;
const HEIGHT = 192;

/** Text-like rows (13 pixels a line, 8 of them with "glyphs"), scrolled up by `shift` rows. */
function textScreen(shift: number): ScreenFrame {
  const data = Buffer.alloc(WIDTH * HEIGHT * 4);
  for (let y = 0; y < HEIGHT; y += 1) {
    const line = Math.floor((y + shift) / 13);
    for (let x = 0; x < WIDTH; x += 1) {
      const ink = (y + shift) % 13 < 8 && x % 6 < 3 && (x * 7 + line * 13) % 11 < 6;
      data.fill(ink ? 0 : 255, (y * WIDTH + x) * 4, (y * WIDTH + x) * 4 + 3);
      data[(y * WIDTH + x) * 4 + 3] = 255;
    }
  }
  return { width: WIDTH, height: HEIGHT, data, order: "rgba" };
}

/** Mean absolute difference per RGB channel. */
function meanError(frame: DecodedFrame | undefined, screen: ScreenFrame): number {
  if (frame?.rgba === undefined) return Number.POSITIVE_INFINITY;
  let sum = 0;
  for (let i = 0; i < WIDTH * HEIGHT * 4; i += 4) {
    for (let c = 0; c < 3; c += 1) sum += Math.abs((frame.rgba[i + c] ?? 0) - (screen.data[i + c] ?? 0));
  }
  return sum / (WIDTH * HEIGHT * 3);
}

/** Encodes each screen in turn (the first as a keyframe), one at a time. */
async function encodeAll(codec: VideoCodecName, screens: readonly ScreenFrame[]): Promise<EncodedChunk[]> {
  const chunks: EncodedChunk[] = [];
  const picture = new I420Picture(WIDTH, HEIGHT);
  let failed: Error | undefined;
  const encoder = new FrameEncoder(
    { codec, bitrate: 1_000_000, framerate: 10 },
    (chunk) => chunks.push(chunk),
    (error) => {
      failed = error;
    },
  );
  try {
    for (const [i, screen] of screens.entries()) {
      picture.update(screen);
      encoder.encode(picture, i * 100_000, i === 0);
      const want = i + 1;
      await new Promise<void>((resolve, reject) => {
        const check = () => {
          if (failed !== undefined) reject(failed);
          else if (chunks.length >= want) resolve();
          else setImmediate(check);
        };
        check();
      });
    }
  } finally {
    encoder.close();
  }
  return chunks;
}

/** The most a decoded picture may differ from its screen (mean per channel, 0-255). */
const NEAR = 12;

for (const codec of ["h264", "vp8"] as const) {
  t.test(
    `${codec}: a keyframe's kept pixels and picture() after each delta frame show the screen`,
    async (t) => {
      const screens = [0, 3, 6, 9, 12].map(textScreen);
      const chunks = await encodeAll(codec, screens);
      t.same(
        chunks.map((chunk) => chunk.key),
        [true, false, false, false, false],
        "a keyframe, then delta frames",
      );
      const frames: DecodedFrame[] = [];
      const decoder = new FrameDecoder(codec === "vp8" ? "vp8" : "avc1.64001f", true, (frame) =>
        frames.push(frame),
      );
      t.teardown(() => decoder.close());
      for (const [i, chunk] of chunks.entries()) {
        decoder.decode(chunk.data, chunk.key, chunk.timestampUs);
        const picture = await decoder.picture();
        const screen = screens[i] as ScreenFrame;
        const now = meanError(picture, screen);
        const other = meanError(picture, screens[i === 0 ? 1 : i - 1] as ScreenFrame);
        t.ok(
          now <= NEAR && now < other,
          `frame ${i}: picture() ${now.toFixed(2)} from its screen (at most ${NEAR}), ${other.toFixed(2)} from another`,
        );
        t.equal(picture?.key, i === 0, `frame ${i}: picture() says whether it is a keyframe`);
      }
      const first = frames[0];
      t.equal(first?.key, true, "the first decoded frame is the keyframe");
      const keyError = meanError(first, screens[0] as ScreenFrame);
      t.ok(keyError <= NEAR, `the keyframe's kept pixels show its screen (${keyError.toFixed(2)})`);
    },
  );
}

t.test("picture() is undefined before a keyframe, and after a frame left undecoded", async (t) => {
  const chunks = await encodeAll("h264", [0, 3].map(textScreen));
  const decoder = new FrameDecoder("avc1.64001f", true, () => undefined);
  t.teardown(() => decoder.close());
  t.equal(await decoder.picture(), undefined, "nothing decoded yet");
  const [key, delta] = chunks;
  if (key === undefined || delta === undefined) throw new Error("two chunks expected");
  decoder.decode(key.data, key.key, key.timestampUs);
  decoder.skipped();
  t.equal(await decoder.picture(), undefined, "a frame was skipped since the keyframe");
});
