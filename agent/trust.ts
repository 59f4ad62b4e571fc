/**
 * Which TLS certificates the agent trusts for its gateway: Node's roots (Mozilla's list and
 * `NODE_EXTRA_CA_CERTS`), the operating system's store (where a company deploys its own CA), plus
 * a CA given with `--ca <file>` (or `SOS_CA`) or baked into a branded build. Nothing turns verification off: a
 * certificate nobody vouches for ends the agent with `certificate_refused` and one clear line.
 */
import { readFileSync } from "node:fs";
import { getCACertificates } from "node:tls";
import { pemCertificates } from "../shared/pem.ts";
import { AgentError } from "./exit.ts";

/** The `ca` option of the agent's TLS connections. */
export type TrustedCas = { readonly ca: readonly string[] };

/** Reads `--ca <file>`; an unreadable or non-PEM file is a usage error (exit 2). */
export function readCaFile(file: string): string[] {
  try {
    return pemCertificates(readFileSync(file, "utf8"), file);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new AgentError("usage", `--ca ${file}: not a readable PEM certificate (${reason})`, { cause });
  }
}

/**
 * The CAs to trust: Node's default list, the system's store, and `extra` (the command line's and
 * the branded build's). Node's `ca` option replaces the default list, so it is named here in full.
 */
export function trustedCas(extra: readonly string[]): TrustedCas {
  return { ca: [...new Set([...getCACertificates("default"), ...systemStore(), ...extra])] };
}

/**
 * The operating system's trusted CAs (Windows certificate store, macOS keychain, Linux's OpenSSL
 * directory). A system whose store cannot be read still has Node's own list.
 */
function systemStore(): string[] {
  try {
    return getCACertificates("system");
  } catch {
    return [];
  }
}

/**
 * OpenSSL's and Node's codes for a certificate the client does not trust (verification, not a
 * network fault). https://www.openssl.org/docs/man3.0/man3/X509_STORE_CTX_get_error.html
 */
const CERTIFICATE_CODES = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_DECRYPT_CERT_SIGNATURE",
  "CERT_SIGNATURE_FAILURE",
  "CERT_NOT_YET_VALID",
  "CERT_HAS_EXPIRED",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "CERT_CHAIN_TOO_LONG",
  "INVALID_CA",
  "INVALID_PURPOSE",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "HOSTNAME_MISMATCH",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

/** The code of an error that says the gateway's certificate is not trusted; undefined otherwise. */
export function certificateProblem(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null || !("code" in error)) return undefined;
  const code = error.code;
  return typeof code === "string" && CERTIFICATE_CODES.has(code) ? code : undefined;
}
