/**
 * File names that came from the other side of a transfer, made safe to save under: the receiver
 * (the agent, the console's download) never uses a name as it came. See sanitizeFileName.
 */
import { MAX_FILE_NAME_CHARS } from "./limits.ts";

/** Controls, invisible format characters, separators, lone surrogates; and what Windows forbids. */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}<>:"|?*]/gu;
/** Windows device names, with or without an extension (CON, nul.txt, COM1, LPT9.tar.gz, COM¹). */
const DEVICE = /^(con|prn|aux|nul|conin\$|conout\$|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$/iu;

/** The name's extension (".txt"; "" for none), at most 16 characters so a cut name keeps it. */
function extensionOf(name: string): string {
  const dot = name.lastIndexOf(".");
  if (dot <= 0) return "";
  const extension = name.slice(dot);
  return Array.from(extension).length <= 16 ? extension : "";
}

/**
 * A name from outside as a plain file name: only its last path component (after any `/` or `\`),
 * control and format characters and `<>:"|?*` as `_`, no leading dots (no `..`, no hidden file),
 * no trailing dots or spaces, a Windows device name prefixed with `_`, at most MAX_FILE_NAME_CHARS
 * characters (the extension kept), and "file" for what is left empty.
 */
export function sanitizeFileName(raw: string): string {
  const last = raw.split(/[/\\]/u).at(-1) ?? "";
  let name = last
    .replace(UNSAFE, "_")
    .replace(/\s+/gu, " ")
    .replace(/^[.\s]+/u, "")
    .replace(/[.\s]+$/u, "");
  if (DEVICE.test(name)) name = `_${name}`;
  const chars = Array.from(name);
  if (chars.length > MAX_FILE_NAME_CHARS) {
    const extension = extensionOf(name);
    const keep = MAX_FILE_NAME_CHARS - Array.from(extension).length;
    name = `${chars
      .slice(0, keep)
      .join("")
      .replace(/[.\s]+$/u, "")}${extension}`;
  }
  return name === "" ? "file" : name;
}

/** `name`, or `name (1).ext`, `name (2).ext` ... : the n-th other choice when it is taken. */
export function numberedName(name: string, n: number): string {
  if (n === 0) return name;
  const extension = extensionOf(name);
  const stem = extension === "" ? name : name.slice(0, -extension.length);
  return `${stem} (${n})${extension}`;
}
