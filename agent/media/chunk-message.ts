/** An encoded chunk as the capture worker posts it, its buffer transferred when it can be. */
import type { EncodedChunk, VideoCodecName } from "./video-encoder.ts";
import type { FromWorker } from "./worker-protocol.ts";

/**
 * The message for `chunk`, and what to transfer with it: the chunk's own buffer when the chunk
 * covers all of it (no copy), else nothing (the bytes are copied).
 */
export function chunkMessage(
  chunk: EncodedChunk,
  codec: VideoCodecName,
): { message: FromWorker; transfer: ArrayBuffer[] } {
  const { buffer, byteOffset, byteLength } = chunk.data;
  const whole = buffer instanceof ArrayBuffer && byteOffset === 0 && byteLength === buffer.byteLength;
  const data = new Uint8Array(buffer, byteOffset, byteLength);
  return {
    message: {
      type: "chunk",
      codec,
      data: whole ? data : data.slice(),
      key: chunk.key,
      timestampUs: chunk.timestampUs,
      width: chunk.width,
      height: chunk.height,
      capturedAt: performance.timeOrigin + chunk.timestampUs / 1000,
    },
    transfer: whole && buffer instanceof ArrayBuffer ? [buffer] : [],
  };
}
