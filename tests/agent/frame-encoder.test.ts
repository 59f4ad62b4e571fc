import t from "tap";
import { type EncodedChunk, FrameEncoder } from "../../agent/media/encoder.ts";
import { I420Picture } from "../../agent/media/i420.ts";

/** A picture of one grey level, so that each one differs from the one before. */
function picture(level: number): I420Picture {
  const result = new I420Picture(320, 240);
  result.data.fill(level, 0, 320 * 240);
  result.data.fill(128, 320 * 240);
  return result;
}

function encoderWithChunks(): {
  encoder: FrameEncoder;
  chunks: EncodedChunk[];
  next(): Promise<EncodedChunk>;
} {
  const chunks: EncodedChunk[] = [];
  let waiter: (() => void) | undefined;
  const encoder = new FrameEncoder(
    { codec: "h264", bitrate: 1_000_000, framerate: 30 },
    (chunk) => {
      chunks.push(chunk);
      waiter?.();
    },
    (error) => {
      throw error;
    },
  );
  let taken = 0;
  return {
    encoder,
    chunks,
    next: async () => {
      // The addon's callbacks do not keep the process alive: a timer does, until the chunk is in.
      const alive = setInterval(() => undefined, 1_000);
      while (chunks.length <= taken) await new Promise<void>((resolve) => (waiter = resolve));
      clearInterval(alive);
      const chunk = chunks[taken];
      taken += 1;
      if (chunk === undefined) throw new Error("no chunk");
      return chunk;
    },
  };
}

t.test("while a frame is in the encoder, newer pictures wait and only the newest goes in", async (t) => {
  const { encoder, chunks, next } = encoderWithChunks();
  t.teardown(() => encoder.close());
  // Five pictures in one go: the first goes in, the next four wait (each replacing the one before).
  for (let i = 0; i < 5; i += 1) encoder.encode(picture(40 + i * 40), 1_000 * (i + 1), i === 0 || i === 2);
  t.equal(encoder.pending, 1, "one frame in the encoder, the rest waiting");
  t.match(await next(), { timestampUs: 1_000, key: true, width: 320, height: 240 }, "the first picture");
  t.match(
    await next(),
    { timestampUs: 5_000, key: true },
    "then the newest, still a keyframe (asked for by the third)",
  );
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.equal(chunks.length, 2, "nothing else: the pictures in between were never encoded");
  t.equal(encoder.pending, 0, "nothing left in the encoder");
  encoder.encode(picture(250), 6_000, false);
  t.match(await next(), { timestampUs: 6_000, key: false }, "the next picture goes in at once");
});
