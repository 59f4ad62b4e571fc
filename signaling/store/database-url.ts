import { inspect } from "node:util";

/**
 * `--database-url` / `SOS_DATABASE_URL`: a PostgreSQL connection URL. It is held in a box that
 * prints with its password replaced (JSON, string, util.inspect), so a config or log line never
 * carries the password; only `reveal()` gives the whole URL, and only the pool calls it.
 */
export class DatabaseUrl {
  readonly #value: string;
  readonly #redacted: string;

  constructor(value: string) {
    const url = new URL(value);
    if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
      throw new RangeError("the database URL must start with postgres:// or postgresql://");
    }
    this.#value = value;
    this.#redacted = redactPassword(url);
  }

  reveal(): string {
    return this.#value;
  }

  toJSON(): string {
    return this.#redacted;
  }

  toString(): string {
    return this.#redacted;
  }

  [inspect.custom](): string {
    return `DatabaseUrl ${this.#redacted}`;
  }
}

/** The URL with its password (in the authority or as a `password` parameter) replaced by `***`. */
function redactPassword(url: URL): string {
  const copy = new URL(url.href);
  if (copy.password !== "") copy.password = "***";
  if (copy.searchParams.has("password")) copy.searchParams.set("password", "***");
  return copy.href;
}
