import { execFile } from "node:child_process";
import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/**
 * The admin's code-signing certificate: a PEM certificate (chain) with its PEM key, or a PKCS#12
 * file (.pfx/.p12) holding both. A PKCS#12 password comes from the environment
 * (SOS_SIGN_PASSWORD), never from the command line, where other users can read it.
 */
export type SigningIdentity = { cert: string; key?: string | undefined; password?: string | undefined };

export function isPkcs12(path: string): boolean {
  return /\.(pfx|p12)$/i.test(path);
}

/**
 * Signs a Windows executable in place with osslsigncode (Authenticode, SHA-256). No timestamp: a
 * timestamp server is a network service the build machine may not reach; without one the
 * signature stops verifying when the certificate expires.
 */
export async function signWindowsExecutable(
  file: string,
  identity: SigningIdentity,
  description: string,
): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), "sos-sign-"));
  try {
    const args = ["sign", "-h", "sha256", "-n", description];
    if (isPkcs12(identity.cert)) {
      args.push("-pkcs12", identity.cert);
      if (identity.password !== undefined) {
        const passFile = join(work, "pass");
        writeFileSync(passFile, identity.password, { mode: 0o600 });
        args.push("-readpass", passFile);
      }
    } else {
      if (identity.key === undefined) throw new Error("a PEM certificate needs --sign-key");
      args.push("-certs", identity.cert, "-key", identity.key);
    }
    const signed = `${file}.signing`;
    args.push("-in", file, "-out", signed);
    try {
      await run("osslsigncode", args, { maxBuffer: 4 * 1024 * 1024 });
    } catch (error) {
      const detail =
        error instanceof Error && "stderr" in error ? String(error.stderr).trim() : String(error);
      rmSync(signed, { force: true });
      throw new Error(`osslsigncode could not sign ${file}: ${detail}`, { cause: error });
    }
    renameSync(signed, file);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
