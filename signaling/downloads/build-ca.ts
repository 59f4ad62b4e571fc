import { readFileSync } from "node:fs";
import { pemCertificates } from "../../shared/pem.ts";

/**
 * Checks `--build-ca <file>` at start, so a wrong file refuses the start instead of failing every
 * console build later: it must hold at least one PEM certificate, each parseable. Returns the file.
 */
export function checkBuildCa(file: string): string {
  try {
    pemCertificates(readFileSync(file, "utf8"), file);
  } catch (cause) {
    throw new Error(
      `--build-ca ${file}: not a readable PEM certificate (${cause instanceof Error ? cause.message : cause})`,
      {
        cause,
      },
    );
  }
  return file;
}
