/**
 * Encoded frames out of an FFmpeg child's stdout, each complete the moment its last byte arrives.
 *
 * Why a container and not a raw stream: in raw H.264 (Annex B), even with access unit delimiters,
 * a frame's end is only known when the next frame's first bytes arrive, one frame interval later.
 * FLV (H.264) and IVF (VP8) put each frame's length in front of it, so the adapter hands a frame on
 * as soon as FFmpeg has written it. Both formats are small and fixed (FLV: Adobe's FLV and F4V
 * specification 10.1, annex E; IVF: the libvpx/WebM project's 32-byte header and 12-byte frame
 * header); read by hand because no maintained npm package parses them incrementally without
 * pulling in a media framework.
 *
 * H.264 leaves here as Annex B (start codes, SPS and PPS in front of every keyframe), as the
 * WebCodecs adapter produces it; VP8 frames as they are.
 */

export type ContainerFrame = { readonly data: Buffer; readonly key: boolean };

export type FrameReader = {
  /** Takes the next bytes of stdout and returns the frames they complete, in order. */
  push(bytes: Buffer): ContainerFrame[];
};

const START_CODE = Buffer.from([0, 0, 0, 1]);
const NAL_IDR = 5;
const NAL_SPS = 7;

/** A buffer of its own (not Node's shared pool), so the capture worker can transfer it. */
function ownBuffer(parts: readonly Buffer[]): Buffer {
  const length = parts.reduce((sum, part) => sum + part.byteLength, 0);
  const out = Buffer.from(new ArrayBuffer(length));
  let at = 0;
  for (const part of parts) {
    part.copy(out, at);
    at += part.byteLength;
  }
  return out;
}

/** Bytes not yet consumed, with the concatenation done once per push. */
class ByteQueue {
  #bytes: Buffer = Buffer.alloc(0);

  append(bytes: Buffer): void {
    this.#bytes = this.#bytes.byteLength === 0 ? bytes : Buffer.concat([this.#bytes, bytes]);
  }

  get length(): number {
    return this.#bytes.byteLength;
  }

  peek(length: number): Buffer | undefined {
    return this.#bytes.byteLength >= length ? this.#bytes.subarray(0, length) : undefined;
  }

  take(length: number): Buffer | undefined {
    const taken = this.peek(length);
    if (taken !== undefined) this.#bytes = this.#bytes.subarray(length);
    return taken;
  }
}

const FLV_HEADER_BYTES = 9 + 4; // the file header, then PreviousTagSize0
const FLV_TAG_HEADER_BYTES = 11;
const FLV_VIDEO = 9;
const FLV_CODEC_AVC = 7;
const AVC_SEQUENCE_HEADER = 0;
const AVC_NALU = 1;

/** FLV with H.264 (FFmpeg's `-f flv`): AVC tags to Annex B access units. */
export class FlvH264Reader implements FrameReader {
  readonly #queue = new ByteQueue();
  #headerRead = false;
  /** SPS and PPS from the AVC sequence header, put in front of every keyframe. */
  #parameterSets: Buffer[] = [];
  #lengthSize = 4;

  push(bytes: Buffer): ContainerFrame[] {
    this.#queue.append(bytes);
    const frames: ContainerFrame[] = [];
    if (!this.#headerRead) {
      const header = this.#queue.take(FLV_HEADER_BYTES);
      if (header === undefined) return frames;
      if (header.toString("latin1", 0, 3) !== "FLV") throw new Error("the encoder's output is not FLV");
      this.#headerRead = true;
    }
    for (;;) {
      const tagHeader = this.#queue.peek(FLV_TAG_HEADER_BYTES);
      if (tagHeader === undefined) break;
      const dataSize = tagHeader.readUIntBE(1, 3);
      const tag = this.#queue.take(FLV_TAG_HEADER_BYTES + dataSize + 4);
      if (tag === undefined) break;
      if (tagHeader[0] !== FLV_VIDEO) continue;
      const frame = this.#videoTag(tag.subarray(FLV_TAG_HEADER_BYTES, FLV_TAG_HEADER_BYTES + dataSize));
      if (frame !== undefined) frames.push(frame);
    }
    return frames;
  }

  #videoTag(data: Buffer): ContainerFrame | undefined {
    if (data.byteLength < 5 || ((data[0] ?? 0) & 0x0f) !== FLV_CODEC_AVC) return undefined;
    const packetType = data[1];
    const body = data.subarray(5);
    if (packetType === AVC_SEQUENCE_HEADER) {
      this.#readConfiguration(body);
      return undefined;
    }
    if (packetType !== AVC_NALU) return undefined;
    const nalUnits = this.#nalUnits(body);
    const key = nalUnits.some((unit) => ((unit[0] ?? 0) & 0x1f) === NAL_IDR);
    const hasSps = nalUnits.some((unit) => ((unit[0] ?? 0) & 0x1f) === NAL_SPS);
    const units = key && !hasSps ? [...this.#parameterSets, ...nalUnits] : nalUnits;
    return { data: ownBuffer(units.flatMap((unit) => [START_CODE, unit])), key };
  }

  /** The AVCDecoderConfigurationRecord (ISO/IEC 14496-15, 5.2.4.1). */
  #readConfiguration(record: Buffer): void {
    if (record.byteLength < 7) throw new Error("the encoder sent a short AVC configuration");
    this.#lengthSize = ((record[4] ?? 3) & 0x03) + 1;
    const sets: Buffer[] = [];
    let at = 5;
    for (const mask of [0x1f, 0xff]) {
      const count = (record[at] ?? 0) & mask;
      at += 1;
      for (let i = 0; i < count; i++) {
        const length = record.readUInt16BE(at);
        sets.push(Buffer.from(record.subarray(at + 2, at + 2 + length)));
        at += 2 + length;
      }
    }
    this.#parameterSets = sets;
  }

  #nalUnits(body: Buffer): Buffer[] {
    const units: Buffer[] = [];
    let at = 0;
    while (at + this.#lengthSize <= body.byteLength) {
      const length = body.readUIntBE(at, this.#lengthSize);
      at += this.#lengthSize;
      if (at + length > body.byteLength) throw new Error("the encoder sent a truncated NAL unit");
      units.push(body.subarray(at, at + length));
      at += length;
    }
    return units;
  }
}

const IVF_HEADER_BYTES = 32;
const IVF_FRAME_HEADER_BYTES = 12;

/** IVF with VP8 (FFmpeg's `-f ivf`). */
export class IvfReader implements FrameReader {
  readonly #queue = new ByteQueue();
  #headerRead = false;

  push(bytes: Buffer): ContainerFrame[] {
    this.#queue.append(bytes);
    const frames: ContainerFrame[] = [];
    if (!this.#headerRead) {
      const header = this.#queue.take(IVF_HEADER_BYTES);
      if (header === undefined) return frames;
      if (header.toString("latin1", 0, 4) !== "DKIF") throw new Error("the encoder's output is not IVF");
      this.#headerRead = true;
    }
    for (;;) {
      const frameHeader = this.#queue.peek(IVF_FRAME_HEADER_BYTES);
      if (frameHeader === undefined) break;
      const size = frameHeader.readUInt32LE(0);
      const frame = this.#queue.take(IVF_FRAME_HEADER_BYTES + size);
      if (frame === undefined) break;
      const data = frame.subarray(IVF_FRAME_HEADER_BYTES);
      // VP8 frame tag (RFC 6386, 9.1): bit 0 of the first byte is 0 for a key frame.
      frames.push({ data: ownBuffer([data]), key: ((data[0] ?? 1) & 1) === 0 });
    }
    return frames;
  }
}
