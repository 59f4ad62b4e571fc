/**
 * `npx node scripts/probe-text-bound.ts`: how much information bench:vs-vnc's `text` workload
 * (SCROLL_WORKLOADS in bench-vnc-rig.ts: new text scrolling in a full-width 1080p xterm) actually
 * shows, against what x11vnc sends for it. Issue 14 asks for x11vnc's fps at <= 0.3x its bandwidth.
 * In one run, on a light version of the bench's rig (startScreen, scrollingTerminal and
 * startVncViewer from bench-vnc-rig.ts: Xvfb 1920x1080, the typing terminal, the scrolling xterm,
 * x11vnc shown by noVNC with ZRLE in headless Chromium; no gateway, agent or console):
 *
 * 1. x11vnc's delivered updates/s and bytes/s in the page (the rig's counters), over --seconds.
 * 2. Meanwhile what the scrolling xterm was given: xterm's own log (`-l -lf`) of the bytes it read
 *    from the pty (it is the pty's consumer, so the workload runs at its pace), its size polled
 *    every 5 ms, so each line gets the time xterm had it. Frames are then sampled at x11vnc's
 *    measured update rate; each frame newly shows the lines that came in since the last one, at
 *    most the terminal's rows (lines beyond a screenful between two frames are never shown).
 * 3. A lower bound: that newly shown text, as one stream, compressed by xz -9e, zstd -22 with
 *    long matching, brotli -q 11 (zstd and brotli from node:zlib, xz from the command line) and
 *    zlib -9 for reference: bits per second and per frame. Any picture showing this text correctly
 *    carries at least about this much (generous: the receiver is assumed to know font and layout).
 * 4. A scroll-aware lossless pixel path (VNC's CopyRect plus the new rows): with x11vnc stopped,
 *    the scrolling xterm's window is captured through MIT-SHM (agent/media/x11-capture.ts) at
 *    --grab-fps (default: x11vnc's measured rate) for --grab-seconds; between consecutive frames
 *    the vertical scroll is found by matching pixel rows (non-blank ones), the rows not covered by
 *    the shifted old frame are the new ones; they are reduced to 1 bit per pixel (the distinct
 *    colours seen are printed: two for xterm's default black on white) and compressed as a stream:
 *    live, flushed per frame (zlib -9, what RFB's ZRLE does; zstd -3 with long matching), and
 *    over the whole stream (zlib, zstd -22 --long, brotli, xz -9e). Bytes per line xterm was
 *    given during the grabs (its log) times the lines newly shown per second at x11vnc's rate
 *    (step 2), plus 40 bytes per frame for the protocol's headers: the bandwidth such a path would
 *    need, as a ratio to x11vnc's. The verdict uses the live (flushed) compressors.
 *
 * The `text` workload starts its walk of /usr anew with each run, so every run (and every
 * bench:vs-vnc run) sees the same directories first.
 *
 * Prints a table; writes bench-results/text-bound.json. Heavy (Xvfb, Chromium): run under
 * `flock /tmp/heavy.lock`. Options: --seconds (step 1-3, default 20), --grab-seconds (default 10),
 * --grab-fps (default x11vnc's measured rate), --warm-up seconds before measuring (default 4),
 * --workload (default text), --x11vnc-args "...", --out FILE.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import {
  brotliCompressSync,
  constants,
  createDeflate,
  createZstdCompress,
  deflateSync,
  zstdCompressSync,
} from "node:zlib";
import { closeShmConnection, openShmMonitor } from "../agent/media/x11-capture.ts";
import type { Teardown } from "../tests/agent/e2e-support.ts";
import { launchBrowser } from "../tests/helpers/browser.ts";
import { windowByName } from "../tests/helpers/xvfb.ts";
import {
  type Counters,
  SCROLL_WORKLOADS,
  type ScrollWorkload,
  scrollingTerminal,
  startScreen,
  startVncViewer,
} from "./bench-vnc-rig.ts";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "20" },
    "grab-seconds": { type: "string", default: "10" },
    "grab-fps": { type: "string", default: "" },
    "warm-up": { type: "string", default: "4" },
    workload: { type: "string", default: "text" },
    "x11vnc-args": { type: "string", default: "" },
    out: { type: "string", default: "bench-results/text-bound.json" },
  },
});
const workload = values.workload ?? "text";
if (!(workload in SCROLL_WORKLOADS)) throw new Error(`unknown workload ${workload}`);
const SECONDS = Number(values.seconds);
const GRAB_SECONDS = Number(values["grab-seconds"]);
const WARM_UP_MS = Number(values["warm-up"]) * 1000;
const X11VNC_ARGS = (values["x11vnc-args"] ?? "").split(" ").filter((arg) => arg !== "");
/** xterm's default font (fixed, 6x13): pixel rows per text row, and the terminal's columns. */
const ROW_PIXELS = 13;
const COLUMNS = 318;
/** What an RFB update with a CopyRect and one encoded rectangle costs besides its pixels (headers, WebSocket frame). */
const FRAME_OVERHEAD_BYTES = 40;
const GOAL_BANDWIDTH_RATIO = 0.3;

