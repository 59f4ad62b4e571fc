import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t from "tap";
import { downloadsDir } from "../../agent/files/downloads-dir.ts";
import { IncomingFile } from "../../agent/files/incoming-file.ts";
import { numberedName, sanitizeFileName } from "../../shared/file-names.ts";
import { decodeFileChunk, encodeFileChunk, FILE_CHUNK_BYTES } from "../../shared/file-transfer.ts";
import { MAX_FILE_NAME_CHARS } from "../../shared/limits.ts";

/** Names from the other side never leave the download folder, name a device, or carry controls. */

t.test("hostile names are sanitized", async (t) => {
  const cases: Array<[string, string]> = [
    ["../../etc/passwd", "passwd"],
    ["..\\..\\Windows\\system.ini", "system.ini"],
    ["..", "file"],
    ["", "file"],
    ["/", "file"],
    [".bashrc", "bashrc"],
    ["CON", "_CON"],
    ["nul.txt", "_nul.txt"],
    ["com1", "_com1"],
    ["LPT9.tar.gz", "_LPT9.tar.gz"],
    ["CONSOLE.txt", "CONSOLE.txt"],
    ["report\nrm -rf.txt", "report_rm -rf.txt"],
    ["a\u001b[31mred\u001b[0m.txt", "a_[31mred_[0m.txt"],
    ["evil\u202etxt.exe", "evil_txt.exe"],
    ['what?<>:"|*.txt', "what_______.txt"],
    ["trailing. . .", "trailing"],
    ["Bericht März.pdf", "Bericht März.pdf"],
  ];
  for (const [raw, expected] of cases) t.equal(sanitizeFileName(raw), expected, JSON.stringify(raw));
  const long = `${"x".repeat(500)}.log`;
  const cut = sanitizeFileName(long);
  t.equal(Array.from(cut).length, MAX_FILE_NAME_CHARS, "a long name is cut to the limit");
  t.ok(cut.endsWith(".log"), "keeping its extension");
});

t.test("never overwrite: numbered names", async (t) => {
  t.equal(numberedName("report.pdf", 0), "report.pdf");
  t.equal(numberedName("report.pdf", 1), "report (1).pdf");
  t.equal(numberedName("archive.tar.gz", 2), "archive.tar (2).gz");
  t.equal(numberedName("README", 3), "README (3)");
});

t.test("an incoming file appears under its final name only when whole and matching", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "sos-files-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const data = Buffer.from("hello, end user\n");
  const sha = createHash("sha256").update(data).digest("hex");
  await writeFile(join(dir, "note.txt"), "already here");

  const good = new IncomingFile(dir, "../note.txt", data.length, sha);
  await good.open();
  t.ok(good.write(data));
  t.same(
    await readdir(dir).then((names) => names.filter((n) => !n.startsWith("."))),
    ["note.txt"],
    "nothing final while it arrives",
  );
  const saved = await good.finish();
  t.same(saved, { path: join(dir, "note (1).txt") }, "the existing file is not overwritten");
  t.equal(await readFile(join(dir, "note.txt"), "utf8"), "already here");
  t.same(await readFile(join(dir, "note (1).txt")), data);

  const bad = new IncomingFile(dir, "bad.txt", data.length, "0".repeat(64));
  await bad.open();
  bad.write(data);
  t.same(await bad.finish(), { code: "HASH_MISMATCH" });
  const cancelled = new IncomingFile(dir, "half.txt", 100, sha);
  await cancelled.open();
  cancelled.write(data);
  await cancelled.abort();
  const tooMuch = new IncomingFile(dir, "more.txt", 2, sha);
  await tooMuch.open();
  t.notOk(tooMuch.write(data), "more bytes than offered are refused");
  await tooMuch.abort();
  t.same(
    (await readdir(dir)).sort(),
    ["note (1).txt", "note.txt"],
    "no partial or failed file, no temporary file left",
  );
});

t.test("binary frames carry the transfer's id", async (t) => {
  const frame = encodeFileChunk(0xdeadbeef, new Uint8Array([1, 2, 3]));
  t.same(decodeFileChunk(frame), { id: 0xdeadbeef, data: new Uint8Array([1, 2, 3]) });
  t.equal(decodeFileChunk(new Uint8Array(2)), undefined, "too short");
  t.equal(decodeFileChunk(new Uint8Array(FILE_CHUNK_BYTES + 5)), undefined, "too long");
});

t.test("the download folder: --files-dir, else XDG, else ~/Downloads", async (t) => {
  const home = await mkdtemp(join(tmpdir(), "sos-home-"));
  t.teardown(() => rm(home, { recursive: true, force: true }));
  t.equal(downloadsDir("/srv/in", {}, home, "linux"), "/srv/in");
  t.equal(downloadsDir(undefined, {}, home, "linux"), join(home, "Downloads"));
  await writeFile(join(home, "user-dirs.dirs"), 'XDG_DOWNLOAD_DIR="$HOME/Herunterladen"\n');
  t.equal(downloadsDir(undefined, { XDG_CONFIG_HOME: home }, home, "linux"), join(home, "Herunterladen"));
  t.equal(downloadsDir(undefined, { XDG_CONFIG_HOME: home }, home, "win32"), join(home, "Downloads"));
});
