/**
 * `npx node scripts/probe-scroll-search.ts`: what the agent's scroll search (agent/media/scroll-search.ts)
 * costs and finds on real frames of bench:vs-vnc's `text` workload. Xvfb 1920x1080 with the typing
 * terminal and the scrolling xterm (startScreen and scrollingTerminal from bench-vnc-rig.ts; no
 * x11vnc, gateway, agent or console), the whole screen captured through MIT-SHM as the agent does
 * (openShmMonitor) at --fps for --frames frames. Per frame: the changed rows by comparing with the
 * previous capture (changedRows, i420.ts; the agent has them from the damage log), then the
 * search timed (row hashes of the changed rows, votes, byte confirmation, the new rows and their
 * colours); the whole-row hashing alone is timed separately on its own RowHashes. Each result is
 * checked: copies applied to the previous frame, then the new rows, must give the frame byte for
 * byte.
 *
 * Prints p50/p95 ms per frame, the copies (dy, rectangle), the new rows per frame and their
 * colours, the load. Heavy (Xvfb, xterm): run under `flock /tmp/heavy.lock`. Profile with
 * `npx node --cpu-prof scripts/probe-scroll-search.ts`. Options: --frames (default 100),
 * --fps (default 20), --warm-up seconds (default 3), --workload (default text), --save DIR (the
 * first frame and each changed one as raw BGRX files), --replay DIR (the search over saved frames,
 * --rounds times (default 3, the JIT warm from the second): no X, no lock needed).
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import type { MonitorCapture } from "../agent/media/capture.ts";
import { changedRows } from "../agent/media/i420.ts";
import { type Pixels, pixelsOf, RowHashes } from "../agent/media/row-hashes.ts";
import { type ScrollResult, ScrollSearch } from "../agent/media/scroll-search.ts";
import { closeShmConnection, openShmMonitor } from "../agent/media/x11-capture.ts";
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

/** The previous frame with the copies applied (each reading it as it was), then the new rows. */
function rebuild(previous: Pixels, next: Pixels, result: ScrollResult): Buffer {
  const out = Buffer.from(previous.data);
  const stride = previous.width * 4;
  for (const copy of result.copies)
    for (let y = copy.y; y < copy.y + copy.h; y += 1) {
      const source = (y + copy.dy) * stride;
      previous.data.copy(out, y * stride + copy.x * 4, source + copy.x * 4, source + (copy.x + copy.w) * 4);
    }
  for (const rect of result.fresh)
    for (let y = rect.y; y < rect.y + rect.h; y += 1)
      next.data.copy(
        out,
        y * stride + rect.x * 4,
        y * stride + rect.x * 4,
        y * stride + (rect.x + rect.w) * 4,
      );
  return out;
}

const cleanups: Array<() => unknown> = [];
const teardown: Teardown = { teardown: (fn) => cleanups.push(fn) };
const load = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
const stats = (values: readonly number[]) =>
  `p50 ${percentile(values, 50).toFixed(2)} p95 ${percentile(values, 95).toFixed(2)} max ${Math.max(...values).toFixed(2)}`;
const tally = (values: readonly (string | number)[]) => {
  const counts = new Map<string | number, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([value, count]) => `${value}: ${count}`)
    .join(", ");
};

/** Frames as raw 1920x1080 32-bit pixels: captured live (each a copy: the capture's buffer is updated in place) or replayed. */
type Frames = { label: string; frames: AsyncIterable<Buffer> };

async function* captured(monitor: MonitorCapture, save: string): AsyncGenerator<Buffer> {
  if (save !== "") mkdirSync(save, { recursive: true });
  let last: Buffer | undefined;
  const start = performance.now();
  for (let k = 0; k <= FRAMES; k += 1) {
    const due = start + (k * 1000) / FPS;
    if (due > performance.now()) await sleep(due - performance.now());
    const data = Buffer.from((await monitor.capture()).data);
    if (save !== "" && (last === undefined || !last.equals(data)))
      writeFileSync(join(save, `${String(k).padStart(4, "0")}.raw`), data);
    last = data;
    yield data;
  }
}

async function* replayed(dir: string): AsyncGenerator<Buffer> {
  for (const name of readdirSync(dir)
    .filter((file) => file.endsWith(".raw"))
    .sort())
    yield readFileSync(join(dir, name));
}

