import { X509Certificate } from "node:crypto";

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * The certificates of a PEM text, each parsed (so a damaged one is refused here, not at the first
 * TLS handshake); throws on a text without any. `source` names it in the error.
 */
export function pemCertificates(text: string, source: string): string[] {
  const blocks = text.match(PEM_BLOCK) ?? [];
  if (blocks.length === 0) throw new Error(`${source} holds no PEM certificate`);
  for (const block of blocks) new X509Certificate(block);
  return blocks;
}
