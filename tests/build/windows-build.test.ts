import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import t from "tap";
import { BAKED_GATEWAY, buildWindows, runCommand } from "./built-executable.ts";
import { readPe } from "./pe-file.ts";

const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), "sos-win-build-test-"));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

// What end users get: Node 24's node.exe with the SEA blob. (Wine 8 cannot run it; the Wine tests
// use a Node 22 build, tests/build/windows-exe.test.ts.)
const { executable, result: build } = await buildWindows(join(work, "dist"));
const bytes = readFileSync(executable);
const pe = readPe(bytes);

/** The executable's SEA blob: the NODE_SEA_BLOB resource postject injected. */
function seaBlob(file: Buffer): Buffer {
  const resource = readPe(file).resources.find((r) => r.name === "NODE_SEA_BLOB");
  if (resource === undefined) throw new Error("no NODE_SEA_BLOB resource");
  return file.subarray(resource.offset, resource.offset + resource.size);
}

t.test("build:sos --target win-x64 builds from registry packages and lists size and gzip size", async (t) => {
  t.equal(build.code, 0, build.stderr);
  t.match(
    build.stdout,
    /^win-x64\s+\S+Acme-IT-SOS-win-x64\.exe\s+[\d.]+ MiB\s+[\d.]+ MiB\s+[0-9a-f]{64}$/m,
    "the table's row for win-x64",
  );
  t.match(
    build.stderr,
    /win-x64: checking the registry for Node 24\.\d+\.\d+ /,
    "Node 24, what end users get",
  );
});

t.test("the executable is a 64-bit console PE with the SEA blob as its NODE_SEA_BLOB resource", async (t) => {
  t.equal(pe.machine, 0x8664, "x64");
  t.equal(pe.magic, 0x20b, "PE32+");
  t.equal(pe.subsystem, 3, "a console program: double-clicked, Windows opens a console window");
  const blob = pe.resources.filter((r) => r.name === "NODE_SEA_BLOB");
  t.equal(blob.length, 1, "one NODE_SEA_BLOB resource");
  t.equal(blob[0]?.type, 10, "of type RT_RCDATA, where Node's SEA loader looks");
  t.ok(
    bytes.includes("NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2:1"),
    "the SEA fuse is flipped, so node.exe runs the blob",
  );
  t.same(pe.certificate, { offset: 0, size: 0 }, "node.exe's own signature was removed, not left broken");
  const manifest = pe.resources.find((r) => r.type === 24);
  if (manifest === undefined) throw new Error("no manifest");
  t.match(
    bytes.toString("utf8", manifest.offset, manifest.offset + manifest.size),
    /<dpiAwareness [^>]*>PerMonitorV2<\/dpiAwareness>/,
    "its manifest makes the process per-monitor DPI aware",
  );
});

t.test(
  "the blob carries the config, the bundle, the Windows addons (koffi's alone of its platforms) and ffmpeg.exe with its hash",
  async (t) => {
    const blob = seaBlob(bytes);
    t.ok(blob.includes(`"gateway":"${BAKED_GATEWAY}"`), "the baked config.json");
    for (const path of [
      "app.mjs",
      "capture-worker.mjs",
      "input-worker.mjs",
      "ffmpeg.json",
      "node_modules/node-screenshots-win32-x64-msvc/",
      "node_modules/@nut-tree-fork/libnut-win32/",
      "node_modules/@ffmpeg-installer/win32-x64/ffmpeg.exe",
    ]) {
      t.ok(blob.includes(`"path":"${path}`), `the manifest lists ${path}`);
    }
    t.ok(
      blob.includes('"path":"node_modules/koffi/build/koffi/win32_x64/koffi.node"'),
      "koffi's Windows addon (the user32 calls: clipboard, input desktop)",
    );
    t.notOk(
      /"path":"node_modules\/koffi\/(?!build\/koffi\/win32_x64\/|index\.js"|package\.json"|LICENSE\.txt")/.test(
        blob.toString("latin1"),
      ),
      "and nothing else of koffi's 18 platforms",
    );
    t.notOk(blob.includes("webcodecs-linux-x64-gnu"), "no Linux encoder addon in a Windows build");
    t.notOk(blob.includes('"path":"node_modules/@napi-rs/webcodecs'), "and no WebCodecs package at all");
    t.notOk(/from\s*"@napi-rs\/webcodecs"/.test(blob.toString("latin1")), "the bundle never imports it");
    // The registry's ffmpeg.exe, as the build fetched it: its bytes are in the blob.
    const ffmpeg = readFileSync(
      join(
        "node_modules",
        ".cache",
        "sos-build",
        "packages",
        "@ffmpeg-installer+win32-x64@4.1.0",
        "ffmpeg.exe",
      ),
    );
    const middle = Math.floor(ffmpeg.byteLength / 2);
    t.ok(blob.byteLength > ffmpeg.byteLength, "the blob is larger than ffmpeg.exe");
    t.ok(blob.includes(ffmpeg.subarray(middle, middle + 65_536)), "ffmpeg.exe's bytes are in the blob");
    const sha256 = createHash("sha256").update(ffmpeg).digest("hex");
    t.ok(
      blob.includes(JSON.stringify({ path: "node_modules/@ffmpeg-installer/win32-x64/ffmpeg.exe", sha256 })),
      "ffmpeg.json names ffmpeg.exe with its SHA-256, which the agent checks before running it",
    );
  },
);

t.test(
  "with --sign-cert and --sign-key the executable carries a signature osslsigncode verifies",
  async (t) => {
    const keys = join(work, "keys");
    await run("mkdir", ["-p", keys]);
    await run("openssl", [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-subj",
      "/CN=Acme IT test signing",
      "-days",
      "2",
      "-addext",
      "extendedKeyUsage=codeSigning",
      "-keyout",
      join(keys, "key.pem"),
      "-out",
      join(keys, "cert.pem"),
    ]);
    const signed = await buildWindows(join(work, "signed"), [
      "--sign-cert",
      join(keys, "cert.pem"),
      "--sign-key",
      join(keys, "key.pem"),
    ]);
    t.match(signed.result.stderr, /win-x64: signing /);
    const verify = await runCommand("osslsigncode", [
      "verify",
      "-in",
      signed.executable,
      "-CAfile",
      join(keys, "cert.pem"),
    ]);
    t.equal(verify.code, 0, verify.stdout + verify.stderr);
    t.match(verify.stdout, /Subject: \/CN=Acme IT test signing/);
    t.match(verify.stdout, /Signature verification: ok/);
    const file = readFileSync(signed.executable);
    t.ok(readPe(file).certificate.size > 0, "the certificate table is filled");
    t.ok(seaBlob(file).equals(seaBlob(bytes)), "signing left the SEA blob as it was");
    const unsigned = await runCommand("osslsigncode", ["verify", "-in", executable]);
    t.match(unsigned.stdout + unsigned.stderr, /No signature found/, "the unsigned build says so");
  },
);

t.test("signing options are checked before building", async (t) => {
  for (const [args, reason] of [
    [["--sign-key", "key.pem"], /--sign-key needs --sign-cert/],
    [["--sign-cert", "cert.pem"], /a PEM --sign-cert needs --sign-key/],
    [["--node-version", "22"], /nodeVersion: a version like 22\.23\.3/],
  ] as const) {
    const refused = await runCommand(process.execPath, [
      "build/cli.ts",
      "--gateway",
      "https://sos.example.com",
      "--target",
      "win-x64",
      "--out",
      join(work, "refused"),
      ...args,
    ]);
    t.equal(refused.code, 2, args.join(" "));
    t.match(refused.stderr, reason);
  }
});
