/**
 * The benches' check of the console's picture against the X server's (scripts/bench-vnc-rig.ts,
 * `compareWithScreen`): on a still screen, the picture the console shows (the video with the
 * lossless path's overlay on top, from the watcher's snapshot) against the screen grabbed from
 * Xvfb with ffmpeg's x11grab. Where the overlay shows, the pixels must be equal (lossless);
 * elsewhere they are the video's (lossy: PSNR, and pixels clearly off).
 */

export type Comparison = {
  readonly width: number;
  readonly height: number;
  /** Pixels the overlay covered, and how many of them differ from the screen at all. */
  readonly losslessPixels: number;
  readonly losslessDiffering: number;
  /** Tiles (64x64, row by row) with a differing overlay pixel: the first 20. */
  readonly wrongTiles: readonly number[];
  /** The video's pixels: PSNR (RGB, dB) and how many are clearly off (|dR|+|dG|+|dB| > 150). */
  readonly videoPixels: number;
  readonly videoPsnr: number;
  readonly videoClearlyOff: number;
};

/**
 * The check's outcome: the comparison, or why it could not be made (the grab or the page failed,
 * e.g. the display gone at the end of a run). A bench prints it and keeps its measured figures.
 */
export type ScreenCheck = Comparison | { readonly failed: string };

/** Runs in the console page (after the watcher): compares its picture with `screenPng` (a data URL). */
export async function compareInPage(screenPng: string): Promise<Comparison> {
  const bench = window.sosBench;
  if (bench === undefined) throw new Error("no watcher");
  const shot = bench.snapshot();
  const pixels = async (url: string, width?: number, height?: number) => {
    const image = new Image();
    image.src = url;
    await image.decode();
    const canvas = document.createElement("canvas");
    canvas.width = width ?? image.naturalWidth;
    canvas.height = height ?? image.naturalHeight;
    const context = canvas.getContext("2d", { willReadFrequently: true });
    if (context === null) throw new Error("no 2d context");
    context.drawImage(image, 0, 0);
    return {
      data: context.getImageData(0, 0, canvas.width, canvas.height).data,
      width: canvas.width,
      height: canvas.height,
    };
  };
  const shown = await pixels(shot.composed);
  const { width, height } = shown;
  const truth = await pixels(screenPng, width, height);
  const alpha = shot.overlay === undefined ? undefined : await pixels(shot.overlay, width, height);
  const cols = Math.ceil(width / 64);
  const wrong = new Set<number>();
  let losslessPixels = 0;
  let losslessDiffering = 0;
  let videoPixels = 0;
  let squared = 0;
  let videoClearlyOff = 0;
  for (let i = 0; i < width * height; i += 1) {
    const o = i * 4;
    const dr = (shown.data[o] ?? 0) - (truth.data[o] ?? 0);
    const dg = (shown.data[o + 1] ?? 0) - (truth.data[o + 1] ?? 0);
    const db = (shown.data[o + 2] ?? 0) - (truth.data[o + 2] ?? 0);
    if (alpha !== undefined && (alpha.data[o + 3] ?? 0) > 0) {
      losslessPixels += 1;
      if (dr !== 0 || dg !== 0 || db !== 0) {
        losslessDiffering += 1;
        const tile = Math.floor(i / width / 64) * cols + Math.floor((i % width) / 64);
        if (wrong.size < 20) wrong.add(tile);
      }
    } else {
      videoPixels += 1;
      squared += dr * dr + dg * dg + db * db;
      if (Math.abs(dr) + Math.abs(dg) + Math.abs(db) > 150) videoClearlyOff += 1;
    }
  }
  const mse = squared / Math.max(1, videoPixels * 3);
  return {
    width,
    height,
    losslessPixels,
    losslessDiffering,
    wrongTiles: [...wrong],
    videoPixels,
    videoPsnr: mse === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10((255 * 255) / mse),
    videoClearlyOff,
  };
}

/** One line for a bench's output. */
export function comparisonText(c: ScreenCheck): string {
  if ("failed" in c) return `not compared (${c.failed})`;
  const lossless =
    c.losslessPixels === 0
      ? "no overlay pixels"
      : `overlay ${c.losslessPixels} pixels, ${c.losslessDiffering} differ${c.wrongTiles.length > 0 ? ` (tiles ${c.wrongTiles.join(" ")})` : ""}`;
  return `${lossless}; video ${c.videoPixels} pixels, PSNR ${c.videoPsnr.toFixed(1)} dB, ${c.videoClearlyOff} clearly off`;
}
