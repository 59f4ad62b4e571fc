/**
 * Throwaway certificate authorities and the server certificates they sign, made with `openssl`
 * (EC P-256, 30 days): a CA for clients to trust (the agent's `--ca`, NODE_EXTRA_CA_CERTS,
 * Chromium's NSS database) and certificates for the names they connect to. `npm run turn` makes
 * coturn's TLS certificate with it (coturn-process.ts), the tests their CAs (tests/helpers/certificates.ts).
 */
import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
const DAYS = "30";

export type CertificateAuthority = {
  /** Its common name. */
  readonly name: string;
  readonly certFile: string;
  readonly keyFile: string;
};

export type ServerCertificate = {
  readonly certFile: string;
  readonly keyFile: string;
  /** SHA-256 fingerprint as Node's X509Certificate prints it (AA:BB:...). */
  readonly fingerprint256: string;
};

export type CertificateNames = { readonly dns?: readonly string[]; readonly ips?: readonly string[] };

/** A self-signed CA with the common name `name`: `folder/ca.pem` and `folder/ca.key`. */
export async function createCa(folder: string, name: string): Promise<CertificateAuthority> {
  await mkdir(folder, { recursive: true });
  const certFile = join(folder, "ca.pem");
  const keyFile = join(folder, "ca.key");
  await run("openssl", [
    "req",
    "-x509",
    ...EC,
    "-keyout",
    keyFile,
    "-out",
    certFile,
    "-days",
    DAYS,
    "-subj",
    `/CN=${name}`,
  ]);
  return { name, certFile, keyFile };
}

/**
 * A server certificate signed by `ca` for the given DNS names and IP addresses (default: localhost
 * and 127.0.0.1): `dir/<file>.pem` and `dir/<file>.key`.
 */
export async function issueCertificate(
  ca: CertificateAuthority,
  dir: string,
  file: string,
  names: CertificateNames = {},
): Promise<ServerCertificate> {
  const dns = names.dns ?? ["localhost"];
  const ips = names.ips ?? ["127.0.0.1"];
  const certFile = join(dir, `${file}.pem`);
  const keyFile = join(dir, `${file}.key`);
  const csr = join(dir, `${file}.csr`);
  const ext = join(dir, `${file}.ext`);
  const san = [...dns.map((n) => `DNS:${n}`), ...ips.map((ip) => `IP:${ip}`)].join(",");
  const subject = `/CN=${dns[0] ?? ips[0] ?? file}`;
  await run("openssl", ["req", ...EC, "-keyout", keyFile, "-out", csr, "-subj", subject]);
  await writeFile(ext, `subjectAltName=${san}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`);
  await run("openssl", [
    "x509",
    "-req",
    "-in",
    csr,
    "-CA",
    ca.certFile,
    "-CAkey",
    ca.keyFile,
    "-CAcreateserial",
    "-out",
    certFile,
    "-days",
    DAYS,
    "-extfile",
    ext,
  ]);
  const fingerprint256 = new X509Certificate(await readFile(certFile)).fingerprint256;
  return { certFile, keyFile, fingerprint256 };
}