/** The search over `source`'s frames: wall and CPU ms per frame, what it found; every result rebuilt exactly or counted. */
async function measure(source: Frames): Promise<void> {
  let previous: Pixels | undefined;
  let searcher: ScrollSearch | undefined;
  let hashesAlone: RowHashes | undefined;
  const compareMs: number[] = [];
  const hashMs: number[] = [];
  const searchMs: number[] = [];
  const searchCpuMs: number[] = [];
  const changedSearchMs: number[] = [];
  const changedPerFrame: number[] = [];
  const freshPerFrame: number[] = [];
  const copiesPerFrame: number[] = [];
  const shifts: number[] = [];
  const rects: string[] = [];
  const colours: Array<number | string> = [];
  let inexact = 0;
  let unchanged = 0;
  for await (const data of source.frames) {
    const next = pixelsOf({ width: WIDTH, height: HEIGHT, data });
    if (previous === undefined || searcher === undefined || hashesAlone === undefined) {
      previous = next;
      searcher = new ScrollSearch(next);
      hashesAlone = new RowHashes(next);
      continue;
    }
    let at = performance.now();
    const changed = changedRows(previous.data, next.data, WIDTH, HEIGHT);
    compareMs.push(performance.now() - at);
    at = performance.now();
    hashesAlone.update(next, changed);
    hashMs.push(performance.now() - at);
    const cpu = process.threadCpuUsage();
    at = performance.now();
    const result = searcher.search(previous, next, changed);
    searchMs.push(performance.now() - at);
    const used = process.threadCpuUsage(cpu);
    searchCpuMs.push((used.user + used.system) / 1000);
    if (changed.length === 0) unchanged += 1;
    else changedSearchMs.push(searchMs[searchMs.length - 1] ?? 0);
    changedPerFrame.push(changed.reduce((sum, range) => sum + range.end - range.start, 0));
    freshPerFrame.push(result.freshRows);
    copiesPerFrame.push(result.copies.length);
    for (const copy of result.copies) {
      shifts.push(copy.dy);
      rects.push(`${copy.x},${copy.y} ${copy.w}x${copy.h}`);
    }
    colours.push(result.colours);
    if (!rebuild(previous, next, result).equals(next.data)) inexact += 1;
    previous = next;
  }
  const frames = searchMs.length;
  const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
  console.log(`${source.label}: ${frames} frames, ${unchanged} unchanged`);
  console.log(`search wall ms per frame (hashes + votes + confirm + new rows + colours): ${stats(searchMs)}`);
  console.log(`  frames that changed: ${stats(changedSearchMs)}, mean ${mean(changedSearchMs).toFixed(2)}`);
  console.log(
    `  CPU ms of this thread (process.threadCpuUsage: what load inflates less): ${stats(searchCpuMs)}, mean ${mean(searchCpuMs).toFixed(2)}`,
  );
  console.log(`  of which whole-row hashes of the changed rows (wall): ${stats(hashMs)}`);
  console.log(`changedRows wall ms per frame (the agent has these from DAMAGE): ${stats(compareMs)}`);
  console.log(`changed rows per frame: ${stats(changedPerFrame)}`);
  console.log(
    `new rows per frame after the copies: ${stats(freshPerFrame)}, mean ${mean(freshPerFrame).toFixed(1)}`,
  );
  console.log(`copies per frame: ${tally(copiesPerFrame)}`);
  console.log(`dy: ${tally(shifts)}`);
  console.log(`copy rectangles (top 8): ${tally(rects).split(", ").slice(0, 8).join(", ")}`);
  console.log(`colours in the new rows: ${tally(colours)}`);
  console.log(`frames not rebuilt exactly: ${inexact}`);
}

async function main(): Promise<void> {
  const loadBefore = load();
  const replay = values.replay ?? "";
  if (replay !== "") {
    for (let round = 1; round <= Number(values.rounds); round += 1)
      await measure({ label: `replay of ${replay}, round ${round}`, frames: replayed(replay) });
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
  await measure({
    label: `workload ${workload}, ${WIDTH}x${HEIGHT}, asked ${FPS}/s`,
    frames: captured(monitor, values.save ?? ""),
  });
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
