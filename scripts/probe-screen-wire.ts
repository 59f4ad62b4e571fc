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
 *
 * --replay DIR: instead, real frames saved by probe-scroll-search.ts or probe-screen-ops.ts
 * (`--save DIR`, raw BGRX 1920x1080, the `text` workload): the agent's ScreenOps makes the records,
 * the deflate levels are compared on them, and every record goes writer -> inflate -> reader ->
 * decode -> ScreenCanvasModel, whose lossless tiles must equal the frame exactly.
 */
import { readdirSync, readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { changedRows } from "../agent/media/i420.ts";
import { pixelsOf } from "../agent/media/row-hashes.ts";
import { type FramePixels, ScreenOps } from "../agent/media/screen-ops.ts";
import { ScreenWriter } from "../agent/media/screen-writer.ts";
import {
  decodeScreenMessage,
  decodeScreenRecord,
  encodeScreenRecord,
  type ScreenRecord,
  ScreenRecordReader,
  tileGrid,
  tileRect,
} from "../shared/screen.ts";
import { ScreenCanvasModel } from "../shared/screen-model.ts";
import { random, randomRect, scrollRecord } from "../tests/helpers/screen-records.ts";

const { values } = parseArgs({
  options: {
    records: { type: "string", default: "300" },
    lines: { type: "string", default: "8" },
    replay: { type: "string", default: "" },
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

/** Deflate levels on `records` through one stream each: ms per record and bytes per record. */
async function levels(list: readonly ScreenRecord[], perLine: number): Promise<void> {
  for (const level of [1, 6, 9]) {
    const writer = new ScreenWriter({ level });
    writer.start();
    const samples: number[] = [];
    let bytes = 0;
    for (const record of list) {
      const start = performance.now();
      const messages = await writer.write(record);
      samples.push(performance.now() - start);
      for (const message of messages) bytes += message.length;
    }
    const perRecord = bytes / list.length;
    const lines = perLine > 0 ? ` (${(perRecord / perLine).toFixed(1)} per text line)` : "";
    console.log(
      `deflate level ${level}: ${percentiles(samples.slice(10))} per record, ${perRecord.toFixed(0)} bytes per record${lines}`,
    );
  }
}

async function replay(dir: string): Promise<void> {
  const files = readdirSync(dir)
    .filter((file) => file.endsWith(".raw"))
    .sort();
  const ops = new ScreenOps(WIDTH, HEIGHT);
  const list: ScreenRecord[] = [];
  const frames: Buffer[] = [];
  let previous: FramePixels | undefined;
  for (const [i, file] of files.entries()) {
    const data = readFileSync(join(dir, file));
    const next: FramePixels = { ...pixelsOf({ width: WIDTH, height: HEIGHT, data }), order: "bgra" };
    if (previous !== undefined) {
      const time = { rtpTimestamp: i * 4500, capturedAt: i * 50 };
      const step = ops.next(previous, next, changedRows(previous.data, next.data, WIDTH, HEIGHT), time);
      if (step.record !== undefined) {
        list.push(step.record);
        frames.push(data);
      }
    }
    previous = next;
  }
  const first = list[0];
  const rest = list.slice(1);
  const newRows = rest.reduce(
    (sum, record) => sum + record.rects.reduce((rows, rect) => rows + rect.h, 0),
    0,
  );
  console.log(
    `replay of ${dir}: ${files.length} frames, ${list.length} records (the first ${first === undefined ? 0 : encodeScreenRecord(first).length} bytes raw, shows ${first?.show.length} tiles), ${(newRows / Math.max(1, rest.length)).toFixed(1)} new pixel rows per later record, load ${loadavg()
      .map((n) => n.toFixed(2))
      .join(" ")}`,
  );
  console.log("later records only:");
  await levels(rest, newRows / Math.max(1, rest.length) / 13);
  // The whole path, exact: writer -> inflate per message -> reader -> decode -> model.
  const { createInflateRaw, constants } = await import("node:zlib");
  const writer = new ScreenWriter();
  writer.start();
  const inflate = createInflateRaw();
  const reader = new ScreenRecordReader();
  const model = new ScreenCanvasModel();
  const applyMs: number[] = [];
  let wrong = 0;
  inflate.on("data", (chunk: Buffer) => {
    const pushed = reader.push(chunk);
    if (!pushed.ok) throw new Error(pushed.message);
    for (const body of pushed.bodies) {
      const decoded = decodeScreenRecord(body);
      if (!decoded.ok) throw new Error(decoded.message);
      const { hide } = timed(applyMs, () => model.apply(decoded.record));
      model.hideTiles(hide); // as if the video caught up at once
    }
  });
  for (const [i, record] of list.entries()) {
    for (const message of await writer.write(record)) {
      const decoded = decodeScreenMessage(message);
      if (!decoded.ok) throw new Error(decoded.message);
      inflate.write(decoded.payload);
    }
    await new Promise<void>((resolve) => inflate.flush(constants.Z_SYNC_FLUSH, () => resolve()));
    while (inflate.read() !== null) {}
    const frame = frames[i] ?? Buffer.alloc(0);
    for (let tile = 0; tile < tileGrid(WIDTH, HEIGHT).count; tile += 1) {
      if (model.tileState(tile) !== "lossless") continue;
      const { x, y, w, h } = tileRect(tile, WIDTH, HEIGHT);
      for (let row = y; row < y + h; row += 1)
        for (let px = x; px < x + w; px += 1) {
          const at = (row * WIDTH + px) * 4;
          const same =
            model.rgba[at] === frame[at + 2] &&
            model.rgba[at + 1] === frame[at + 1] &&
            model.rgba[at + 2] === frame[at];
          if (!same) wrong += 1;
        }
    }
  }
  console.log(
    `apply of the later records: ${percentiles(applyMs.slice(1))}; lossless pixels not equal to the frame: ${wrong}`,
  );
}

if ((values.replay ?? "") !== "") {
  await replay(values.replay ?? "");
  process.exit(0);
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
  const reset: number[] = [];
  for (let i = 0; i < 5; i += 1) timed(reset, () => model.apply(first));
  const samples: number[] = [];
  let dirty = 0;
  for (const record of list) dirty += timed(samples, () => model.apply(record)).dirty.length;
  console.log(
    `apply, ${name}: ${percentiles(samples.slice(10))} (${(dirty / list.length).toFixed(2)} dirty rects per record); the RESET record (every tile, 1 bpp): best ${Math.min(...reset).toFixed(2)} ms`,
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

await levels(records, LINES);
