import { constants, createInflateRaw } from "node:zlib";
import t, { type Test } from "tap";
import { ScreenWriter } from "../../agent/media/screen-writer.ts";
import {
  decodeScreenMessage,
  decodeScreenRecord,
  encodeScreenRecord,
  SCREEN_MESSAGE_BYTES,
  SCREEN_START,
  type ScreenRecord,
  ScreenRecordReader,
} from "../../shared/screen.ts";
import { random, randomRect, SAMPLE_RECORD, scrollRecord } from "../helpers/screen-records.ts";

/** The agent's stream writer (agent/media/screen-writer.ts) against Node's own inflater, as the
 *  console's DecompressionStream("deflate-raw") takes the messages. */

/** The sample record with its first rect only. */
const BASE: ScreenRecord = { ...SAMPLE_RECORD, rects: SAMPLE_RECORD.rects.slice(0, 1) };

/** The console's side of a stream: inflate each message's payload at once, frame and decode. */
class Receiver {
  inflate = createInflateRaw();
  reader = new ScreenRecordReader();
  records: ScreenRecord[] = [];

  constructor() {
    this.inflate.on("data", (chunk: Buffer) => {
      const pushed = this.reader.push(chunk);
      if (!pushed.ok) throw new Error(pushed.message);
      for (const bytes of pushed.bodies) {
        const decoded = decodeScreenRecord(bytes);
        if (!decoded.ok) throw new Error(decoded.message);
        this.records.push(decoded.record);
      }
    });
  }

  /** Decompresses one message's payload and everything it completes (no flush of ours needed). */
  async take(message: Uint8Array): Promise<void> {
    const decoded = decodeScreenMessage(message);
    if (!decoded.ok) throw new Error(decoded.message);
    await new Promise<void>((resolve) => this.inflate.write(decoded.payload, () => resolve()));
    await new Promise<void>((resolve) => this.inflate.flush(constants.Z_SYNC_FLUSH, () => resolve()));
    while (this.inflate.read() !== null) {}
  }
}

/** Records compared by their bytes (a diff of megabytes of pixels would take minutes). */
function sameRecords(
  t: Test,
  actual: readonly ScreenRecord[],
  expected: readonly ScreenRecord[],
  why: string,
) {
  const bytes = (records: readonly ScreenRecord[]) => Buffer.concat(records.map(encodeScreenRecord));
  t.equal(actual.length, expected.length, `${why}: as many records`);
  t.ok(bytes(actual).equals(bytes(expected)), `${why}: the same bytes`);
}

const scroll = (seed: number, lines: number) => ({
  ...scrollRecord(random(seed), 1920, 1080, lines),
  rtpTimestamp: seed,
});

t.test("the writer's messages: at most SCREEN_MESSAGE_BYTES, START only first after start()", async (t) => {
  const writer = new ScreenWriter();
  await t.rejects(writer.write(BASE), /not started/, "nothing before start()");
  writer.start();
  // 8 bpp noise does not compress: one record of ~2 MB takes many messages.
  const big = {
    ...BASE,
    width: 1920,
    height: 1080,
    rects: [randomRect(random(9), { x: 0, y: 0, w: 1920, h: 1000 }, 256)],
  };
  const first = await writer.write(big);
  t.ok(first.length > 20, `${first.length} messages`);
  t.ok(first.every((message) => message.length <= SCREEN_MESSAGE_BYTES && message.length > 1));
  t.same(
    first.map((message) => message[0]),
    [SCREEN_START, ...first.slice(1).map(() => 0)],
  );
  const second = await writer.write(scroll(1, 8));
  t.same(
    second.map((message) => message[0]),
    [0],
    "the next record: one message, no START",
  );
  writer.start();
  const third = await writer.write(scroll(2, 8));
  t.equal(third[0]?.[0], SCREEN_START, "START again after start()");
});

t.test("each message inflates at once, records come back in order, a new stream after start()", async (t) => {
  const writer = new ScreenWriter();
  writer.start();
  const big = {
    ...BASE,
    width: 1920,
    height: 1080,
    rects: [randomRect(random(9), { x: 0, y: 0, w: 1920, h: 200 }, 200)],
  };
  const records = [BASE, scroll(3, 5), big, scroll(4, 1), { ...scroll(5, 40), reset: true }];
  // Not awaited one by one: the writer keeps the calls' order.
  const written = await Promise.all(records.map((record) => writer.write(record)));
  const receiver = new Receiver();
  for (const [i, messages] of written.entries()) {
    for (const message of messages) await receiver.take(message);
    t.equal(receiver.records.length, i + 1, `record ${i} is whole once its last message is in`);
  }
  sameRecords(t, receiver.records, records, "every record back");
  writer.start();
  const again = [scroll(6, 3), scroll(7, 2)];
  const messages = (await Promise.all(again.map((record) => writer.write(record)))).flat();
  t.equal(messages[0]?.[0], SCREEN_START);
  const fresh = new Receiver();
  for (const message of messages) await fresh.take(message);
  sameRecords(t, fresh.records, again, "the second stream inflates from its start with a fresh inflater");
});

t.test("a closed writer refuses writes until start()", async (t) => {
  const writer = new ScreenWriter();
  writer.start();
  const before = writer.write(scroll(8, 2));
  writer.close();
  const after = writer.write(scroll(9, 2));
  t.ok((await before).length > 0, "a write made before close() completes");
  await t.rejects(after, /not started/);
  writer.close();
  writer.start();
  const messages = await writer.write(scroll(10, 2));
  const receiver = new Receiver();
  for (const message of messages) await receiver.take(message);
  sameRecords(t, receiver.records, [scroll(10, 2)], "after close() and start()");
});

t.test("start() between writes not awaited takes effect in call order", async (t) => {
  const writer = new ScreenWriter();
  writer.start();
  const one = writer.write(scroll(11, 2));
  const bad = writer.write({ ...scroll(12, 2), width: 70000 });
  writer.start();
  const two = writer.write(scroll(13, 2));
  await t.rejects(bad, RangeError, "a record the format cannot hold fails its own write only");
  const [first, second] = await Promise.all([one, two]);
  t.equal(first[0]?.[0], SCREEN_START);
  t.equal(second[0]?.[0], SCREEN_START, "the write after start() begins the new stream");
  const receiver = new Receiver();
  for (const message of second) await receiver.take(message);
  sameRecords(t, receiver.records, [scroll(13, 2)], "the new stream alone");
});
