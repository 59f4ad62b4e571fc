/**
 * The secret the gateway shares with coturn (`static-auth-secret`). It is held in a box that prints
 * as "[redacted]" (JSON, string, util.inspect), so a config or object logged by mistake does not
 * carry it; only `reveal()` gives the value, and only the credential minting calls it.
 */
import { readFileSync } from "node:fs";
import { inspect } from "node:util";

export class TurnSecret {
  readonly #value: string;

  constructor(value: string) {
    if (value.length === 0) throw new RangeError("TURN secret must not be empty");
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toJSON(): string {
    return "[redacted]";
  }

  toString(): string {
    return "[redacted]";
  }

  [inspect.custom](): string {
    return "TurnSecret [redacted]";
  }
}

/**
 * Reads `--turn-secret-file` once at start: the whole file, trimmed (a trailing newline is not part
 * of the secret). An unreadable or empty file is an Error with one line that names the file, never
 * its content.
 */
export function readTurnSecretFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code =
      error instanceof Error && "code" in error && typeof error.code === "string" ? error.code : "unreadable";
    throw new Error(`turnSecretFile: cannot read ${path} (${code})`);
  }
  const secret = text.trim();
  if (secret.length === 0) throw new Error(`turnSecretFile: ${path} is empty`);
  return secret;
}
