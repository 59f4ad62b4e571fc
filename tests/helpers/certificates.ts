/**
 * Throwaway CAs and server certificates in a test's temp folder (the openssl steps are
 * scripts/certificates.ts, shared with `npm run turn`), and trusting a CA in this test process.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { getCACertificates, setDefaultCACertificates } from "node:tls";
import { type CertificateAuthority, createCa } from "../../scripts/certificates.ts";

export { issueCertificate, type ServerCertificate } from "../../scripts/certificates.ts";
export type TestCa = CertificateAuthority;

/** A self-signed CA named `name`, in `dir/<name>/`. */
export function makeCa(dir: string, name: string): Promise<TestCa> {
  return createCa(join(dir, name), name);
}

/**
 * This test process trusts `ca` from now on (fetch, ws, https): Node's default CA list plus it.
 * Child processes (the agent, the CLI) are not affected: they trust only what they are told.
 */
export function trustInThisProcess(ca: TestCa): void {
  setDefaultCACertificates([...getCACertificates("default"), readFileSync(ca.certFile, "utf8")]);
}
