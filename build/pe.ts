import { closeSync, fstatSync, ftruncateSync, openSync, readSync, writeSync } from "node:fs";

/** The certificate table is data directory 4 of a PE's optional header. */
const SECURITY_DIRECTORY = 4;

/**
 * Removes the Authenticode signature from a Windows executable in place (what `signtool remove /s`
 * does): the official node.exe is signed by the OpenJS Foundation, and once the SEA blob is
 * injected that signature no longer matches; left in, it would make the file look tampered with
 * (osslsigncode: "PE signature not at the end of the file") rather than unsigned. Node's SEA
 * documentation asks for the same before injecting. Returns whether there was one.
 */
export function stripAuthenticode(path: string): boolean {
  const fd = openSync(path, "r+");
  try {
    const header = Buffer.alloc(4096);
    readSync(fd, header, 0, header.byteLength, 0);
    if (header.toString("latin1", 0, 2) !== "MZ") throw new Error(`${path} is not a PE file (no MZ)`);
    const pe = header.readUInt32LE(0x3c);
    if (pe + 24 + 240 > header.byteLength || header.toString("latin1", pe, pe + 4) !== "PE\0\0") {
      throw new Error(`${path} is not a PE file (no PE header)`);
    }
    const optional = pe + 24;
    const magic = header.readUInt16LE(optional);
    if (magic !== 0x20b) throw new Error(`${path} is not a 64-bit PE (optional header magic ${magic})`);
    const entry = optional + 112 + SECURITY_DIRECTORY * 8;
    const offset = header.readUInt32LE(entry);
    const size = header.readUInt32LE(entry + 4);
    if (offset === 0 || size === 0) return false;
    const length = fstatSync(fd).size;
    if (offset + size !== length) throw new Error(`${path}: the signature is not at the end of the file`);
    writeSync(fd, Buffer.alloc(8), 0, 8, entry);
    ftruncateSync(fd, offset);
    return true;
  } finally {
    closeSync(fd);
  }
}
