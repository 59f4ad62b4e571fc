import t, { type Test } from "tap";
import {
  decodeScreenRecord,
  encodeScreenRecord,
  SCREEN_ERROR_CODES,
  SCREEN_MAX_SIDE,
  tileGrid,
} from "../../shared/screen.ts";
import {
  integer,
  random,
  randomRecord,
  randomRect,
  recordBody,
  SAMPLE_RECORD,
} from "../helpers/screen-records.ts";

function refused(t: Test, bytes: Uint8Array, code: string, why: string): void {
  const result = decodeScreenRecord(bytes);
  t.equal(result.ok ? "ok" : result.code, code, why);
}

/** The one record decoder refuses every bad record with a stable code and never throws. */

t.test("every bad record is refused with its stable code", async (t) => {
  const good = recordBody(SAMPLE_RECORD);
  t.ok(decodeScreenRecord(good).ok);
  const mutated = (at: number, write: (view: DataView) => void) => {
    const copy = good.slice();
    write(new DataView(copy.buffer, at));
    return copy;
  };
  refused(t, new Uint8Array(0), "SCREEN_MALFORMED", "empty");
  for (let length = 1; length < good.length; length += 1)
    if (decodeScreenRecord(good.subarray(0, length)).ok) t.fail(`a record cut to ${length} bytes decoded`);
  refused(t, good.subarray(0, good.length - 1), "SCREEN_MALFORMED", "truncated");
  refused(t, Uint8Array.of(...good, 0), "SCREEN_MALFORMED", "an extra byte");
  refused(
    t,
    mutated(0, (v) => v.setUint8(0, 2)),
    "SCREEN_VERSION",
    "version 2",
  );
  refused(t, Uint8Array.of(2), "SCREEN_VERSION", "version 2, nothing else");
  refused(
    t,
    mutated(1, (v) => v.setUint8(0, 3)),
    "SCREEN_MALFORMED",
    "an unknown flag",
  );
  refused(
    t,
    mutated(6, (v) => v.setFloat64(0, Number.NaN)),
    "SCREEN_MALFORMED",
    "capture time NaN",
  );
  refused(
    t,
    mutated(14, (v) => v.setUint16(0, 0)),
    "SCREEN_OUT_OF_BOUNDS",
    "width 0",
  );
  refused(
    t,
    mutated(16, (v) => v.setUint16(0, SCREEN_MAX_SIDE + 1)),
    "SCREEN_OUT_OF_BOUNDS",
    "height too big",
  );
  refused(
    t,
    mutated(18, (v) => v.setUint16(0, 0xffff)),
    "SCREEN_MALFORMED",
    "a show count that overruns",
  );
  const tiles = tileGrid(SAMPLE_RECORD.width, SAMPLE_RECORD.height).count;
  refused(
    t,
    recordBody({ ...SAMPLE_RECORD, show: [tiles] }),
    "SCREEN_OUT_OF_BOUNDS",
    "a shown tile index too high",
  );
  refused(
    t,
    recordBody({ ...SAMPLE_RECORD, hide: [0, tiles] }),
    "SCREEN_OUT_OF_BOUNDS",
    "a hidden tile index too high",
  );
  const copy = { x: 0, y: 10, w: 200, h: 40, dy: -10 };
  const copies = (...list: (typeof copy)[]) => recordBody({ ...SAMPLE_RECORD, copies: list });
  t.ok(decodeScreenRecord(copies({ x: 199, y: 99, w: 1, h: 1, dy: -99 })).ok, "a copy at the edges");
  refused(t, copies({ ...copy, x: 1 }), "SCREEN_OUT_OF_BOUNDS", "a copy destination past the right edge");
  refused(t, copies({ ...copy, y: 61 }), "SCREEN_OUT_OF_BOUNDS", "a copy destination past the bottom");
  refused(t, copies({ ...copy, dy: -11 }), "SCREEN_OUT_OF_BOUNDS", "a copy source above the top");
  refused(t, copies(copy, { ...copy, dy: 51 }), "SCREEN_OUT_OF_BOUNDS", "a copy source past the bottom");
  refused(
    t,
    mutated(28, (v) => v.setUint16(0, 0xffff)),
    "SCREEN_MALFORMED",
    "a copy count that overruns",
  );
  const whole = { x: 0, y: 0, w: 200, h: 100, dy: 0 };
  t.ok(decodeScreenRecord(copies(whole, whole)).ok, "copies covering two screens");
  refused(
    t,
    copies(whole, whole, { ...whole, h: 1 }),
    "SCREEN_TOO_LARGE",
    "copies covering more than two screens",
  );
  const rect = randomRect(random(3), { x: 190, y: 90, w: 10, h: 10 }, 2);
  t.ok(decodeScreenRecord(recordBody({ ...SAMPLE_RECORD, rects: [rect] })).ok, "a rect at the corner");
  refused(
    t,
    recordBody({ ...SAMPLE_RECORD, rects: [{ ...rect, x: 191 }] }),
    "SCREEN_OUT_OF_BOUNDS",
    "a rect past the right",
  );
  refused(
    t,
    recordBody({ ...SAMPLE_RECORD, rects: [{ ...rect, y: 91 }] }),
    "SCREEN_OUT_OF_BOUNDS",
    "a rect past the bottom",
  );
  const short = { ...rect, data: rect.data.subarray(1) };
  refused(
    t,
    recordBody({ ...SAMPLE_RECORD, rects: [short] }),
    "SCREEN_MALFORMED",
    "rect data one byte short",
  );
  const long = { ...rect, data: Uint8Array.of(...rect.data, 0) };
  refused(t, recordBody({ ...SAMPLE_RECORD, rects: [long] }), "SCREEN_MALFORMED", "rect data one byte long");
  t.notOk(
    decodeScreenRecord(recordBody({ ...SAMPLE_RECORD, rects: [short, rect] })).ok,
    "a short rect before another",
  );
  // The palette size field at byte 8 of the rect (after the fixed part, tiles, copies, rect count).
  const rectAt = 18 + 2 + 4 + 2 + 2 + 2 + 10 + 2;
  t.equal(
    new DataView(good.buffer, good.byteOffset + rectAt + 8).getUint16(0),
    2,
    "the first rect's palette size",
  );
  refused(
    t,
    mutated(rectAt + 8, (v) => v.setUint16(0, 0)),
    "SCREEN_MALFORMED",
    "palette 0",
  );
  refused(
    t,
    mutated(rectAt + 8, (v) => v.setUint16(0, 257)),
    "SCREEN_MALFORMED",
    "palette 257",
  );
  refused(
    t,
    mutated(rectAt - 2, (v) => v.setUint16(0, 0xffff)),
    "SCREEN_MALFORMED",
    "a rect count that overruns",
  );
  const three = randomRect(random(4), { x: 0, y: 0, w: 4, h: 1 }, 3);
  t.ok(decodeScreenRecord(recordBody({ ...SAMPLE_RECORD, rects: [three] })).ok);
  const beyond = { ...three, data: Uint8Array.of(0b00011011) };
  refused(
    t,
    recordBody({ ...SAMPLE_RECORD, rects: [beyond] }),
    "SCREEN_OUT_OF_BOUNDS",
    "index 3 of a palette of 3",
  );
  const padded = { ...three, w: 3, data: Uint8Array.of(0b00011011) };
  t.ok(
    decodeScreenRecord(recordBody({ ...SAMPLE_RECORD, rects: [padded] })).ok,
    "the padding bits of a row are not indices",
  );
});

