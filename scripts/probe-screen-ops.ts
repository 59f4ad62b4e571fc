/**
 * `npx node scripts/probe-screen-ops.ts`: what the lossless path's per-frame decisions
 * (agent/media/screen-ops.ts: scroll search, tile table, palette packing) cost and send on real
 * frames of bench:vs-vnc's `text` workload. The screen and the capture are probe-scroll-search.ts'
 * (Xvfb 1920x1080, the typing terminal and the scrolling xterm of bench-vnc-rig.ts, MIT-SHM as the
 * agent captures, --fps for --frames frames; no x11vnc, gateway, agent or console).
 *
 * Per frame: the changed rows (changedRows; the agent has them from the damage log), ScreenOps.next
 * timed (wall and this thread's CPU), then the record encoded (encodeScreenRecord) and compressed
 * by the agent's ScreenWriter (one deflate-raw stream, sync-flushed per record), and applied to
 * the console's model (decodeScreenRecord, ScreenCanvasModel): every lossless tile must equal the
 * frame exactly. The first record (every tile shown whole) is reported apart.
 *
 * Heavy (Xvfb, xterm): run under `flock /tmp/heavy.lock`. Options: --frames (default 100), --fps
 * (default 20), --warm-up seconds (default 3), --workload (default text), --save DIR (the first
 * frame and each changed one as raw BGRX files), --replay DIR (saved frames, --rounds times, default
 * 3: no X, no lock needed; the capture times are then --fps apart).
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import type { MonitorCapture } from "../agent/media/capture.ts";
import { changedRows } from "../agent/media/i420.ts";
import { pixelsOf } from "../agent/media/row-hashes.ts";
import { type FramePixels, rectBytes, ScreenOps } from "../agent/media/screen-ops.ts";
import { ScreenWriter } from "../agent/media/screen-writer.ts";
import { closeShmConnection, openShmMonitor } from "../agent/media/x11-capture.ts";
import { decodeScreenRecord, encodeScreenRecord, type ScreenRecord, tileRect } from "../shared/screen.ts";
import { ScreenCanvasModel } from "../shared/screen-model.ts";
import type { Teardown } from "../tests/agent/e2e-support.ts";
import {
  HEIGHT,
  percentile,
  SCROLL_WORKLOADS,
  type ScrollWorkload,
  scrollingTerminal,
  startScreen,
  WIDTH,
} from "./bench-vnc-rig.ts";

const { values } = parseArgs({
  options: {
    frames: { type: "string", default: "100" },
    fps: { type: "string", default: "20" },
    "warm-up": { type: "string", default: "3" },
    workload: { type: "string", default: "text" },
    save: { type: "string", default: "" },
    replay: { type: "string", default: "" },
    rounds: { type: "string", default: "3" },
  },
});
const workload = values.workload ?? "text";
if (!(workload in SCROLL_WORKLOADS)) throw new Error(`unknown workload ${workload}`);
const FRAMES = Number(values.frames);
const FPS = Number(values.fps);

const cleanups: Array<() => unknown> = [];
const teardown: Teardown = { teardown: (fn) => cleanups.push(fn) };
const load = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
const stats = (values: readonly number[], digits = 2) =>
  `p50 ${percentile(values, 50).toFixed(digits)} p95 ${percentile(values, 95).toFixed(digits)} max ${Math.max(...values).toFixed(digits)} mean ${mean(values).toFixed(digits)}`;

/** A captured frame: its pixels (a copy: the capture's buffer is updated in place) and capture time. */
type Captured = { data: Buffer; at: number };

async function* captured(monitor: MonitorCapture, save: string): AsyncGenerator<Captured> {
  if (save !== "") mkdirSync(save, { recursive: true });
  let last: Buffer | undefined;
  const start = performance.now();
  for (let k = 0; k <= FRAMES; k += 1) {
    const due = start + (k * 1000) / FPS;
    if (due > performance.now()) await sleep(due - performance.now());
    const at = Date.now();
    const data = Buffer.from((await monitor.capture()).data);
    if (save !== "" && (last === undefined || !last.equals(data)))
      writeFileSync(join(save, `${String(k).padStart(4, "0")}.raw`), data);
    last = data;
    yield { data, at };
  }
}

async function* replayed(dir: string): AsyncGenerator<Captured> {
  let at = Date.now();
  for (const name of readdirSync(dir)
    .filter((file) => file.endsWith(".raw"))
    .sort()) {
    at += 1000 / FPS;
    yield { data: readFileSync(join(dir, name)), at };
  }
}

/** Lossless tiles of the model that differ from the frame (the path's promise broken). */
function inexactTiles(model: ScreenCanvasModel, frame: FramePixels, frozen: Uint8Array): number {
  let wrong = 0;
  for (let tile = 0; tile < frozen.length; tile += 1) {
    if (frozen[tile] !== 1) continue;
    const { x, y, w, h } = tileRect(tile, frame.width, frame.height);
    let equal = model.isLossless(tile);
    for (let row = y; row < y + h && equal; row += 1)
      for (let column = x; column < x + w; column += 1) {
        const word = frame.words[row * frame.width + column] ?? 0;
        const o = (row * frame.width + column) * 4;
        const rgba = model.rgba;
        if (
          rgba[o] !== ((word >>> 16) & 0xff) ||
          rgba[o + 1] !== ((word >>> 8) & 0xff) ||
          rgba[o + 2] !== (word & 0xff)
        ) {
          equal = false;
          break;
        }
      }
    if (!equal) wrong += 1;
  }
  return wrong;
}

