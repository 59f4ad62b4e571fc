/**
 * `npx node scripts/probe-screen-wire.ts`: what the `screen` channel's own parts cost at 1080p
 * (shared/screen.ts, shared/screen-model.ts, agent/media/screen-writer.ts), on a terminal scrolling
 * text: each record copies the rows above up (1920 wide) and sends --lines new 13-pixel text lines
 * at 1 bit per pixel (tests/helpers/screen-records.ts's scrollRecord: words of a fixed glyph set).
 *
 * Prints, per record: the model's apply (p50/p95 ms, as the console runs it), decode, encode, and
 * for deflate levels 1, 6 and 9 the writer's time per record and the bytes it sends (the stream
 * compresses each record against the ones before it, as the channel does). Also apply for a scroll
 * 1280 wide (row by row) and for two copies that need the snapshot. Pure CPU, a few seconds:
 * `flock /tmp/heavy.lock` when the machine is shared. Options: --records (default 300), --lines
 * (default 8: 104 new rows, bench:vs-vnc's text workload brings 3.6-6.3 lines per update).
 */
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { ScreenWriter } from "../agent/media/screen-writer.ts";
import { decodeScreenRecord, encodeScreenRecord, type ScreenRecord, tileGrid } from "../shared/screen.ts";
import { ScreenCanvasModel } from "../shared/screen-model.ts";
import { random, randomRect, scrollRecord } from "../tests/helpers/screen-records.ts";

const { values } = parseArgs({
  options: {
    records: { type: "string", default: "300" },
    lines: { type: "string", default: "8" },
  },
});
const RECORDS = Number(values.records);
const LINES = Number(values.lines);
const WIDTH = 1920;
const HEIGHT = 1080;

function percentiles(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
  return `p50 ${at(0.5).toFixed(3)} ms, p95 ${at(0.95).toFixed(3)} ms`;
}

function timed<T>(samples: number[], run: () => T): T {
  const start = performance.now();
  const result = run();
  samples.push(performance.now() - start);
  return result;
}

const next = random(1);
const records: ScreenRecord[] = Array.from({ length: RECORDS }, (_, i) => ({
  ...scrollRecord(next, WIDTH, HEIGHT, LINES),
  rtpTimestamp: i * 3000,
  capturedAt: Date.now(),
}));
const all = Array.from({ length: tileGrid(WIDTH, HEIGHT).count }, (_, i) => i);
const first: ScreenRecord = {
  ...records[0],
  reset: true,
  show: all,
  copies: [],
  rects: [randomRect(next, { x: 0, y: 0, w: WIDTH, h: HEIGHT }, 2)],
} as ScreenRecord;

function applyCost(name: string, list: readonly ScreenRecord[]): void {
  const model = new ScreenCanvasModel();
  model.apply(first);
  const samples: number[] = [];
  let dirty = 0;
  for (const record of list) dirty += timed(samples, () => model.apply(record)).dirty.length;
  console.log(
    `apply, ${name}: ${percentiles(samples.slice(10))} (${(dirty / list.length).toFixed(2)} dirty rects per record)`,
  );
}

const bodies = records.map((record) => encodeScreenRecord(record));
const encode: number[] = [];
for (const record of records) timed(encode, () => encodeScreenRecord(record));
const decode: number[] = [];
for (const bytes of bodies) timed(decode, () => decodeScreenRecord(bytes.subarray(4)));
console.log(
  `${RECORDS} records of ${LINES} new lines (${LINES * 13} rows, ${bodies[0]?.length} bytes raw), load ${loadavg()
    .map((n) => n.toFixed(2))
    .join(" ")}`,
);
console.log(`encode: ${percentiles(encode.slice(10))}; decode: ${percentiles(decode.slice(10))}`);
applyCost("1920-wide scroll", records);
applyCost(
  "1280-wide scroll (row by row)",
  records.map((record) => ({
    ...record,
    copies: record.copies.map((copy) => ({ ...copy, w: 1280 })),
  })),
);
applyCost(
  "two copies needing the snapshot",
  records.map((record) => {
    const [copy] = record.copies;
    if (copy === undefined) return record;
    const half = Math.floor(copy.h / 2);
    // The second copy reads rows the first one wrote: from a snapshot.
    return {
      ...record,
      copies: [
        { ...copy, h: half },
        { ...copy, y: half, h: copy.h - half },
      ],
    };
  }),
);

for (const level of [1, 6, 9]) {
  const writer = new ScreenWriter({ level });
  writer.start();
  const samples: number[] = [];
  let bytes = 0;
  for (const record of records) {
    const start = performance.now();
    const messages = await writer.write(record);
    samples.push(performance.now() - start);
    for (const message of messages) bytes += message.length;
  }
  const perRecord = bytes / RECORDS;
  console.log(
    `deflate level ${level}: ${percentiles(samples.slice(10))} per record, ${perRecord.toFixed(0)} bytes per record (${(perRecord / LINES).toFixed(1)} per text line)`,
  );
}