t.test("decode never throws: random bytes and mutated records", async (t) => {
  const next = random(14);
  const codes = new Set<string>(SCREEN_ERROR_CODES);
  const seen = new Map<string, number>();
  const valid = Array.from({ length: 20 }, (_, i) =>
    recordBody(randomRecord(next, 1 + integer(next, 300), 1 + integer(next, 300), i % 2 === 0)),
  );
  for (let run = 0; run < 6000; run += 1) {
    let bytes: Uint8Array;
    if (run % 3 === 0) {
      bytes = new Uint8Array(integer(next, 120)).map(() => integer(next, 256));
      if (run % 2 === 0 && bytes.length > 0) bytes[0] = 1;
    } else {
      const source = valid[run % valid.length] ?? new Uint8Array(0);
      bytes = source.slice(0, run % 5 === 0 ? integer(next, source.length + 1) : source.length);
      for (let flips = 1 + integer(next, 3); flips > 0 && bytes.length > 0; flips -= 1)
        bytes[integer(next, bytes.length)] = integer(next, 256);
    }
    const result = decodeScreenRecord(bytes);
    const key = result.ok ? "ok" : result.code;
    seen.set(key, (seen.get(key) ?? 0) + 1);
    if (!result.ok && !codes.has(result.code)) t.fail(`unknown code ${result.code}`);
    if (result.ok && encodeScreenRecord(result.record).subarray(4).join() !== bytes.join())
      t.fail("an accepted record does not encode to the same bytes");
  }
  t.ok(seen.get("ok"), `some mutated records still decode (${JSON.stringify([...seen])})`);
  for (const code of SCREEN_ERROR_CODES.filter((code) => code !== "SCREEN_TOO_LARGE"))
    t.ok(seen.get(code), `${code} was met`);
});
