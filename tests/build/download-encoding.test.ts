/**
 * The SOS download sent compressed (Content-Encoding: zstd or br) to a client that accepts it, plain
 * to one that does not, and resumable (Range) on the plain file; headless Chromium over https
 * saves exactly the executable's bytes. A stand-in file with build:sos's name keeps this fast (the
 * real win-x64 sizes are in `npm run bench:build`).
 */
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, watch } from "node:fs";
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import https from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { brotliDecompressSync, zstdDecompressSync } from "node:zlib";
import { chromium } from "playwright-core";
import t from "tap";
import { ENCODED_FOLDER } from "../../signaling/downloads/encoded-copies.ts";
import { CHROMIUM_ARGS, CHROMIUM_PATH } from "../helpers/browser.ts";
import { issueCertificate, makeCa, trustInThisProcess } from "../helpers/certificates.ts";
import { startTestGateway } from "../helpers/gateway.ts";
import { freePort, startNginx } from "../helpers/nginx.ts";

const run = promisify(execFile);
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

const dir = await mkdtemp(join(tmpdir(), "sos-download-encoding-"));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const ca = await makeCa(dir, "SOS test CA");
const certificate = await issueCertificate(ca, dir, "gateway");
trustInThisProcess(ca);

// 2 MiB that compress as an executable does, in part: repeated blocks of random bytes.
const block = randomBytes(256 * 1024);
const executable = Buffer.concat(
  Array.from({ length: 8 }, (_, i) => (i % 3 === 0 ? randomBytes(256 * 1024) : block)),
);
const downloads = join(dir, "downloads");
await mkdir(join(downloads, ENCODED_FOLDER), { recursive: true });
await writeFile(join(downloads, "Acme-SOS-win-x64.exe"), executable);
const copyOf = (bytes: Uint8Array, coding = "br") =>
  join(downloads, ENCODED_FOLDER, `${sha256(bytes)}.${coding}`);

type Answer = { status: number; headers: Record<string, string | undefined>; body: Buffer };

/** A GET that keeps the body as sent (fetch would decode Content-Encoding itself). */
function get(headers: Record<string, string>, from: string = url): Promise<Answer> {
  return new Promise((resolve, reject) => {
    https
      .get(from, { headers }, (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.once("error", reject);
        response.once("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: Object.fromEntries(
              Object.entries(response.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : v]),
            ),
            body: Buffer.concat(chunks),
          }),
        );
      })
      .once("error", reject);
  });
}

/** Resolves once the gateway has renamed the finished copy of `bytes` into place. */
function copyMade(bytes: Uint8Array = executable): Promise<void> {
  // br is made after zstd: both are there once it is.
  const copyPath = copyOf(bytes, "br");
  return new Promise((resolve) => {
    const watcher = watch(join(downloads, ENCODED_FOLDER), () => {
      if (existsSync(copyPath)) {
        watcher.close();
        resolve();
      }
    });
    if (existsSync(copyPath)) {
      watcher.close();
      resolve();
    }
  });
}

// The gateway compresses the builds already in its downloads folder once it listens.
const gw = await startTestGateway({
  config: {
    downloadsDir: downloads,
    tls: { certFile: certificate.certFile, keyFile: certificate.keyFile },
  },
});
t.teardown(() => gw.close());
await copyMade();
const session = await gw.newSession(gw.admin);
const url = `${gw.gateway.publicUrl}/s/${session.token}/download/win-x64`;
const name = `Acme-SOS-${session.token}.exe`;

t.test(
  "a client that accepts zstd or br gets that compressed copy; one that does not, the plain file",
  async (t) => {
    const zstd = await get({ "accept-encoding": "gzip, deflate, br, zstd" });
    t.equal(zstd.headers["content-encoding"], "zstd", "zstd first, where accepted (Chromium, Firefox)");
    t.equal(zstd.headers.vary, "accept-encoding");
    t.equal(Number(zstd.headers["content-length"]), zstd.body.length);
    t.equal(sha256(zstdDecompressSync(zstd.body)), sha256(executable), "decodes to the executable");
    const br = await get({ "accept-encoding": "gzip, deflate, br" });
    t.equal(br.status, 200);
    t.equal(br.headers["content-encoding"], "br");
    t.equal(br.headers.vary, "accept-encoding");
    t.equal(br.headers["content-disposition"], `attachment; filename="${name}"`, "the same file name");
    t.equal(Number(br.headers["content-length"]), br.body.length, "Content-Length of the compressed copy");
    t.ok(
      br.body.length < executable.length * 0.6,
      `compressed: ${br.body.length} of ${executable.length} bytes`,
    );
    t.equal(sha256(brotliDecompressSync(br.body)), sha256(executable), "decodes to the executable");

    for (const acceptEncoding of ["", "gzip, deflate", "br;q=0, zstd;q=0, gzip", "identity"]) {
      const plain = await get(acceptEncoding === "" ? {} : { "accept-encoding": acceptEncoding });
      t.equal(plain.status, 200);
      t.equal(
        plain.headers["content-encoding"],
        undefined,
        `${acceptEncoding || "no Accept-Encoding"}: plain`,
      );
      t.equal(plain.headers.vary, "accept-encoding");
      t.equal(plain.headers["content-disposition"], `attachment; filename="${name}"`);
      t.equal(Number(plain.headers["content-length"]), executable.length);
      t.equal(sha256(plain.body), sha256(executable));
    }
    const wildcard = await get({ "accept-encoding": "*" });
    t.equal(wildcard.headers["content-encoding"], "zstd", "* accepts any");
  },
);

