/**
 * Reading H.264 Annex B streams in tests (ITU-T H.264, 7.3): the NAL units of an access unit, the
 * sequence parameter set's profile, constraint flags and picture size, and each slice's type. Just
 * enough to state what a browser needs of the stream; ffprobe (Debian's ffmpeg) decodes it.
 */

export type NalUnit = { readonly type: number; readonly payload: Buffer };

/** The NAL units of an Annex B buffer (3- or 4-byte start codes). */
export function nalUnits(annexB: Buffer): NalUnit[] {
  const starts: Array<{ at: number; length: number }> = [];
  for (let i = 0; i + 2 < annexB.byteLength; i++) {
    if (annexB[i] === 0 && annexB[i + 1] === 0 && annexB[i + 2] === 1) {
      const four = i > 0 && annexB[i - 1] === 0;
      starts.push({ at: four ? i - 1 : i, length: four ? 4 : 3 });
      i += 2;
    }
  }
  return starts.map((start, index) => {
    const end = starts[index + 1]?.at ?? annexB.byteLength;
    const payload = annexB.subarray(start.at + start.length, end);
    return { type: (payload[0] ?? 0) & 0x1f, payload };
  });
}

/** The RBSP of a NAL unit: emulation prevention bytes (00 00 03) removed, header byte skipped. */
function rbsp(unit: NalUnit): Buffer {
  const out: number[] = [];
  let zeros = 0;
  for (const byte of unit.payload.subarray(1)) {
    if (zeros >= 2 && byte === 3) {
      zeros = 0;
      continue;
    }
    out.push(byte);
    zeros = byte === 0 ? zeros + 1 : 0;
  }
  return Buffer.from(out);
}

class BitReader {
  #bit = 0;
  readonly #bytes: Buffer;

  constructor(bytes: Buffer) {
    this.#bytes = bytes;
  }

  u(bits: number): number {
    let value = 0;
    for (let i = 0; i < bits; i++) {
      const byte = this.#bytes[this.#bit >> 3];
      if (byte === undefined) throw new Error("read past the end of a NAL unit");
      value = value * 2 + ((byte >> (7 - (this.#bit & 7))) & 1);
      this.#bit += 1;
    }
    return value;
  }

  ue(): number {
    let zeros = 0;
    while (this.u(1) === 0) zeros += 1;
    return 2 ** zeros - 1 + this.u(zeros);
  }

  se(): number {
    const k = this.ue();
    return k % 2 === 1 ? (k + 1) / 2 : -(k / 2);
  }
}

export type Sps = {
  readonly profileIdc: number;
  /** constraint_set0..5 flags, set0 first. */
  readonly constraints: readonly boolean[];
  readonly levelIdc: number;
  readonly width: number;
  readonly height: number;
};

const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

export function parseSps(unit: NalUnit): Sps {
  if (unit.type !== 7) throw new Error(`NAL unit type ${unit.type} is not an SPS`);
  const bits = new BitReader(rbsp(unit));
  const profileIdc = bits.u(8);
  const flags = bits.u(8);
  const levelIdc = bits.u(8);
  bits.ue(); // seq_parameter_set_id
  if (HIGH_PROFILES.has(profileIdc)) {
    if (bits.ue() === 3) bits.u(1); // chroma_format_idc, separate_colour_plane_flag
    bits.ue(); // bit_depth_luma_minus8
    bits.ue(); // bit_depth_chroma_minus8
    bits.u(1); // qpprime_y_zero_transform_bypass_flag
    if (bits.u(1) === 1) throw new Error("scaling matrices are not read here");
  }
  bits.ue(); // log2_max_frame_num_minus4
  const pocType = bits.ue();
  if (pocType === 0) bits.ue();
  else if (pocType === 1) {
    bits.u(1);
    bits.se();
    bits.se();
    const cycle = bits.ue();
    for (let i = 0; i < cycle; i++) bits.se();
  }
  bits.ue(); // max_num_ref_frames
  bits.u(1); // gaps_in_frame_num_value_allowed_flag
  const widthMbs = bits.ue() + 1;
  const heightMapUnits = bits.ue() + 1;
  const frameMbsOnly = bits.u(1);
  if (frameMbsOnly === 0) bits.u(1);
  bits.u(1); // direct_8x8_inference_flag
  let crop = { left: 0, right: 0, top: 0, bottom: 0 };
  if (bits.u(1) === 1) crop = { left: bits.ue(), right: bits.ue(), top: bits.ue(), bottom: bits.ue() };
  const fieldFactor = 2 - frameMbsOnly;
  return {
    profileIdc,
    constraints: [0, 1, 2, 3, 4, 5].map((i) => ((flags >> (7 - i)) & 1) === 1),
    levelIdc,
    // 4:2:0: crop units are two pixels wide and 2 * fieldFactor rows high.
    width: widthMbs * 16 - 2 * (crop.left + crop.right),
    height: fieldFactor * heightMapUnits * 16 - 2 * fieldFactor * (crop.top + crop.bottom),
  };
}

/** slice_type of a coded slice (types 1 and 5), modulo 5: 0 P, 1 B, 2 I, 3 SP, 4 SI. */
export function sliceType(unit: NalUnit): number {
  if (unit.type !== 1 && unit.type !== 5) throw new Error(`NAL unit type ${unit.type} is not a slice`);
  const bits = new BitReader(rbsp(unit));
  bits.ue(); // first_mb_in_slice
  return bits.ue() % 5;
}

/** Constrained Baseline (A.2.1.1): profile_idc 66 with constraint_set1_flag. */
export function isConstrainedBaseline(sps: Sps): boolean {
  return sps.profileIdc === 66 && sps.constraints[1] === true;
}
