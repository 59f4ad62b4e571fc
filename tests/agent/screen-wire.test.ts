import t from "tap";
import { decodeMessage } from "../../shared/decode.ts";
import {
  bitsPerPixel,
  decodeScreenMessage,
  decodeScreenRecord,
  encodeScreenRecord,
  rtpAtOrAfter,
  SCREEN_MAX_RECORD_BYTES,
  SCREEN_MAX_SIDE,
  SCREEN_MESSAGE_BYTES,
  ScreenRecordReader,
  screenControlSchema,
  tileGrid,
  tileRect,
} from "../../shared/screen.ts";
import { random, randomRecord, randomRect, recordBody, SAMPLE_RECORD } from "../helpers/screen-records.ts";

t.test("bitsPerPixel, tileGrid and tileRect follow the format", async (t) => {
  t.same([1, 2, 3, 4, 5, 16, 17, 256].map(bitsPerPixel), [1, 1, 2, 2, 4, 4, 8, 8]);
  t.same(tileGrid(200, 100), { cols: 4, rows: 2, count: 8 });
  t.same(tileGrid(1920, 1080), { cols: 30, rows: 17, count: 510 });
  t.same(tileRect(3, 200, 100), { x: 192, y: 0, w: 8, h: 64 });
  t.same(tileRect(7, 200, 100), { x: 192, y: 64, w: 8, h: 36 });
  t.same(tileRect(5, 200, 100), { x: 64, y: 64, w: 64, h: 36 });
});

t.test("a record comes back field by field, with its u32 length prefix", async (t) => {
  const bytes = encodeScreenRecord(SAMPLE_RECORD);
  t.equal(new DataView(bytes.buffer).getUint32(0), bytes.length - 4, "big-endian length of the body");
  t.equal(bytes[4], 1, "version 1");
  t.equal(bytes[5], 1, "RESET");
  const decoded = decodeScreenRecord(bytes.subarray(4));
  if (!decoded.ok) throw new Error(decoded.message);
  t.same(decoded.record, SAMPLE_RECORD);
  const plain = {
    ...SAMPLE_RECORD,
    reset: false,
    rtpTimestamp: 0,
    capturedAt: -0.5,
    show: [],
    hide: [],
    copies: [],
    rects: [],
  };
  t.same(decodeScreenRecord(recordBody(plain)), { ok: true, record: plain });
  const rects = [1, 2, 4, 16, 255, 256].map((entries, i) =>
    randomRect(random(i), { x: i, y: 2 * i, w: 1 + 7 * i, h: 1 + i }, entries),
  );
  t.same(
    decodeScreenRecord(recordBody({ ...plain, rects })),
    { ok: true, record: { ...plain, rects } },
    "every bpp",
  );
  const largest = { ...plain, width: SCREEN_MAX_SIDE, height: SCREEN_MAX_SIDE, show: [16383], hide: [0] };
  t.same(
    decodeScreenRecord(recordBody(largest)),
    { ok: true, record: largest },
    "the largest screen, its last tile",
  );
});

t.test("the encoder refuses what the format cannot hold", async (t) => {
  t.throws(() => encodeScreenRecord({ ...SAMPLE_RECORD, width: 65536 }), RangeError);
  t.throws(
    () => encodeScreenRecord({ ...SAMPLE_RECORD, copies: [{ x: 0, y: 0, w: 1, h: 1, dy: 40000 }] }),
    RangeError,
  );
  t.throws(() => encodeScreenRecord({ ...SAMPLE_RECORD, show: [1.5] }), RangeError);
  t.throws(() => encodeScreenRecord({ ...SAMPLE_RECORD, capturedAt: Number.POSITIVE_INFINITY }), RangeError);
  const huge = {
    x: 0,
    y: 0,
    w: 8192,
    h: 4097,
    palette: new Uint8Array(3 * 256),
    data: new Uint8Array(8192 * 4097),
  };
  t.throws(
    () => encodeScreenRecord({ ...SAMPLE_RECORD, width: 8192, height: 8192, rects: [huge] }),
    RangeError,
    "above 32 MiB",
  );
  const rect = { x: 0, y: 0, w: 1, h: 1, data: new Uint8Array(1) };
  t.throws(
    () => encodeScreenRecord({ ...SAMPLE_RECORD, rects: [{ ...rect, palette: new Uint8Array(0) }] }),
    RangeError,
  );
  t.throws(
    () => encodeScreenRecord({ ...SAMPLE_RECORD, rects: [{ ...rect, palette: new Uint8Array(3 * 257) }] }),
    RangeError,
  );
  t.throws(
    () => encodeScreenRecord({ ...SAMPLE_RECORD, rects: [{ ...rect, palette: new Uint8Array(4) }] }),
    RangeError,
  );
});

