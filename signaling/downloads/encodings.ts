import type { Transform } from "node:stream";
import { constants, createBrotliCompress, createZstdCompress } from "node:zlib";

/**
 * The HTTP content codings an SOS download is also offered in, best first: the gateway sends the
 * first one the request accepts and that has been made for the build. Measured on the win-x64
 * executable (docs/windows-agent.md, "Download size"): zstd 19 45.4 MB (Chromium and Firefox
 * accept it over https), brotli 9 48.7 MB (every current browser over https); gzip -9 60.8 MB
 * would not reach the 50 MB goal and is not offered.
 */
export const DOWNLOAD_ENCODINGS = ["zstd", "br"] as const;
export type DownloadEncoding = (typeof DOWNLOAD_ENCODINGS)[number];

/** zstd's level for downloads: 19 (the strongest before the "ultra" levels' larger windows). */
export const ZSTD_LEVEL = 19;
/** zstd's window: 8 MiB, the most an HTTP decoder must accept (RFC 9659). */
export const ZSTD_WINDOW_LOG = 23;
/**
 * Brotli's quality for downloads: 9 gets win-x64 to 48.7 MB in about 150 s of one core, once per
 * build (8: 49.2 MB, 65 s; 7: 49.6 MB, 24 s; 6: 50.3 MB).
 */
export const BROTLI_QUALITY = 9;
/** Brotli's largest window every HTTP decoder accepts (16 MiB; not "large window" brotli). */
export const BROTLI_WINDOW_BITS = 24;

/** The compressor for a content coding. */
export function compressorFor(encoding: DownloadEncoding, sizeHint: number): Transform {
  if (encoding === "zstd") {
    return createZstdCompress({
      params: {
        [constants.ZSTD_c_compressionLevel]: ZSTD_LEVEL,
        [constants.ZSTD_c_windowLog]: ZSTD_WINDOW_LOG,
        [constants.ZSTD_c_checksumFlag]: 1,
      },
    });
  }
  return createBrotliCompress({
    params: {
      [constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY,
      [constants.BROTLI_PARAM_LGWIN]: BROTLI_WINDOW_BITS,
      [constants.BROTLI_PARAM_SIZE_HINT]: sizeHint,
    },
  });
}

/**
 * The coding to send for an `Accept-Encoding` header, among those `available`, in our order of
 * preference; undefined: the plain file. A coding with `q=0` is refused, `*` accepts any coding
 * not named (RFC 9110, 12.5.3).
 */
export function chooseEncoding(
  header: string | undefined,
  available: readonly DownloadEncoding[],
): DownloadEncoding | undefined {
  if (header === undefined || available.length === 0) return undefined;
  const weights = new Map<string, number>();
  for (const item of header.split(",")) {
    const [name = "", ...params] = item.split(";").map((part) => part.trim().toLowerCase());
    if (name === "") continue;
    const q = params.find((param) => param.startsWith("q="));
    const weight = q === undefined ? 1 : Number(q.slice(2));
    weights.set(name, Number.isFinite(weight) ? weight : 0);
  }
  const accepted = (coding: string) => (weights.get(coding) ?? weights.get("*") ?? 0) > 0;
  return DOWNLOAD_ENCODINGS.find((coding) => available.includes(coding) && accepted(coding));
}
