/** "123456789" -> "123 456 789": a PIN grouped in threes, easier to read aloud. */
export function groupPin(pin: string): string {
  return pin.replace(/\D/g, "").replace(/(\d{3})(?=\d)/g, "$1 ");
}

/** Bytes as MiB with one decimal in the console's language: 201326592 -> "192.0" / "192,0". */
export function formatMiB(lang: string, bytes: number): string {
  return new Intl.NumberFormat(lang, { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(
    bytes / 2 ** 20,
  );
}

/** A POSIX shell word in double quotes: `\`, `"`, `$` and backquotes escaped. */
export function doubleQuoted(value: string): string {
  return `"${value.replace(/[\\"$`]/g, "\\$&")}"`;
}

/** A POSIX shell word, quoted only when it needs to be. */
export function shellWord(value: string): string {
  return /^[\w./:@%+=,-]+$/.test(value) ? value : doubleQuoted(value);
}

/** The `build:sos` command that puts a branded build for this gateway into its downloads folder. */
export function buildCommand(options: { gateway: string; brand: string; out: string }): string {
  return `npm run build:sos -- --gateway ${shellWord(options.gateway)} --brand ${doubleQuoted(options.brand)} --out ${shellWord(options.out)}`;
}

/** Bytes as GiB with one decimal and the unit, in the console's language: "15.5 GiB" / "15,5 GiB". */
export function formatGiB(lang: string, bytes: number): string {
  const number = new Intl.NumberFormat(lang, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  return `${number.format(bytes / 2 ** 30)} GiB`;
}
