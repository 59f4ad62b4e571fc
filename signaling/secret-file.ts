import { readFileSync } from "node:fs";

/**
 * Reads a secret given as a file (`--turn-secret-file`, `--metrics-token-file`) once at start: the
 * whole file, trimmed (a trailing newline is not part of the secret). An unreadable or empty file
 * is an Error with one line that starts with `option` and names the file, never its content.
 */
export function readSecretFile(option: string, path: string): string {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code =
      error instanceof Error && "code" in error && typeof error.code === "string" ? error.code : "unreadable";
    throw new Error(`${option}: cannot read ${path} (${code})`);
  }
  const secret = text.trim();
  if (secret.length === 0) throw new Error(`${option}: ${path} is empty`);
  return secret;
}
