/**
 * The gateway's own TLS: the certificate and key files, read at start and again on SIGHUP. A reload
 * swaps the secure context of the listening server, so new connections get the new certificate and
 * open ones (agents, consoles, remote views) keep theirs. A pair that does not load (unreadable,
 * not PEM, key and certificate not matching, expired) refuses to start, and on reload leaves the
 * previous certificate in place.
 */

import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import type { RequestListener } from "node:http";
import { createServer, type Server, type ServerOptions } from "node:https";
import { createSecureContext, type SecureContextOptions } from "node:tls";

export type TlsFiles = { readonly certFile: string; readonly keyFile: string };

/** What an admin reads in the log about the certificate in use. */
export type CertificateInfo = {
  readonly subject: string;
  readonly validTo: string;
  /** SHA-256 of the leaf certificate, as `openssl x509 -fingerprint -sha256` prints it. */
  readonly fingerprint256: string;
};

type Loaded = { readonly context: SecureContextOptions; readonly info: CertificateInfo };

function readPem(file: string, what: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new Error(`cannot read the TLS ${what} ${file}: ${reason}`, { cause });
  }
}

/** Reads and checks a certificate/key pair; throws an Error with one line for the admin. */
export function loadTlsFiles(files: TlsFiles, now: number = Date.now()): Loaded {
  const cert = readPem(files.certFile, "certificate");
  const key = readPem(files.keyFile, "key");
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert);
  } catch (cause) {
    throw new Error(`${files.certFile} is not a PEM certificate`, { cause });
  }
  try {
    // Throws on a key that is not PEM or does not belong to the certificate ("key values mismatch").
    createSecureContext({ cert, key });
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new Error(`the TLS key ${files.keyFile} does not fit ${files.certFile}: ${reason}`, { cause });
  }
  if (Date.parse(leaf.validTo) < now) {
    throw new Error(`the TLS certificate ${files.certFile} expired on ${leaf.validTo}`);
  }
  return {
    context: { cert, key },
    info: {
      subject: leaf.subject.replaceAll("\n", ", "),
      validTo: leaf.validTo,
      fingerprint256: leaf.fingerprint256,
    },
  };
}

/** The https server fastify runs on, and the reload of its certificate. */
export class TlsServer {
  readonly #files: TlsFiles;
  #info: CertificateInfo;
  #context: SecureContextOptions;
  #server: Server | undefined;

  constructor(files: TlsFiles) {
    this.#files = files;
    const loaded = loadTlsFiles(files);
    this.#info = loaded.info;
    this.#context = loaded.context;
  }

  get certificate(): CertificateInfo {
    return this.#info;
  }

  /** For fastify's `serverFactory`: the https server with the certificate loaded at start. */
  create(handler: RequestListener): Server {
    const options: ServerOptions = { ...this.#context, minVersion: "TLSv1.2" };
    this.#server = createServer(options, handler);
    return this.#server;
  }

  /**
   * Reads the files again and serves the new pair to new connections; open connections stay as
   * they are. Throws (and keeps the previous pair) when the new files do not load.
   */
  reload(): CertificateInfo {
    const loaded = loadTlsFiles(this.#files);
    this.#server?.setSecureContext({ ...loaded.context, minVersion: "TLSv1.2" });
    this.#context = loaded.context;
    this.#info = loaded.info;
    return loaded.info;
  }
}