t.test("the reader frames records across any push boundaries", async (t) => {
  const records = Array.from({ length: 5 }, (_, i) => randomRecord(random(20 + i), 100, 70, i === 0));
  const stream = Uint8Array.from(records.flatMap((record) => [...encodeScreenRecord(record)]));
  for (const size of [1, 3, 4, 5, 17, stream.length]) {
    const reader = new ScreenRecordReader();
    const bodies: Uint8Array[] = [];
    for (let at = 0; at < stream.length; at += size) {
      const pushed = reader.push(stream.slice(at, at + size));
      if (!pushed.ok) throw new Error(pushed.message);
      bodies.push(...pushed.bodies);
    }
    t.same(
      bodies.map((bytes) => decodeScreenRecord(bytes)),
      records.map((record) => ({ ok: true, record })),
      `pushes of ${size} bytes`,
    );
  }
  const empty = new ScreenRecordReader().push(Uint8Array.of(0, 0, 0, 0));
  t.same(empty.ok ? empty.bodies : empty, [new Uint8Array(0)], "an empty body is a body (decode refuses it)");
  const split = new ScreenRecordReader();
  split.push(Uint8Array.of(0, 0));
  const second = split.push(Uint8Array.of(0, 0));
  t.same(
    second.ok ? second.bodies : second,
    [new Uint8Array(0)],
    "an empty body whose length came in two pushes",
  );
});

t.test("the reader refuses a length above SCREEN_MAX_RECORD_BYTES before keeping its body", async (t) => {
  const reader = new ScreenRecordReader();
  t.same(reader.push(Uint8Array.of(0x02, 0x00)), { ok: true, bodies: [] }, "half a length prefix");
  t.match(
    reader.push(Uint8Array.of(0x00, 0x01, 1, 2, 3)),
    { ok: false, code: "SCREEN_TOO_LARGE" },
    "32 MiB + 1",
  );
  t.match(
    reader.push(encodeScreenRecord(SAMPLE_RECORD)),
    { ok: false, code: "SCREEN_TOO_LARGE" },
    "until reset()",
  );
  reader.reset();
  const pushed = reader.push(encodeScreenRecord(SAMPLE_RECORD));
  t.equal(pushed.ok && pushed.bodies.length, 1, "a new stream after reset()");
  const over = new Uint8Array(4);
  new DataView(over.buffer).setUint32(0, SCREEN_MAX_RECORD_BYTES + 1);
  t.match(new ScreenRecordReader().push(over), { ok: false, code: "SCREEN_TOO_LARGE" });
  new DataView(over.buffer).setUint32(0, SCREEN_MAX_RECORD_BYTES);
  t.same(new ScreenRecordReader().push(over), { ok: true, bodies: [] }, "the largest body is waited for");
});

t.test("the console's messages: screen.ready and screen.resync, nothing else", async (t) => {
  t.same(decodeMessage(screenControlSchema, '{"type":"screen.ready"}'), {
    ok: true,
    value: { type: "screen.ready" },
  });
  t.same(decodeMessage(screenControlSchema, '{"type":"screen.resync"}'), {
    ok: true,
    value: { type: "screen.resync" },
  });
  for (const text of ['{"type":"screen.ready","x":1}', '{"type":"screen.start"}', "[]", "{"])
    t.match(decodeMessage(screenControlSchema, text), { ok: false, error: { code: "BAD_REQUEST" } }, text);
});

t.test("rtpAtOrAfter is serial-number order on u32", async (t) => {
  t.ok(rtpAtOrAfter(5, 5));
  t.ok(rtpAtOrAfter(6, 5));
  t.notOk(rtpAtOrAfter(5, 6));
  t.ok(rtpAtOrAfter(3, 0xfffffff0), "after the wrap");
  t.notOk(rtpAtOrAfter(0xfffffff0, 3), "before the wrap");
  t.ok(rtpAtOrAfter(0x7fffffff, 0));
  t.notOk(rtpAtOrAfter(0x80000000, 0), "half the circle away is not after");
});

t.test("a channel message: byte 0 the flags, then the payload", async (t) => {
  t.same(decodeScreenMessage(Uint8Array.of(1, 9, 8)), {
    ok: true,
    start: true,
    payload: Uint8Array.of(9, 8),
  });
  t.same(decodeScreenMessage(Uint8Array.of(0)), { ok: true, start: false, payload: new Uint8Array(0) });
  t.match(decodeScreenMessage(new Uint8Array(0)), { ok: false, code: "SCREEN_MALFORMED" }, "empty");
  t.match(
    decodeScreenMessage(Uint8Array.of(2, 0)),
    { ok: false, code: "SCREEN_MALFORMED" },
    "an unknown flag",
  );
  t.ok(decodeScreenMessage(new Uint8Array(SCREEN_MESSAGE_BYTES)).ok, "the largest message");
  t.match(decodeScreenMessage(new Uint8Array(SCREEN_MESSAGE_BYTES + 1)), {
    ok: false,
    code: "SCREEN_TOO_LARGE",
  });
});