async function measure(label: string, frames: AsyncIterable<Captured>): Promise<void> {
  const ops = new ScreenOps(WIDTH, HEIGHT);
  const writer = new ScreenWriter();
  writer.start();
  const model = new ScreenCanvasModel();
  let previous: FramePixels | undefined;
  const wallMs: number[] = [];
  const cpuMs: number[] = [];
  const raw: number[] = [];
  const deflated: number[] = [];
  const rectRaw: number[] = [];
  const copies: number[] = [];
  const rectRows: number[] = [];
  const lossless: number[] = [];
  const firsts: string[] = [];
  let unchanged = 0;
  let noRecord = 0;
  let inexact = 0;
  let flips = 0;
  for await (const { data, at } of frames) {
    const next: FramePixels = { ...pixelsOf({ width: WIDTH, height: HEIGHT, data }), order: "bgra" };
    if (previous === undefined) {
      previous = next;
      continue;
    }
    const changed = changedRows(previous.data, next.data, WIDTH, HEIGHT);
    if (changed.length === 0) {
      unchanged += 1;
      previous = next;
      continue;
    }
    const cpu = process.threadCpuUsage();
    const started = performance.now();
    const step = ops.next(previous, next, changed, {
      rtpTimestamp: Math.round(at * 90) >>> 0,
      capturedAt: at,
    });
    wallMs.push(performance.now() - started);
    const used = process.threadCpuUsage(cpu);
    cpuMs.push((used.user + used.system) / 1000);
    const record: ScreenRecord | undefined = step.record;
    lossless.push(step.frozen.reduce((sum, flag) => sum + flag, 0));
    if (record === undefined) noRecord += 1;
    else {
      const encoded = encodeScreenRecord(record);
      const messages = await writer.write(record);
      const bytes = messages.reduce((sum, message) => sum + message.length, 0);
      flips += record.show.length + record.hide.length;
      if (firsts.length === 0 && record.show.length > 0)
        firsts.push(
          `first record: ${record.show.length} tiles shown, ${encoded.length} bytes, ${bytes} deflated, next() ${wallMs[wallMs.length - 1]?.toFixed(2)} ms`,
        );
      else {
        raw.push(encoded.length);
        deflated.push(bytes);
        rectRaw.push(rectBytes(record.rects));
        copies.push(record.copies.length);
        rectRows.push(
          new Set(record.rects.flatMap((rect) => Array.from({ length: rect.h }, (_, i) => rect.y + i))).size,
        );
      }
      const decoded = decodeScreenRecord(encoded.subarray(4));
      if (!decoded.ok) throw new Error(`a record does not decode: ${decoded.code} ${decoded.message}`);
      model.apply(decoded.record);
      model.hideTiles(decoded.record.hide);
    }
    inexact += inexactTiles(model, next, step.frozen);
    previous = next;
  }
  writer.close();
  const kbit = deflated.map((bytes) => (bytes * 8) / 1000);
  console.log(
    `${label}: ${wallMs.length} changed frames, ${unchanged} unchanged, ${noRecord} without a record`,
  );
  console.log(`next() wall ms per changed frame: ${stats(wallMs)}`);
  console.log(`next() CPU ms of this thread: ${stats(cpuMs)}`);
  for (const line of firsts) console.log(line);
  console.log(`after it, per record: bytes before deflate ${stats(raw, 0)}`);
  console.log(`  of which rects (palettes and indices): ${stats(rectRaw, 0)}`);
  console.log(
    `  after deflate (ScreenWriter, sync flush): ${stats(deflated, 0)} = ${mean(kbit).toFixed(2)} kbit mean, ${percentile(kbit, 50).toFixed(2)} p50`,
  );
  console.log(`  copies per record: ${stats(copies, 1)}`);
  const lines = rectRows.reduce((a, b) => a + b, 0) / 13;
  console.log(
    `  pixel rows sent as rects per record: ${stats(rectRows, 0)}; deflated bytes per 13-row text line: ${(deflated.reduce((a, b) => a + b, 0) / Math.max(1, lines)).toFixed(1)}`,
  );
  console.log(
    `tiles lossless per frame: ${stats(lossless, 0)}; tiles shown + hidden after the first record: ${flips - (firsts.length > 0 ? Number(/(\d+) tiles shown/.exec(firsts[0] ?? "")?.[1]) : 0)}`,
  );
  console.log(`lossless tiles not equal to the frame (summed over frames): ${inexact}`);
}

async function main(): Promise<void> {
  const loadBefore = load();
  const replay = values.replay ?? "";
  if (replay !== "") {
    for (let round = 1; round <= Number(values.rounds); round += 1)
      await measure(`replay of ${replay}, round ${round}`, replayed(replay));
    console.log(`load ${loadBefore} -> ${load()}`);
    return;
  }
  const screen = await startScreen(teardown);
  const scroller = await scrollingTerminal(screen.xvfb, workload as ScrollWorkload);
  teardown.teardown(() => scroller.kill("SIGKILL"));
  await screen.focusTyping();
  process.env.DISPLAY = screen.xvfb.display;
  const geometry = { index: 0, name: "screen", primary: true, x: 0, y: 0, width: WIDTH, height: HEIGHT };
  const monitor = await openShmMonitor(geometry);
  if (monitor === undefined) throw new Error("no MIT-SHM capture on this display");
  teardown.teardown(() => closeShmConnection());
  await sleep(Number(values["warm-up"]) * 1000);
  const start = performance.now();
  await measure(
    `workload ${workload}, ${WIDTH}x${HEIGHT}, asked ${FPS}/s`,
    captured(monitor, values.save ?? ""),
  );
  console.log(
    `${FRAMES} frames in ${((performance.now() - start) / 1000).toFixed(1)} s; load ${loadBefore} -> ${load()}`,
  );
}

try {
  await main();
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => undefined);
}
process.exit(process.exitCode ?? 0);