t.test(
  "a resume (Range) gets bytes of the plain file; one of the compressed form starts again",
  async (t) => {
    const first = await get({ "accept-encoding": "identity" });
    const etag = first.headers.etag ?? "";
    t.equal(first.headers["accept-ranges"], "bytes");
    const rest = await get({ "accept-encoding": "gzip, br", range: "bytes=1000000-", "if-range": etag });
    t.equal(rest.status, 206);
    t.equal(rest.headers["content-encoding"], undefined, "a range is of the plain file");
    t.equal(rest.headers["content-range"], `bytes 1000000-${executable.length - 1}/${executable.length}`);
    t.ok(rest.body.equals(executable.subarray(1_000_000)), "the rest of the plain file");

    const compressed = await get({ "accept-encoding": "br" });
    t.equal(compressed.headers["accept-ranges"], "none");
    const compressedTag = compressed.headers.etag ?? "";
    t.not(compressedTag, etag, "the compressed form has its own ETag");
    const again = await get({ "accept-encoding": "br", range: "bytes=1000-", "if-range": compressedTag });
    t.equal(again.status, 200, "If-Range of the compressed form: the whole download again");
    t.equal(sha256(brotliDecompressSync(again.body)), sha256(executable));
  },
);

t.test("headless Chromium over https saves exactly the executable, sent compressed", async (t) => {
  const home = join(dir, "chromium");
  const nssdb = `sql:${join(home, ".pki", "nssdb")}`;
  await mkdir(join(home, ".pki", "nssdb"), { recursive: true });
  await run("certutil", ["-N", "-d", nssdb, "--empty-password"]);
  await run("certutil", ["-A", "-d", nssdb, "-n", "SOS test CA", "-t", "C,,", "-i", ca.certFile]);
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: CHROMIUM_ARGS,
    headless: true,
    env: { ...process.env, HOME: home },
  });
  t.teardown(() => browser.close());
  const context = await browser.newContext({
    acceptDownloads: true,
    userAgent:
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0",
  });
  const page = await context.newPage();
  await page.goto(`${gw.gateway.publicUrl}/s/${session.token}`);
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("link", { name: "Download the SOS app for Windows" }).click(),
  ]);
  t.equal(download.suggestedFilename(), name, "saved under the name with the session code");
  const saved = await readFile(await download.path());
  t.equal(saved.length, executable.length);
  t.equal(sha256(saved), sha256(executable), "the saved file is the executable, byte for byte");

  // What Chromium's network stack got, seen by a page of the same origin (the landing page's CSP
  // allows no fetch; downloads raise no response event in playwright).
  await page.goto(`${gw.gateway.publicUrl}/healthz`);
  const seen = await page.evaluate(async (href) => {
    const response = await fetch(href);
    const bytes = new Uint8Array(await response.arrayBuffer());
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    return {
      encoding: response.headers.get("content-encoding"),
      sha256: Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join(""),
    };
  }, `/s/${session.token}/download/win-x64`);
  t.same(
    seen,
    { encoding: "zstd", sha256: sha256(executable) },
    "Chromium gets it zstd-encoded (it accepts zstd over https) and decodes it",
  );
});

t.test("through nginx (deploy/nginx/sos-gateway.conf) the compressed form arrives as sent", async (t) => {
  const httpsPort = await freePort();
  const publicUrl = `https://localhost:${httpsPort}`;
  const plainGateway = await startTestGateway({
    config: { downloadsDir: downloads, publicUrl, trustProxy: ["127.0.0.1"] },
  });
  t.teardown(() => plainGateway.close());
  const nginx = await startNginx(await mkdtemp(join(dir, "nginx-")), {
    serverName: "localhost",
    httpListen: `127.0.0.1:${await freePort()}`,
    httpsListen: `127.0.0.1:${httpsPort}`,
    cert: certificate.certFile,
    key: certificate.keyFile,
    gateway: new URL(plainGateway.url).host,
    publicUrl,
  });
  t.teardown(() => nginx.stop());
  const proxied = await plainGateway.newSession(plainGateway.admin);
  const through = `${publicUrl}/s/${proxied.token}/download/win-x64`;
  const br = await get({ "accept-encoding": "gzip, br" }, through);
  t.equal(br.headers["content-encoding"], "br", "not decoded nor compressed again");
  t.equal(Number(br.headers["content-length"]), br.body.length);
  t.equal(sha256(brotliDecompressSync(br.body)), sha256(executable));
  const plain = await get({ "accept-encoding": "gzip" }, through);
  t.equal(plain.headers["content-encoding"], undefined, "plain for a client without br");
  t.equal(sha256(plain.body), sha256(executable));
  const range = await get({ range: "bytes=-1000" }, through);
  t.equal(range.status, 206, "Range passes through");
  t.ok(range.body.equals(executable.subarray(-1000)));
});

t.test(
  "a rebuilt file is never sent as the old copy; its own copy is made, the old one removed",
  async (t) => {
    const rebuilt = Buffer.concat([executable.subarray(0, 1_500_000), randomBytes(100_000)]);
    const staged = join(dir, "rebuilt.exe");
    await writeFile(staged, rebuilt);
    // As build:sos and the console's builds put a file in place: renamed over the old one.
    await rename(staged, join(downloads, "Acme-SOS-win-x64.exe"));
    const first = await get({ "accept-encoding": "br" });
    t.equal(first.headers["content-encoding"], undefined, "plain until its copy is made");
    t.equal(sha256(first.body), sha256(rebuilt));
    await copyMade(rebuilt);
    const second = await get({ "accept-encoding": "br" });
    t.equal(second.headers["content-encoding"], "br");
    t.equal(sha256(brotliDecompressSync(second.body)), sha256(rebuilt), "the new build, compressed");
    t.notOk(existsSync(copyOf(executable, "br")), "the old build's copies are gone");
    t.notOk(existsSync(copyOf(executable, "zstd")));
  },
);