function have(tool: string): boolean {
  try {
    execFileSync("which", [tool], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
const missing = ["Xvfb", "xterm", "xdotool", "x11vnc", "xz"].filter((tool) => !have(tool));
if (missing.length > 0) console.log(`missing tools: ${missing.join(", ")} (xz: apt-get install xz-utils)`);

/** Compressed sizes of `data` in bytes, by compressor (xz only when installed). */
function compressed(data: Buffer): Record<string, number> {
  const sizes: Record<string, number> = {
    "zlib -9": deflateSync(data, { level: 9 }).length,
    "zstd -22 --long": zstdCompressSync(data, {
      params: {
        [constants.ZSTD_c_compressionLevel]: 22,
        [constants.ZSTD_c_windowLog]: 27,
        [constants.ZSTD_c_enableLongDistanceMatching]: 1,
      },
    }).length,
    "brotli -q 11": brotliCompressSync(data, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: 11,
        [constants.BROTLI_PARAM_LGWIN]: 24,
        [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
      },
    }).length,
  };
  if (have("xz"))
    sizes["xz -9e"] = execFileSync("xz", ["-9e", "-c"], { input: data, maxBuffer: 1 << 30 }).length;
  return sizes;
}

/**
 * Compresses `pieces` as one stream flushed after each (a frame's new rows: an RFB connection
 * keeps one zlib stream for ZRLE): zlib -9 with sync flushes, or zstd -3 with long matching
 * (a live sender's speed) flushed per frame. Bytes out, and wall milliseconds per piece.
 */
async function flushedStream(kind: "zlib" | "zstd", pieces: readonly Buffer[]) {
  const stream =
    kind === "zlib"
      ? createDeflate({ level: 9 })
      : createZstdCompress({
          params: {
            [constants.ZSTD_c_compressionLevel]: 3,
            [constants.ZSTD_c_windowLog]: 27,
            [constants.ZSTD_c_enableLongDistanceMatching]: 1,
          },
        });
  const flush = kind === "zlib" ? constants.Z_SYNC_FLUSH : constants.ZSTD_e_flush;
  let bytes = 0;
  stream.on("data", (chunk: Buffer) => {
    bytes += chunk.length;
  });
  const start = performance.now();
  for (const piece of pieces) {
    stream.write(piece);
    await new Promise<void>((resolve) => stream.flush(flush, () => resolve()));
  }
  const msPerPiece = (performance.now() - start) / Math.max(1, pieces.length);
  const ended = new Promise((resolve) => stream.once("end", resolve));
  stream.end();
  await ended;
  return { bytes, msPerPiece };
}

/** One line of xterm's log: its text (control characters removed) and the time xterm had it (epoch ms). */
type Line = { text: string; at: number };

/** The log's lines with times from the polled sizes `[epoch ms, bytes]` (the first poll that saw the line whole). */
function timedLines(log: Buffer, polls: ReadonlyArray<readonly [number, number]>): Line[] {
  const lines: Line[] = [];
  let start = 0;
  let poll = 0;
  for (let end = log.indexOf(10); end !== -1; end = log.indexOf(10, start)) {
    while (poll < polls.length && (polls[poll]?.[1] ?? 0) < end + 1) poll += 1;
    const at = polls[poll]?.[0];
    if (at === undefined) break;
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the log holds the pty's raw bytes
    lines.push({ text: log.toString("latin1", start, end).replace(/[\x00-\x1f]/g, ""), at });
    start = end + 1;
  }
  return lines;
}

/** Screen rows a line takes in the terminal (it wraps at COLUMNS). */
const rowsOf = (line: Line) => Math.max(1, Math.ceil(line.text.length / COLUMNS));

/**
 * Frames every `intervalMs` from `from` to `to`: each newly shows the lines that came in since the
 * last one, at most `rows` screen rows of them (the newest).
 */
function shownPerFrame(lines: readonly Line[], from: number, to: number, intervalMs: number, rows: number) {
  const frames: Line[][] = [];
  /** Frames that had more lines than the screen holds (the oldest never shown). */
  let capped = 0;
  let next = lines.findIndex((line) => line.at > from);
  if (next === -1) next = lines.length;
  for (let at = from + intervalMs; at <= to; at += intervalMs) {
    const fresh: Line[] = [];
    while (next < lines.length && (lines[next]?.at ?? Infinity) <= at) fresh.push(lines[next++] as Line);
    const shown: Line[] = [];
    let used = 0;
    for (let i = fresh.length - 1; i >= 0; i -= 1) {
      const line = fresh[i] as Line;
      if (used + rowsOf(line) > rows) {
        capped += 1;
        break;
      }
      used += rowsOf(line);
      shown.unshift(line);
    }
    frames.push(shown);
  }
  return { frames, capped, arrived: lines.filter((line) => line.at > from && line.at <= to).length };
}

/** A captured frame reduced to 1 bit per pixel (set: not the background colour), with an id per distinct row. */
type Bitmap = { rows: Buffer[]; ids: number[]; blank: boolean[] };

function toBitmap(
  data: Buffer,
  width: number,
  height: number,
  background: number,
  colours: Set<number>,
  ids: Map<string, number>,
): Bitmap {
  const rowBytes = Math.ceil(width / 8);
  const pixels =
    data.byteOffset % 4 === 0
      ? new Uint32Array(data.buffer, data.byteOffset, width * height)
      : new Uint32Array(Uint8Array.from(data).buffer, 0, width * height);
  const rows: Buffer[] = [];
  const rowIds: number[] = [];
  const blank: boolean[] = [];
  for (let y = 0; y < height; y += 1) {
    const row = Buffer.alloc(rowBytes);
    let inked = false;
    let last = -1;
    for (let x = 0; x < width; x += 1) {
      const pixel = (pixels[y * width + x] ?? 0) & 0xffffff;
      if (pixel !== last && colours.size < 64) colours.add(pixel);
      last = pixel;
      if (pixel !== background) {
        row[x >> 3] = (row[x >> 3] ?? 0) | (0x80 >> (x & 7));
        inked = true;
      }
    }
    const key = row.toString("latin1");
    let id = ids.get(key);
    if (id === undefined) {
      id = ids.size;
      ids.set(key, id);
    }
    rows.push(row);
    rowIds.push(id);
    blank.push(!inked);
  }
  return { rows, ids: rowIds, blank };
}

/** The scroll from `old` to `now` (rows moved up) that lines up the most non-blank rows, and the rows it leaves new. */
function scrollBetween(old: Bitmap, now: Bitmap): { dy: number; fresh: number[] } {
  const height = now.ids.length;
  let best = 0;
  let bestMatches = -1;
  for (let dy = 0; dy < height; dy += 1) {
    let matches = 0;
    for (let y = 0; y + dy < height; y += 1)
      if (!now.blank[y] && now.ids[y] === old.ids[y + dy]) matches += 1;
    if (matches > bestMatches) {
      bestMatches = matches;
      best = dy;
    }
  }
  const fresh: number[] = [];
  for (let y = 0; y < height; y += 1)
    if (y + best >= height || now.ids[y] !== old.ids[y + best]) fresh.push(y);
  return { dy: best, fresh };
}

const cleanups: Array<() => unknown> = [];
const teardown: Teardown = { teardown: (fn) => cleanups.push(fn) };
const round = (value: number, digits = 1) => Number(value.toFixed(digits));

async function main(): Promise<void> {
  const load = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  const loadBefore = load();
  const screen = await startScreen(teardown);
  const { xvfb } = screen;
  const browser = await launchBrowser();
  teardown.teardown(() => browser.close());
  const viewer = await startVncViewer(teardown, screen, browser, X11VNC_ARGS);
  const logPath = join(mkdtempSync(join(tmpdir(), "sos-text-bound-")), "xterm.log");
  const scroller = await scrollingTerminal(xvfb, workload as ScrollWorkload, ["-l", "-lf", logPath]);
  teardown.teardown(() => scroller.kill("SIGKILL"));
  await screen.focusTyping();
  const logSize = () => {
    try {
      return statSync(logPath).size;
    } catch {
      return 0;
    }
  };
  const polls: Array<readonly [number, number]> = [];
  const poller = setInterval(() => polls.push([Date.now(), logSize()]), 5);
  teardown.teardown(() => clearInterval(poller));
  await sleep(WARM_UP_MS);

  // 1 and 2: x11vnc's updates and bytes while xterm's log grows.
  const counters = () =>
    viewer.page.evaluate(() => {
      const bench = window.sosBench;
      if (bench === undefined) throw new Error("no watcher");
      return bench.counters();
    });
  const before: Counters = await counters();
  await sleep(SECONDS * 1000);
  const after: Counters = await counters();
  const seconds = (after.at - before.at) / 1000;
  const vnc = {
    fps: (after.frames - before.frames) / seconds,
    bitsPerSecond: ((after.bytes - before.bytes) * 8) / seconds,
    bytesPerUpdate: (after.bytes - before.bytes) / Math.max(1, after.frames - before.frames),
  };
  console.log(
    `x11vnc: ${vnc.fps.toFixed(1)} updates/s, ${(vnc.bitsPerSecond / 1e6).toFixed(3)} Mbit/s over ${seconds.toFixed(1)} s`,
  );

  // 4 (captured now, analysed below): x11vnc stopped, the scrolling window grabbed through MIT-SHM.
  process.kill(viewer.pid, "SIGSTOP"); // ended with SIGCONT + SIGTERM at teardown in any case
  const id = await windowByName(xvfb, "sos-scrolling");
  const shell = await xvfb.x("xdotool", ["getwindowgeometry", "--shell", id]);
  const field = (name: string) => Number(new RegExp(`${name}=(\\d+)`).exec(shell)?.[1] ?? 0);
  const region = { x: field("X"), y: field("Y"), width: field("WIDTH"), height: field("HEIGHT") };
  process.env.DISPLAY = xvfb.display;
  const monitor = await openShmMonitor({ index: 0, name: "scrolling", primary: false, ...region });
  if (monitor === undefined) throw new Error("no MIT-SHM capture on this display");
  teardown.teardown(() => closeShmConnection());
  const grabFps = values["grab-fps"] === "" ? Math.min(30, Math.max(1, vnc.fps)) : Number(values["grab-fps"]);
  const colours = new Set<number>();
  const rowIds = new Map<string, number>();
  const firstFrame = await monitor.capture();
  const counts = new Map<number, number>();
  for (let i = 0; i < firstFrame.data.length; i += 4 * 7) {
    const pixel = firstFrame.data.readUInt32LE(i) & 0xffffff;
    counts.set(pixel, (counts.get(pixel) ?? 0) + 1);
  }
  const background = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 0xffffff;
  let previous = toBitmap(firstFrame.data, region.width, region.height, background, colours, rowIds);
  const pieces: Buffer[] = [];
  const scrolls: number[] = [];
  let freshRows = 0;
  const grabStart = Date.now();
  let lateGrabs = 0;
  /** Wall time of capture, 1 bpp reduction and scroll search (plain JavaScript, not optimised). */
  let grabMs = 0;
  for (let k = 1; Date.now() - grabStart < GRAB_SECONDS * 1000; k += 1) {
    const due = grabStart + (k * 1000) / grabFps;
    if (due > Date.now()) await sleep(due - Date.now());
    else lateGrabs += 1;
    const started = performance.now();
    const frame = await monitor.capture();
    const now = toBitmap(frame.data, region.width, region.height, background, colours, rowIds);
    const { dy, fresh } = scrollBetween(previous, now);
    grabMs += performance.now() - started;
    scrolls.push(dy);
    freshRows += fresh.length;
    pieces.push(Buffer.concat(fresh.map((y) => now.rows[y] as Buffer)));
    previous = now;
  }
  const grabSeconds = (Date.now() - grabStart) / 1000;
  clearInterval(poller);
  process.kill(viewer.pid, "SIGCONT");

  // 2 and 3: the text newly shown per frame at x11vnc's rate, and its compressed size.
  const lines = timedLines(readFileSync(logPath), polls);
  const terminalRows = Math.floor(region.height / ROW_PIXELS);
  const shown = shownPerFrame(lines, before.at, after.at, 1000 / vnc.fps, terminalRows);
  const shownLines = shown.frames.flat();
  const shownRows = shownLines.reduce((sum, line) => sum + rowsOf(line), 0);
  const text = Buffer.from(shownLines.map((line) => line.text).join("\n"), "latin1");
  const textSizes = compressed(text);
  const bestText = Math.min(...Object.values(textSizes));
  const frames = shown.frames.length;
  const stamps = lines
    .filter((line) => /^\d\d:\d\d:\d\d\.\d{9}$/.test(line.text))
    .map((line) => {
      const [h, m, s] = line.text.split(":").map(Number);
      const stamped = ((h ?? 0) * 3600 + (m ?? 0) * 60 + (s ?? 0)) * 1000;
      return line.at - (Math.floor(line.at / 86_400_000) * 86_400_000 + stamped);
    })
    .sort((a, b) => a - b);
  const distinctSizes = new Set(polls.map(([, size]) => size)).size;
  const grabLines = timedLines(readFileSync(logPath), polls).filter(
    (line) => line.at > grabStart && line.at <= grabStart + grabSeconds * 1000,
  );

  // 4: bytes per text row of the new rows, 1 bit per pixel; as a path's bandwidth at x11vnc's rate.
  const zlibFlushed = await flushedStream("zlib", pieces);
  const zstdFlushed = await flushedStream("zstd", pieces);
  const pixelSizes: Record<string, number> = {
    "zlib -9 flushed per frame": zlibFlushed.bytes,
    "zstd -3 --long flushed per frame": zstdFlushed.bytes,
    ...compressed(Buffer.concat(pieces)),
  };
  const REALISTIC = ["zlib -9 flushed per frame", "zstd -3 --long flushed per frame"];
  const freshTextRows = freshRows / ROW_PIXELS;
  const shownRowsPerSecond = shownRows / seconds;
  const overhead = vnc.fps * FRAME_OVERHEAD_BYTES * 8;
  /**
   * Bytes per line xterm was given while grabbing (so the bottom row, redrawn each frame as it
   * fills, is counted too) times the lines newly shown per second at x11vnc's rate in steps 1-2
   * (the grabs run with x11vnc stopped, where the workload runs faster), plus the headers.
   */
  const shownLinesPerSecond = shownLines.length / seconds;
  const pixelPath = Object.fromEntries(
    Object.entries(pixelSizes).map(([name, bytes]) => {
      const perLine = bytes / Math.max(1, grabLines.length);
      return [
        name,
        {
          perTextRow: round(bytes / Math.max(1, freshTextRows)),
          perLine: round(perLine),
          bitsPerSecond: round(shownLinesPerSecond * perLine * 8 + overhead),
          atGrabPace: round((bytes * 8) / grabSeconds + grabFps * FRAME_OVERHEAD_BYTES * 8),
        },
      ];
    }),
  );
  const pathBits = (name: string) => pixelPath[name]?.bitsPerSecond ?? Number.NaN;
  const vncBits = vnc.bitsPerSecond;

  const table: Array<[string, number, string]> = [];
  const add = (what: string, bitsPerSecond: number) =>
    table.push([what, bitsPerSecond, (bitsPerSecond / vncBits).toFixed(3)]);
  add("x11vnc, measured (ZRLE to noVNC)", vncBits);
  add(`goal: ${GOAL_BANDWIDTH_RATIO}x x11vnc`, vncBits * GOAL_BANDWIDTH_RATIO);
  add("newly shown text, raw", (text.length * 8) / seconds);
  for (const [name, bytes] of Object.entries(textSizes))
    add(`newly shown text, ${name}`, (bytes * 8) / seconds);
  for (const name of Object.keys(pixelPath)) add(`scroll copy + new rows 1 bpp, ${name}`, pathBits(name));
  console.log(
    `\nworkload ${workload}: x11vnc ${vnc.fps.toFixed(1)} updates/s; frames sampled at that rate: ${frames}, ` +
      `${(shownRows / frames).toFixed(2)} text rows newly shown per frame (${shownRowsPerSecond.toFixed(1)}/s; ` +
      `${(shown.arrived / seconds).toFixed(1)} lines/s given to xterm; frames with more than the ` +
      `${terminalRows} rows: ${shown.capped})`,
  );
  console.log(`${"what".padEnd(58)}   kbit/s  bits/frame  x x11vnc`);
  for (const [what, bits, ratio] of table)
    console.log(
      `${what.padEnd(58)} ${(bits / 1000).toFixed(1).padStart(8)} ${((bits / vnc.fps) | 0).toString().padStart(11)} ${ratio.padStart(9)}`,
    );
  console.log(
    `\npixel path: ${pieces.length} grabs at ${grabFps.toFixed(1)}/s (${lateGrabs} late) over ${grabSeconds.toFixed(1)} s, ` +
      `${region.width}x${region.height}, ${colours.size} colours (${[...colours].map((c) => c.toString(16)).join(" ")}), ` +
      `new pixel rows ${freshRows} = ${freshTextRows.toFixed(1)} text rows (${(freshTextRows / grabSeconds).toFixed(1)}/s; ` +
      `log: ${(grabLines.length / grabSeconds).toFixed(1)} lines/s), scrolls by multiples of ${ROW_PIXELS} px: ` +
      `${scrolls.filter((dy) => dy % ROW_PIXELS === 0).length}/${scrolls.length}; ` +
      `wall ms per frame: capture + 1 bpp + scroll search ${(grabMs / Math.max(1, pieces.length)).toFixed(1)}, zlib ${zlibFlushed.msPerPiece.toFixed(1)}, zstd -3 ${zstdFlushed.msPerPiece.toFixed(1)}`,
  );
  console.log(
    `bytes per new text row (raw ${Math.ceil(region.width / 8) * ROW_PIXELS}) / per line given to xterm: ${Object.entries(
      pixelPath,
    )
      .map(([name, path]) => `${name} ${path.perTextRow.toFixed(0)} / ${path.perLine.toFixed(0)}`)
      .join(", ")}`,
  );
  const bound = (bestText * 8) / seconds;
  const goal = vncBits * GOAL_BANDWIDTH_RATIO;
  const realistic = Math.min(...REALISTIC.map(pathBits));
  const best = Math.min(...Object.keys(pixelPath).map(pathBits));
  const verdict =
    bound > goal
      ? "(a) impossible: the text alone needs more than the goal"
      : realistic <= goal
        ? "(c) a scroll-aware lossless pixel path with a live compressor fits under the goal"
        : best <= goal
          ? "(c) only with the strongest (offline-speed) compressors on the pixels; (b) otherwise"
          : "(b) only a text-aware (glyph) coding fits under the goal";
  console.log(
    `\ntext bound ${(bound / 1000).toFixed(1)} kbit/s (${((bestText * 8) / frames).toFixed(0)} bits/frame) against the goal ` +
      `${(goal / 1000).toFixed(1)} kbit/s; pixel path with a live compressor ${(realistic / 1000).toFixed(1)} kbit/s ` +
      `(${(realistic / vncBits).toFixed(3)}x x11vnc), best ${(best / 1000).toFixed(1)}: ${verdict}`,
  );
  console.log(
    `xterm log: ${distinctSizes} distinct sizes in ${polls.length} polls; date stamp to xterm p50 ${stamps[Math.floor(stamps.length / 2)] ?? "?"} ms; load ${loadBefore} -> ${load()}`,
  );

  const out = values.out ?? "bench-results/text-bound.json";
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    `${JSON.stringify(
      {
        workload,
        load: { before: loadBefore, after: load() },
        x11vnc: { ...vnc, seconds: round(seconds, 2) },
        text: {
          framesSampled: frames,
          framesCapped: shown.capped,
          linesGivenPerSecond: round(shown.arrived / seconds),
          rowsShownPerFrame: round(shownRows / frames, 2),
          rowsShownPerSecond: round(shownRowsPerSecond),
          rawBytes: text.length,
          compressedBytes: textSizes,
          boundBitsPerSecond: round(bound),
          boundBitsPerFrame: round((bestText * 8) / frames),
          dateStampToXtermMsP50: stamps[Math.floor(stamps.length / 2)] ?? null,
        },
        pixelPath: {
          grabs: pieces.length,
          grabFps: round(grabFps),
          grabSeconds: round(grabSeconds, 2),
          lateGrabs,
          region,
          colours: [...colours].map((c) => c.toString(16)),
          freshPixelRows: freshRows,
          logLinesPerSecond: round(grabLines.length / grabSeconds),
          scrollsByWholeRows: scrolls.filter((dy) => dy % ROW_PIXELS === 0).length,
          compressedBytes: pixelSizes,
          msPerFrame: {
            grab: round(grabMs / Math.max(1, pieces.length), 2),
            zlib: round(zlibFlushed.msPerPiece, 2),
            zstd: round(zstdFlushed.msPerPiece, 2),
          },
          bitsPerSecond: pixelPath,
          realisticBitsPerSecond: round(realistic),
          frameOverheadBytes: FRAME_OVERHEAD_BYTES,
        },
        table: table.map(([what, bits, ratio]) => ({
          what,
          bitsPerSecond: round(bits),
          ratio: Number(ratio),
        })),
        goalBitsPerSecond: round(goal),
        verdict,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`written to ${out}`);
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
