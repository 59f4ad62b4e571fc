/**
 * Reads what the tests check in a Windows executable, written from the PE/COFF specification:
 * the headers, the data directories, the sections and the resource tree (type / name / language).
 */
export type PeResource = {
  /** A numeric type (10 is RT_RCDATA) or a name. */
  readonly type: number | string;
  readonly name: number | string;
  readonly language: number;
  /** Where the resource's bytes are in the file. */
  readonly offset: number;
  readonly size: number;
};

export type PeFile = {
  /** 0x8664 for x64. */
  readonly machine: number;
  /** 0x20b for PE32+. */
  readonly magic: number;
  /** 3 is a console program (Windows gives it a console window when double-clicked). */
  readonly subsystem: number;
  readonly sections: readonly string[];
  /** The certificate table (Authenticode signature): a file offset and size, 0 when unsigned. */
  readonly certificate: { readonly offset: number; readonly size: number };
  readonly resources: readonly PeResource[];
};

type Section = { name: string; rva: number; virtualSize: number; rawSize: number; rawOffset: number };

export function readPe(file: Buffer): PeFile {
  if (file.toString("latin1", 0, 2) !== "MZ") throw new Error("no MZ header");
  const pe = file.readUInt32LE(0x3c);
  if (file.toString("latin1", pe, pe + 4) !== "PE\0\0") throw new Error("no PE signature");
  const coff = pe + 4;
  const machine = file.readUInt16LE(coff);
  const sectionCount = file.readUInt16LE(coff + 2);
  const optionalSize = file.readUInt16LE(coff + 16);
  const optional = coff + 20;
  const magic = file.readUInt16LE(optional);
  if (magic !== 0x20b) throw new Error(`not PE32+ (magic ${magic.toString(16)})`);
  const subsystem = file.readUInt16LE(optional + 68);
  const directory = (index: number) => ({
    rva: file.readUInt32LE(optional + 112 + index * 8),
    size: file.readUInt32LE(optional + 112 + index * 8 + 4),
  });
  const sections: Section[] = [];
  for (let i = 0; i < sectionCount; i++) {
    const at = optional + optionalSize + i * 40;
    sections.push({
      name: file.toString("latin1", at, at + 8).replace(/\0+$/, ""),
      virtualSize: file.readUInt32LE(at + 8),
      rva: file.readUInt32LE(at + 12),
      rawSize: file.readUInt32LE(at + 16),
      rawOffset: file.readUInt32LE(at + 20),
    });
  }
  const toOffset = (rva: number): number => {
    const section = sections.find((s) => rva >= s.rva && rva < s.rva + Math.max(s.virtualSize, s.rawSize));
    if (section === undefined) throw new Error(`RVA ${rva.toString(16)} is in no section`);
    return rva - section.rva + section.rawOffset;
  };
  const security = directory(4);
  const resourceDir = directory(2);
  const resources: PeResource[] = [];
  if (resourceDir.rva !== 0) {
    const base = toOffset(resourceDir.rva);
    const label = (value: number): number | string => {
      if ((value & 0x80000000) === 0) return value;
      const at = base + (value & 0x7fffffff);
      const length = file.readUInt16LE(at);
      return file.toString("utf16le", at + 2, at + 2 + length * 2);
    };
    const entries = (offset: number) => {
      const at = base + offset;
      const count = file.readUInt16LE(at + 12) + file.readUInt16LE(at + 14);
      return Array.from({ length: count }, (_, i) => ({
        name: file.readUInt32LE(at + 16 + i * 8),
        target: file.readUInt32LE(at + 16 + i * 8 + 4),
      }));
    };
    const subdirectory = (target: number) => {
      if ((target & 0x80000000) === 0) throw new Error("a resource tree level is not a directory");
      return target & 0x7fffffff;
    };
    for (const type of entries(0)) {
      for (const name of entries(subdirectory(type.target))) {
        for (const language of entries(subdirectory(name.target))) {
          const data = base + language.target;
          resources.push({
            type: label(type.name),
            name: label(name.name),
            language: language.name,
            offset: toOffset(file.readUInt32LE(data)),
            size: file.readUInt32LE(data + 4),
          });
        }
      }
    }
  }
  return {
    machine,
    magic,
    subsystem,
    sections: sections.map((s) => s.name),
    certificate: { offset: security.rva, size: security.size },
    resources,
  };
}
