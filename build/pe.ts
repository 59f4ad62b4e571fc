import { closeSync, fstatSync, ftruncateSync, openSync, readFileSync, readSync, writeSync } from "node:fs";

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

const WINDOWS_10_ID = "{8e0f7a12-bfb3-4fe8-b9a5-48fd50a15a9a}";
/**
 * The settings that make the process per-monitor DPI aware (v2, Windows 10 1703 and later; the
 * 2005 `dpiAware` element for older readers). See README, "Monitors, DPI scaling and clicks".
 */
const DPI_SETTINGS =
  '<application xmlns="urn:schemas-microsoft-com:asm.v3"><windowsSettings>' +
  '<dpiAwareness xmlns="http://schemas.microsoft.com/SMI/2016/WindowsSettings">PerMonitorV2</dpiAwareness>' +
  '<dpiAware xmlns="http://schemas.microsoft.com/SMI/2005/WindowsSettings">true/pm</dpiAware>' +
  "</windowsSettings></application>";

/**
 * node.exe's application manifest, rewritten to declare the process per-monitor DPI aware, at the
 * same length (so the resource's size and every offset after it stay as they are): whitespace
 * between elements goes, empty elements are closed in their start tag, only Windows 10's
 * supportedOS entry stays (Node 24 runs on nothing older),
 * and the freed bytes take the DPI settings, padded with spaces. Undefined when it does not fit.
 */
export function perMonitorDpiManifest(manifest: string): string | undefined {
  if (manifest.includes("dpiAwareness")) return manifest;
  const compact = manifest
    .replace(/>\s+</g, "><")
    .replace(/<([\w:]+)([^<>]*)><\/\1>/g, "<$1$2/>")
    .replace(/<supportedOS Id="(\{[^"]+\})"\s*(?:\/>|><\/supportedOS>)/g, (whole, id: string) =>
      id === WINDOWS_10_ID ? whole : "",
    );
  const end = compact.lastIndexOf("</assembly>");
  if (end === -1) return undefined;
  const rewritten = `${compact.slice(0, end)}${DPI_SETTINGS}${compact.slice(end)}`.trimEnd();
  const room = Buffer.byteLength(manifest) - Buffer.byteLength(rewritten);
  if (room < 0) return undefined;
  const close = rewritten.lastIndexOf("</assembly>");
  return `${rewritten.slice(0, close)}${" ".repeat(room)}${rewritten.slice(close)}`;
}

/**
 * Makes a Windows executable per-monitor DPI aware by rewriting its manifest in place: found as
 * the one `<assembly ...>...</assembly>` in the file (node.exe has exactly one). Throws when there
 * is none, more than one, or the rewritten one would not fit.
 */
export function declarePerMonitorDpiAware(path: string): void {
  const bytes = readFileSync(path);
  const start = bytes.indexOf('<assembly xmlns="urn:schemas-microsoft-com:asm.v1"');
  const endTag = "</assembly>";
  const end = bytes.indexOf(endTag, start);
  if (
    start === -1 ||
    end === -1 ||
    bytes.indexOf('<assembly xmlns="urn:schemas-microsoft-com:asm.v1"', end) !== -1
  ) {
    throw new Error(`${path}: expected exactly one application manifest`);
  }
  const original = bytes.toString("utf8", start, end + endTag.length);
  const rewritten = perMonitorDpiManifest(original);
  if (rewritten === undefined) throw new Error(`${path}: the DPI settings do not fit in its manifest`);
  const fd = openSync(path, "r+");
  try {
    writeSync(fd, Buffer.from(rewritten, "utf8"), 0, Buffer.byteLength(rewritten), start);
  } finally {
    closeSync(fd);
  }
}
