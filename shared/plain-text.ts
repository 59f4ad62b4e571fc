import { z } from "zod";
import { MAX_CHAT_LINE_CHARS } from "./limits.ts";

/**
 * Text typed by one person and shown to another: the rule names follow at the gateway's door, and
 * how the agent makes any text from outside inert before it reaches the end user's terminal.
 *
 * A terminal obeys control characters: ESC starts CSI/OSC sequences (erase, move the cursor,
 * colour, conceal, retitle), CR and BS overwrite, and many terminals take U+0080-U+009F (the 8-bit
 * CSI U+009B) as controls too. Bidi embeddings, overrides and isolates reorder what follows them.
 */

/**
 * No controls (Unicode Cc: C0 U+0000-U+001F, DEL, C1 U+0080-U+009F), bidi embeddings, overrides
 * and isolates (U+202A-U+202E, U+2066-U+2069), line and paragraph separators (U+2028, U+2029).
 */
const SINGLE_LINE = /^[^\p{Cc}\u202a-\u202e\u2066-\u2069\u2028\u2029]*$/u;
/** The same, but line feeds and tabs are allowed (multi-line notes, shown by the console as text). */
const MULTI_LINE = /^(?:[\t\n]|[^\p{Cc}\u202a-\u202e\u2066-\u2069\u2028\u2029])*$/u;

/**
 * A name or other text from a person: refused (400 BAD_REQUEST at the gateway) when it holds
 * control characters, DEL or bidi controls; then trimmed and at most `max` long. The check runs
 * before trimming, so a control character at either end is refused too, not trimmed away.
 */
export function plainText(max: number, options: { multiline?: boolean } = {}) {
  const multiline = options.multiline === true;
  return z
    .string()
    .regex(
      multiline ? MULTI_LINE : SINGLE_LINE,
      multiline
        ? "no control characters (except line feed and tab) and no bidi controls"
        : "no control characters, line breaks or bidi controls",
    )
    .trim()
    .max(max);
}

/** A chat line as typed by either side: plain text, one line, not empty, at most MAX_CHAT_LINE_CHARS. */
export const chatTextSchema = plainText(MAX_CHAT_LINE_CHARS).min(1, "an empty chat line");

/**
 * What the agent never prints as it is: every control (Unicode Cc: C0, DEL, C1), every invisible
 * format character (Cf: bidi controls, zero-width space, soft hyphen, BOM, tag characters...)
 * except the joiners U+200C/U+200D that scripts and emoji need, line and paragraph separators,
 * and lone surrogates.
 */
const HIDDEN = /(?![\u200c\u200d])[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu;

function visibleEscape(char: string): string {
  const code = char.codePointAt(0) ?? 0;
  if (code <= 0xff) return `\\x${code.toString(16).padStart(2, "0")}`;
  if (code <= 0xffff) return `\\u${code.toString(16).padStart(4, "0")}`;
  return `\\u{${code.toString(16)}}`;
}

/**
 * Text from outside (the gateway, a build's configuration, the network) made safe to print: each
 * hidden character is shown as a visible escape (`\x1b`, `\x0d`, `\x9b`, `\u202e`), runs of
 * spaces become one space, and the result is at most `max` characters (code points), a cut one
 * ending in "…". The result holds no control or format character, so it can neither start a new
 * line nor move, erase, recolour, conceal or reorder anything.
 */
export function inertText(text: string, max: number): string {
  const visible = text.replace(HIDDEN, visibleEscape).replace(/\p{Zs}{2,}/gu, " ");
  const chars = Array.from(visible);
  if (chars.length <= max) return visible;
  return `${chars.slice(0, Math.max(0, max - 1)).join("")}…`;
}

/**
 * A JSON log line made safe for a terminal without changing what it says: hidden characters that
 * JSON leaves raw (DEL, C1, format characters, separators) become `\uXXXX` escapes. They can only
 * occur inside JSON strings, where such an escape means the same character.
 */
export function terminalSafeJson(line: string): string {
  return line.replace(/(?![\t\n\r\u200c\u200d])[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu, (char) => {
    let escaped = "";
    for (let i = 0; i < char.length; i++) escaped += `\\u${char.charCodeAt(i).toString(16).padStart(4, "0")}`;
    return escaped;
  });
}
