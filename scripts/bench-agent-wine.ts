/**
 * bench:agent's Windows-under-Wine column: per 1920x1080 frame, what the Windows build's capture
 * and encoder cost when run under Debian's Wine 8 on this machine's Xvfb, beside the Linux agent's.
 *
 * - capture: the win-x64 build's node-screenshots addon (GDI under Wine) as the agent calls it
 *   (`captureImage()` then `toRawSync()`), in a Node 22 node.exe (Wine 8 cannot run Node 24's);
 * - encode: the agent's FFmpeg adapter driving the build's ffmpeg.exe 4.1 under Wine, through the
 *   encoder interface (scripts/bench-encoder-adapters.ts), beside the Linux agent's WebCodecs.
 * Wine is not Windows: these numbers say what the Windows build costs here, through Wine's GDI and
 * Wine's process and pipe emulation, not what it costs on a Windows PC (DXGI, hardware encoders).
 * The Wine prefix is the test harness's (tests/helpers/wine.ts).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packageDir, requiredVersions } from "../build/packages.ts";
import { PINNED_VERSIONS, TARGETS } from "../build/targets.ts";
import { startWine, wineAvailable } from "../tests/helpers/wine.ts";
import type { Xvfb } from "../tests/helpers/xvfb.ts";
import { adapterCandidates, benchAdapters, percentile } from "./bench-encoder-adapters.ts";

const CACHE = join("node_modules", ".cache", "sos-build");
/** The Node inside the Wine test build (tests/build/windows-exe.test.ts). */
const WINE_NODE = "22.23.3";
const CAPTURES = 30;

export const WINE_NOTE =
  "Wine is not Windows: the Windows build's capture (GDI through Wine) and ffmpeg.exe (through Wine's process and pipe emulation) on this machine, not a Windows PC";

export type PerFrame = { p50: number; p95: number };
export type WineColumn =
  | {
      note: string;
      linux: { captureMs: PerFrame; captureBackend: string; encodeMs: PerFrame; encoder: string };
      windowsUnderWine: { captureMs: PerFrame; captureBackend: string; encodeMs: PerFrame; encoder: string };
    }
  | { note: string; skipped: string };

const round = (value: number) => Math.round(value * 10) / 10;
const perFrame = (samples: readonly number[]): PerFrame => ({
  p50: round(percentile(samples, 50)),
  p95: round(percentile(samples, 95)),
});

/**
 * Capture times (ms) of the Windows addon under Wine, from a script run by the Wine Node, written
 * to a file (Wine's console wraps long lines on the pty).
 */
const CAPTURE_SCRIPT = (addon: string, count: number, out: string) => `
const { Monitor } = require(${JSON.stringify(addon)});
(async () => {
  const monitor = Monitor.all()[0];
  const times = [];
  for (let i = 0; i < ${count} + 3; i++) {
    const started = performance.now();
    const image = await monitor.captureImage();
    const raw = image.toRawSync();
    if (i >= 3) times.push(performance.now() - started);
    if (raw.length !== image.width * image.height * 4) throw new Error("short frame");
  }
  require("node:fs").writeFileSync(${JSON.stringify(out)}, JSON.stringify(times));
})().catch((error) => { console.log("FAILED " + error.message); process.exit(1); });
`;

/**
 * The column, or why it was skipped. `linuxCaptureMs` are the Linux agent's own capture times,
 * measured by the caller on the same display.
 */
export async function wineColumn(
  xvfb: Xvfb,
  linuxCapture: { samples: readonly number[]; backend: string },
  progress: (line: string) => void,
): Promise<WineColumn> {
  const missing = await wineAvailable();
  if (missing !== undefined) return { note: WINE_NOTE, skipped: missing };
  const spec = TARGETS["win-x64"];
  const versions = requiredVersions(spec, WINE_NODE);
  const screenshots = "node-screenshots-win32-x64-msvc";
  const ffmpegPackage = "@ffmpeg-installer/win32-x64";
  progress("wine: fetching node.exe 22, the Windows capture addon and ffmpeg.exe (cached after once)");
  const nodeDir = await packageDir(spec.nodePackage, WINE_NODE, CACHE);
  const addonDir = await packageDir(screenshots, versions.get(screenshots) ?? "", CACHE);
  const ffmpegDir = await packageDir(ffmpegPackage, PINNED_VERSIONS[ffmpegPackage] ?? "", CACHE);
  const addon = readdirSync(addonDir).find((file) => file.endsWith(".node"));
  if (addon === undefined) return { note: WINE_NOTE, skipped: `${screenshots} has no .node file` };

  progress("wine: preparing the prefix (once per machine) and timing the Windows capture");
  const wine = await startWine({ display: xvfb.display });
  const work = mkdtempSync(join(tmpdir(), "sos-bench-wine-"));
  try {
    const script = join(work, "capture.cjs");
    const out = join(work, "times.json");
    writeFileSync(
      script,
      CAPTURE_SCRIPT(wine.windowsPath(join(process.cwd(), addonDir, addon)), CAPTURES, wine.windowsPath(out)),
    );
    const result = await wine.run(join(nodeDir, spec.nodeBinary), [wine.windowsPath(script)], {
      timeoutMs: 180_000,
    });
    if (result.code !== 0 || !existsSync(out)) {
      return { note: WINE_NOTE, skipped: `capture under Wine failed: ${result.output}` };
    }
    const parsed: unknown = JSON.parse(readFileSync(out, "utf8"));
    const captureTimes = Array.isArray(parsed) ? parsed.filter((value) => typeof value === "number") : [];

    progress("wine: timing the FFmpeg adapter with ffmpeg.exe under Wine beside WebCodecs");
    const wineEncoder = "ffmpeg.exe 4.1 under Wine";
    const candidates = adapterCandidates([
      {
        name: wineEncoder,
        command: { file: "wine", leadingArgs: [join(ffmpegDir, "ffmpeg.exe")], env: wine.env },
      },
    ]);
    const encoded = await benchAdapters(candidates, 1, (text) => progress(`wine: ${text}`));
    const linuxEncode = encoded["WebCodecs (baseline)"];
    const wineEncode = encoded[`FFmpeg adapter: ${wineEncoder}`];
    if (linuxEncode === undefined || wineEncode === undefined) {
      return { note: WINE_NOTE, skipped: "an encoder gave no result" };
    }
    return {
      note: WINE_NOTE,
      linux: {
        captureMs: perFrame(linuxCapture.samples),
        captureBackend: linuxCapture.backend,
        encodeMs: { p50: round(linuxEncode.latencyMs.p50), p95: round(linuxEncode.latencyMs.p95) },
        encoder: "WebCodecs (@napi-rs/webcodecs, libx264 inside)",
      },
      windowsUnderWine: {
        captureMs: perFrame(captureTimes),
        captureBackend: `node-screenshots ${versions.get(screenshots)} Windows addon (GDI under Wine 8), Node ${WINE_NODE}`,
        encodeMs: { p50: round(wineEncode.latencyMs.p50), p95: round(wineEncode.latencyMs.p95) },
        encoder: "FFmpeg adapter with ffmpeg.exe 4.1 (libx264) under Wine 8",
      },
    };
  } finally {
    await wine.stop();
    rmSync(work, { recursive: true, force: true });
  }
}
