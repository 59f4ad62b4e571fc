/**
 * The secret the gateway shares with coturn (`static-auth-secret`). It is held in a box that prints
 * as "[redacted]" (JSON, string, util.inspect), so a config or object logged by mistake does not
 * carry it; only `reveal()` gives the value, and only the credential minting calls it.
 */
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
