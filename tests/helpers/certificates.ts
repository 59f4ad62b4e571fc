/**
 * Throwaway certificate authorities and server certificates made with `openssl` in a test's temp
 * folder: a CA to trust (the agent's `--ca`, Node's default CAs, Chromium's NSS database) and
 * certificates it signs for the names the test connects to.
 */
import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { getCACertificates, setDefaultCACertificates } from "node:tls";
import { promisify } from "node:util";

const run = promisify(execFile);
const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

export type TestCa = { readonly name: string; readonly certFile: string; readonly keyFile: string };
export type ServerCertificate = {
  readonly certFile: string;
  readonly keyFile: string;
  /** SHA-256 fingerprint as Node's X509Certificate prints it (AA:BB:...). */
  readonly fingerprint256: string;
};

/** A self-signed CA named `name`, in `dir/<name>/`. */
export async function makeCa(dir: string, name: string): Promise<TestCa> {
  const folder = join(dir, name);
  await mkdir(folder, { recursive: true });
  const certFile = join(folder, "ca.pem");
  const keyFile = join(folder, "ca.key");
  await run(
    "openssl",
    ["req", "-x509", ...EC, "-keyout", keyFile, "-out", certFile, "-days", "30"].concat([
      "-subj",
      `/CN=${name}`,
    ]),
  );
  return { name, certFile, keyFile };
}

/**
 * A server certificate signed by `ca` for the given names (default: localhost and 127.0.0.1), in
 * `dir/<file>.pem` and `dir/<file>.key`.
 */
export async function issueCertificate(
  ca: TestCa,
  dir: string,
  file: string,
  names: { readonly dns?: readonly string[]; readonly ips?: readonly string[] } = {},
): Promise<ServerCertificate> {
  const dns = names.dns ?? ["localhost"];
  const ips = names.ips ?? ["127.0.0.1"];
  const certFile = join(dir, `${file}.pem`);
  const keyFile = join(dir, `${file}.key`);
  const csr = join(dir, `${file}.csr`);
  const ext = join(dir, `${file}.ext`);
  const san = [...dns.map((n) => `DNS:${n}`), ...ips.map((ip) => `IP:${ip}`)].join(",");
  await run("openssl", ["req", ...EC, "-keyout", keyFile, "-out", csr, "-subj", `/CN=${dns[0] ?? ips[0]}`]);
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
    "30",
    "-extfile",
    ext,
  ]);
  const fingerprint256 = new X509Certificate(await readFile(certFile)).fingerprint256;
  return { certFile, keyFile, fingerprint256 };
}

/**
 * This test process trusts `ca` from now on (fetch, ws, https): Node's default CA list plus it.
 * Child processes (the agent, the CLI) are not affected: they trust only what they are told.
 */
export function trustInThisProcess(ca: TestCa): void {
  setDefaultCACertificates([...getCACertificates("default"), readFileSync(ca.certFile, "utf8")]);
}
