/**
 * Throwaway CAs and certificates for tests (made by scripts/certificates.ts, shared with
 * `npm run turn`), and trusting a CA in this test process.
 */
import { readFileSync } from "node:fs";
import { getCACertificates, setDefaultCACertificates } from "node:tls";
import type { TestCa } from "../../scripts/certificates.ts";

export { issueCertificate, makeCa, type ServerCertificate, type TestCa } from "../../scripts/certificates.ts";

/**
 * This test process trusts `ca` from now on (fetch, ws, https): Node's default CA list plus it.
 * Child processes (the agent, the CLI) are not affected: they trust only what they are told.
 */
export function trustInThisProcess(ca: TestCa): void {
  setDefaultCACertificates([...getCACertificates("default"), readFileSync(ca.certFile, "utf8")]);
}
